// A `sweep serve` for the node tests: started on a free loopback port in a home of its
// own, waited for with a deadline (its "listening on" line, then GET /health), and
// stopped by its pid (SIGTERM, then SIGKILL after 30 s). Not a test file itself.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Polls check every 50 ms until it is true, or throws after `seconds` naming `what`
// and the text context() gives (the service's output).
export async function waitFor(what, seconds, check, context = () => '') {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${context()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// Starts `sweep serve --bind 127.0.0.1:0 ARGS` with SWEEP_HOME in a new directory
// (named after prefix); with a token, it is written to a file passed as --token-file.
// Returns {dir, child, url, log} (log grows with the service's stdout and stderr).
export async function startServe(prefix, args, token) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const extra = [];
  if (token) {
    fs.writeFileSync(path.join(dir, 'token'), `${token}\n`);
    extra.push('--token-file', path.join(dir, 'token'));
  }
  const svc = { dir, url: null, log: '' };
  svc.child = spawn(process.env.SWEEP_BIN, ['serve', '--bind', '127.0.0.1:0', ...args,
    ...extra], { env: { ...process.env, SWEEP_HOME: path.join(dir, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'] });
  svc.child.stdout.on('data', (d) => { svc.log += d; });
  svc.child.stderr.on('data', (d) => { svc.log += d; });
  const context = () => svc.log;
  await waitFor('listening on', 20, () => /listening on (http:\S+)/.test(svc.log), context);
  svc.url = svc.log.match(/listening on (http:\S+)/)[1];
  await waitFor('/health', 20,
    async () => (await fetch(svc.url + '/health').catch(() => null))?.ok, context);
  return svc;
}

// SIGTERM, then the exit waited for (30 s, then SIGKILL); the home removed. Returns
// the exit code (or the signal's name), for the caller to check that it is 0.
export async function stopServe(svc) {
  let code = svc.child.exitCode;
  if (code === null) {
    const exited = new Promise((r) => svc.child.once('exit', (c, sig) => r(sig || c)));
    svc.child.kill('SIGTERM');
    const timer = setTimeout(() => svc.child.kill('SIGKILL'), 30000);
    code = await exited;
    clearTimeout(timer);
  }
  fs.rmSync(svc.dir, { recursive: true, force: true });
  return code;
}
