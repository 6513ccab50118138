/* Early failures (runner_int.h): a task that fails at once (exit code 1, 2, 126 or
 * 127 within EARLY_WINDOW) has the first lines of its stderr shown on
 * runner_opts.notes, each distinct one once (its directory and key taken out to
 * compare), up to EARLY_SHOWN per run, with a hint when it says a file is missing. */
#include "runner_int.h"

#include "common/strbuf.h"
#include "common/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define EARLY_WINDOW 1.0 /* a task failing this soon (seconds) shows its stderr */
#define EARLY_LINES 5    /* lines of stderr shown */
#define EARLY_WIDTH 160  /* bytes of each line shown */

/* ---- early failures ---- */

/* Appends the first EARLY_LINES lines of a task's stderr.log to sb, each indented and
 * cut to EARLY_WIDTH bytes (at a UTF-8 boundary), control characters shown as '?'. */
static void early_excerpt(const char *path, const char *key, struct strbuf *sb)
{
    char buf[8192];
    FILE *f = fopen(path, "re");
    size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0, lines = 0;
    const char *p = buf, *end = buf + n;

    if (f)
        fclose(f);
    buf[n] = '\0';
    while (p < end && lines < EARLY_LINES) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p), w = len;

        if (w > EARLY_WIDTH) {
            w = EARLY_WIDTH;
            while (w > 0 && ((unsigned char)p[w] & 0xC0) == 0x80)
                w--;
        }
        sb_adds(sb, "    ");
        for (size_t i = 0; i < w; i++)
            sb_addc(sb, (unsigned char)p[i] < 0x20 && p[i] != '\t' ? '?' : p[i]);
        sb_adds(sb, w < len ? " ...\n" : "\n");
        lines++;
        p = nl ? nl + 1 : end;
    }
    if (lines == 0)
        sb_adds(sb, "    (nothing)\n");
    else if (p < end || n == sizeof(buf) - 1)
        sb_addf(sb, "    ... (all of it: sweep logs %s --stderr)\n", key);
}

/* s with every occurrence of what replaced by with (a new string). */
static char *early_replace(const char *s, const char *what, const char *with)
{
    struct strbuf sb = STRBUF_INIT;
    size_t n = strlen(what);
    const char *q;

    while (n > 0 && (q = strstr(s, what)) != NULL) {
        sb_add(&sb, s, (size_t)(q - s));
        sb_adds(&sb, with);
        s = q + n;
    }
    sb_adds(&sb, s);
    return sb_take(&sb);
}

/* Whether a task's stderr says that a file or program was not found. */
static bool early_says_missing(const char *text)
{
    static const char *const phrases[] = {"No such file",   "can't open file",
                                          "cannot open",    "not found",
                                          "does not exist", "cannot find"};

    for (size_t i = 0; i < sizeof(phrases) / sizeof(phrases[0]); i++)
        if (strcasestr(text, phrases[i]))
            return true;
    return false;
}

/* The hint for a missing file: names the argument that is a file beside the spec but
 * not in the task's directory when there is one. */
static void early_hint(struct runner *r, const struct rtask *t, struct strbuf *sb)
{
    const struct spec_step *step = spec_step_at(r->spec, t->step);
    const char *cwd = taskview_cwd(r->spec, t->dir);

    for (size_t i = 1; !step->shell && i < step->argc; i++) {
        const char *a = step->argv[i];
        char *beside, *here;
        bool found;

        if (!*a || a[0] == '-' || a[0] == '/' || strchr(a, '{'))
            continue;
        beside = xasprintf("%s/%s", r->spec->dir, a);
        here = xasprintf("%s/%s", cwd, a);
        found = access(beside, F_OK) == 0 && access(here, F_OK) != 0;
        free(beside);
        free(here);
        if (found) {
            sb_addf(sb,
                    "sweep: hint: \"%s\" is beside the spec, but a task runs in %s; "
                    "write \"{spec_dir}/%s\" in the command (README: Paths)\n",
                    a, r->spec->workdir ? "the workdir" : "its own directory", a);
            return;
        }
    }
    sb_adds(sb,
            "sweep: hint: a task runs in its own directory (or the workdir): a "
            "relative path in its command other than the program is not read from "
            "the spec's directory; write {spec_dir}/FILE for a file beside the spec "
            "(README: Paths)\n");
}

/* Shows the stderr of a task that failed at once (see runner_opts.notes). */
void rn_early_failure(struct runner *r,
                      const struct rtask *t,
                      const struct executor_outcome *res)
{
    struct strbuf sb = STRBUF_INIT;
    char *path, *norm, *tmp;
    size_t head;
    int c = res->exit_code;

    if (!r->o->notes || t->stop != STOP_NONE || !res->exited || res->timed_out ||
        res->wall >= EARLY_WINDOW || (c != 1 && c != 2 && c != 126 && c != 127))
        return;
    path = xasprintf("%s/stderr.log", t->dir);
    sb_addf(&sb, "sweep: task %s", t->key);
    if (r->spec->has_steps || t->chain < 0)
        sb_addf(&sb, " (step %s)", spec_step_at(r->spec, t->step)->name);
    sb_addf(&sb, " failed at once (exit code %d); its stderr:\n", c);
    head = sb.len;
    early_excerpt(path, t->key, &sb);
    tmp = early_replace(sb_str(&sb) + head, t->dir, "{task_dir}");
    norm = early_replace(tmp, t->key, "{key}");
    free(tmp);
    for (size_t i = 0; i < r->nearly; i++) {
        if (strcmp(r->early[i], norm) == 0)
            goto out;
    }
    if (r->nearly == EARLY_SHOWN) {
        if (!r->early_more)
            fprintf(r->o->notes,
                    "%ssweep: more tasks fail at once; see 'sweep results %s --state "
                    "failed'\n",
                    r->o->tty ? "\r\033[K" : "", r->spec->name);
        r->early_more = true;
        goto out;
    }
    r->early[r->nearly++] = norm;
    norm = NULL;
    if (!r->early_hinted && spec_step_at(r->spec, t->step)->kind == SPEC_COMMAND &&
        early_says_missing(sb_str(&sb) + head)) {
        early_hint(r, t, &sb);
        r->early_hinted = true;
    }
    fprintf(r->o->notes, "%s%s", r->o->tty ? "\r\033[K" : "", sb_str(&sb));
    fflush(r->o->notes);
out:
    free(norm);
    free(path);
    sb_fini(&sb);
}
