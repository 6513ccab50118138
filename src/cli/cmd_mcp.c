/* sweep mcp: the Model Context Protocol over stdio (issue 12). stdin carries
 * newline-delimited JSON-RPC messages from the client, stdout the answers and
 * notifications, one per line, flushed at once; logs go to stderr only. Two modes:
 * local (an MCP session of src/mcp over the home's backend) and --server URL (a bridge
 * that POSTs each line to the service's /mcp, the protocol's streamable HTTP
 * transport, and writes each message of its answer, JSON or an event stream, as one
 * line). A line longer than MCP_MAX_MESSAGE is skipped up to its newline without being
 * held in memory and answered -32600. Exits 0 at the end of stdin, on SIGINT or
 * SIGTERM, or when stdout is closed. */
#include "cli.h"

#include "client/client.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/sigwatch.h"
#include "mcp/backend.h"
#include "mcp/local.h"
#include "mcp/jsonrpc.h"
#include "mcp/mcp.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

extern const struct cli_cmd cmd_mcp;

/* ---- stdout: one message per line ---- */

static bool mcp_out_closed;

static void mcp_write_line(const char *msg, size_t len)
{
    if (mcp_out_closed)
        return;
    if (fwrite(msg, 1, len, stdout) != len || fputc('\n', stdout) == EOF ||
        fflush(stdout) == EOF) {
        fprintf(stderr, "sweep mcp: event=stdout-closed error=\"%s\"\n",
                strerror(errno));
        mcp_out_closed = true;
    }
}

static void mcp_send(void *arg, const char *msg, size_t len)
{
    (void)arg;
    mcp_write_line(msg, len);
}

/* The -32600 answer to a line refused unread (id unknown: null). */
static void mcp_refuse_oversized(size_t len)
{
    size_t n;
    char *msg = xasprintf("Invalid Request: the message is %zu bytes or more, more "
                          "than the %u allowed",
                          len, MCP_MAX_MESSAGE);
    char *text = jsonrpc_error(NULL, JSONRPC_INVALID_REQUEST, msg, NULL, &n);

    fprintf(stderr, "sweep mcp: event=refused reason=oversized bytes=%zu\n", len);
    mcp_write_line(text, n);
    free(text);
    free(msg);
}

/* ---- stdin: lines, bounded ---- */

typedef void mcp_line_fn(void *arg, const char *line, size_t len);

struct mcp_reader {
    struct strbuf buf; /* the start of a line not complete yet (<= MCP_MAX_MESSAGE) */
    size_t skipped;    /* > 0: skipping an oversized line, this many bytes so far */
    mcp_line_fn *fn;
    void *arg;
};

/* One complete line (its newline removed; a CR before it is JSON whitespace): blank
 * lines are skipped. */
static void mcp_reader_line(struct mcp_reader *r, const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    if (i == n)
        return;
    if (n > MCP_MAX_MESSAGE)
        mcp_refuse_oversized(n);
    else
        r->fn(r->arg, p, n);
}

/* Feeds n bytes read from stdin (n == 0: the end of the input). Memory stays within
 * MCP_MAX_MESSAGE plus one read, whatever the line lengths. */
static void mcp_reader_feed(struct mcp_reader *r, const char *p, size_t n)
{
    const char *end = p + n, *nl;

    if (n == 0) { /* a last line without its newline */
        if (r->skipped)
            mcp_refuse_oversized(r->skipped);
        else if (r->buf.len)
            mcp_reader_line(r, r->buf.buf, r->buf.len);
        r->skipped = 0;
        sb_reset(&r->buf);
        return;
    }
    while (p < end && !mcp_out_closed) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) {
            if (r->skipped) {
                r->skipped += (size_t)(end - p);
            } else if (r->buf.len + (size_t)(end - p) > MCP_MAX_MESSAGE) {
                r->skipped = r->buf.len + (size_t)(end - p);
                sb_reset(&r->buf);
            } else {
                sb_add(&r->buf, p, (size_t)(end - p));
            }
            return;
        }
        if (r->skipped) {
            mcp_refuse_oversized(r->skipped + (size_t)(nl - p));
            r->skipped = 0;
        } else if (r->buf.len) {
            sb_add(&r->buf, p, (size_t)(nl - p));
            mcp_reader_line(r, r->buf.buf, r->buf.len);
            sb_reset(&r->buf);
        } else {
            mcp_reader_line(r, p, (size_t)(nl - p));
        }
        p = nl + 1;
    }
}

/* Reads stdin to its end (or a signal, or stdout closed), handing each line to
 * r->fn. Returns the exit code. */
static int mcp_read_loop(struct mcp_reader *r)
{
    static char chunk[1 << 16];
    struct pollfd fds[2] = {{.fd = STDIN_FILENO, .events = POLLIN},
                            {.fd = sigwatch_fd(), .events = POLLIN}};
    ssize_t n;
    int sig;

    while (!mcp_out_closed) {
        if (poll(fds, fds[1].fd >= 0 ? 2 : 1, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "sweep mcp: event=error poll=\"%s\"\n", strerror(errno));
            return EXIT_UNEXPECTED;
        }
        if ((sig = sigwatch_take()) != 0) {
            fprintf(stderr, "sweep mcp: event=stop signal=%s\n", strsignal(sig));
            return EXIT_OK;
        }
        if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR)))
            continue;
        n = read(STDIN_FILENO, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n < 0) {
            fprintf(stderr, "sweep mcp: event=error read=\"%s\"\n", strerror(errno));
            return EXIT_UNEXPECTED;
        }
        mcp_reader_feed(r, chunk, (size_t)n);
        if (n == 0) {
            fprintf(stderr, "sweep mcp: event=stop reason=eof\n");
            return EXIT_OK;
        }
    }
    return EXIT_OK;
}

/* ---- local mode: a session over the home ---- */

static void mcp_session_line(void *arg, const char *line, size_t len)
{
    mcp_session_handle(arg, line, len);
}

/* The local backend (mcp/local.h): studies stored in the home and run by a detached
 * `sweep run` that outlives this session. */
static int mcp_local(const char *home)
{
    struct err err = {0};
    struct mcp_backend *be = mcp_local_create(home, cli_self_path(), &err);
    struct mcp_session *s;
    struct mcp_reader r = {.buf = STRBUF_INIT, .fn = mcp_session_line};
    int rc;

    if (!be)
        return cli_fail(&err);
    s = mcp_session_create(be, mcp_send, NULL);
    r.arg = s;
    fprintf(stderr, "sweep mcp: event=start transport=stdio home=%s\n", home);
    rc = mcp_read_loop(&r);
    sb_fini(&r.buf);
    mcp_session_destroy(s);
    mcp_local_destroy(be);
    return rc;
}

/* ---- --server URL: a bridge to the service's /mcp ---- */

struct mcp_bridge {
    struct client *c;
    char *session; /* Mcp-Session-Id the service gave at initialize */
    char *version; /* the protocol revision agreed on at initialize */
    /* The answer being read: */
    bool sse;           /* Content-Type: text/event-stream */
    bool cut;           /* more than the bound: dropped */
    bool answered;      /* a result or an error went to stdout */
    struct strbuf body; /* a JSON answer, or the SSE line being read */
    struct strbuf data; /* the data lines of the current SSE event */
};

/* One message of the service to stdout, compact on one line; the protocol revision
 * of an initialize answer is kept for the MCP-Protocol-Version header. */
static void mcp_bridge_emit(struct mcp_bridge *b, const char *text, size_t len)
{
    json_t *v = json_loadb(text, len, 0, NULL);
    const char *version;
    char *line;

    if (!json_is_object(v)) {
        fprintf(stderr, "sweep mcp: event=dropped reason=not-json bytes=%zu\n", len);
        json_decref(v);
        return;
    }
    version = json_string_value(
        json_object_get(json_object_get(v, "result"), "protocolVersion"));
    if (version && !b->version)
        b->version = xstrdup(version);
    if (json_object_get(v, "result") || json_object_get(v, "error"))
        b->answered = true;
    line = json_dumps(v, JSON_COMPACT);
    if (line)
        mcp_write_line(line, strlen(line));
    free(line);
    json_decref(v);
}

static void mcp_bridge_header(void *arg, const char *line, size_t len)
{
    struct mcp_bridge *b = arg;
    const char *colon = memchr(line, ':', len), *v;
    size_t name_len, vlen;

    if (len >= 5 && strncmp(line, "HTTP/", 5) == 0) { /* a new answer (after 100) */
        b->sse = false;
        return;
    }
    if (!colon)
        return;
    name_len = (size_t)(colon - line);
    for (v = colon + 1; v < line + len && (*v == ' ' || *v == '\t'); v++)
        ;
    vlen = (size_t)(line + len - v);
    if (name_len == 12 && strncasecmp(line, "Content-Type", 12) == 0)
        b->sse = vlen >= 17 && strncasecmp(v, "text/event-stream", 17) == 0;
    else if (name_len == 14 && strncasecmp(line, "Mcp-Session-Id", 14) == 0 &&
             vlen > 0 && vlen < 256) {
        free(b->session);
        b->session = xstrndup(v, vlen);
    }
}

/* One line of an event stream: "data:" lines gather, a blank line ends the event. */
static void mcp_bridge_sse_line(struct mcp_bridge *b, const char *p, size_t n)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n == 0) {
        if (b->data.len)
            mcp_bridge_emit(b, b->data.buf, b->data.len);
        sb_reset(&b->data);
        return;
    }
    if (n >= 5 && strncmp(p, "data:", 5) == 0) {
        p += 5, n -= 5;
        if (n > 0 && *p == ' ')
            p++, n--;
        if (b->data.len)
            sb_add(&b->data, "\n", 1);
        sb_add(&b->data, p, n);
    } /* comments (':'), event:, id:, retry: say nothing the client needs */
}

static bool mcp_bridge_data(void *arg, const char *p, size_t n)
{
    struct mcp_bridge *b = arg;
    const char *end = p + n, *nl;

    if (b->body.len + b->data.len + n > 2 * (size_t)MCP_MAX_MESSAGE) {
        b->cut = true;
        return false;
    }
    if (!b->sse) {
        sb_add(&b->body, p, n);
        return true;
    }
    while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        sb_add(&b->body, p, (size_t)(nl - p));
        mcp_bridge_sse_line(b, b->body.buf, b->body.len);
        sb_reset(&b->body);
        p = nl + 1;
    }
    sb_add(&b->body, p, (size_t)(end - p));
    return true;
}

/* What the client is told when the service does not answer a request (id) with a
 * JSON-RPC message. */
static void mcp_bridge_fail(const json_t *id, const char *why)
{
    size_t n;
    char *text;

    fprintf(stderr, "sweep mcp: event=error %s\n", why);
    if (!id || json_is_null(id))
        return;
    text = jsonrpc_error(id, JSONRPC_INTERNAL_ERROR, why, NULL, &n);
    mcp_write_line(text, n);
    free(text);
}

static void mcp_bridge_line(void *arg, const char *line, size_t len)
{
    struct mcp_bridge *b = arg;
    struct jsonrpc_msg m;
    char *hs = NULL, *hv = NULL, *why = NULL;
    const char *headers[5] = {"Content-Type: application/json",
                              "Accept: application/json, text/event-stream"};
    size_t nh = 2;
    long status = 0;
    struct err err = {0};

    jsonrpc_parse(line, len, MCP_MAX_MESSAGE, &m);
    if (b->session)
        headers[nh++] = hs = xasprintf("Mcp-Session-Id: %s", b->session);
    if (b->version)
        headers[nh++] = hv = xasprintf("MCP-Protocol-Version: %s", b->version);
    b->sse = b->cut = b->answered = false;
    sb_reset(&b->body);
    sb_reset(&b->data);
    if (client_stream(b->c, "POST", "/mcp", headers, line, len, mcp_bridge_header,
                      mcp_bridge_data, b, &status, &err)) {
        mcp_bridge_fail(m.id, b->cut ? "the service's answer is too large" : err.msg);
        goto out;
    }
    if (b->sse) {
        mcp_bridge_sse_line(b, b->body.buf, b->body.len); /* an unterminated event */
        mcp_bridge_sse_line(b, "", 0);
    } else if (b->body.len) { /* JSON; an error status may carry a JSON-RPC error */
        json_t *v = json_loadb(b->body.buf, b->body.len, 0, NULL);
        if (json_is_object(v) && json_object_get(v, "jsonrpc"))
            mcp_bridge_emit(b, b->body.buf, b->body.len);
        json_decref(v);
    }
    if (b->answered || m.kind != JSONRPC_REQUEST)
        goto out; /* a notification or a response: 202 and nothing more */
    if (status == 401)
        why = xasprintf("%s/mcp: 401 unauthorized: give the service's token with "
                        "--token-file F",
                        client_url(b->c));
    else
        why = xasprintf("%s/mcp: HTTP %ld without a JSON-RPC answer", client_url(b->c),
                        status);
    mcp_bridge_fail(m.id, why);
out:
    free(why);
    free(hs);
    free(hv);
    jsonrpc_msg_fini(&m);
}

static int mcp_bridge(const char *url, const char *token_file)
{
    struct mcp_bridge b = {.body = STRBUF_INIT, .data = STRBUF_INIT};
    struct mcp_reader r = {.buf = STRBUF_INIT, .fn = mcp_bridge_line, .arg = &b};
    struct err err = {0};
    int rc;

    if (client_create(url, token_file, &b.c, &err))
        return cli_fail(&err);
    fprintf(stderr, "sweep mcp: event=start transport=stdio server=%s/mcp\n",
            client_url(b.c));
    rc = mcp_read_loop(&r);
    if (b.session) { /* ends the session on the service (405 if it keeps them) */
        char *hs = xasprintf("Mcp-Session-Id: %s", b.session);
        const char *headers[] = {hs, NULL};
        long status;
        sb_reset(&b.body);
        b.sse = true; /* any answer is read as a stream and dropped */
        client_stream(b.c, "DELETE", "/mcp", headers, NULL, 0, mcp_bridge_header,
                      mcp_bridge_data, &b, &status, &err);
        free(hs);
    }
    sb_fini(&r.buf);
    sb_fini(&b.body);
    sb_fini(&b.data);
    free(b.session);
    free(b.version);
    client_destroy(b.c);
    return rc;
}

static int mcp_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"home", required_argument, NULL, 'H'},
        {"server", required_argument, NULL, 'S'},
        {"token-file", required_argument, NULL, 'T'},
        {NULL, 0, NULL, 0},
    };
    const char *home = NULL, *server = NULL, *token_file = NULL;
    struct err err = {0};
    int c, rc;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == 'H')
            home = optarg;
        else if (c == 'S')
            server = optarg;
        else if (c == 'T')
            token_file = optarg;
        else
            return cli_option_error(&cmd_mcp, opts, c, argv);
    }
    if (optind != argc)
        return cli_usage_error(&cmd_mcp, "unexpected argument '%s'", argv[optind]);
    if (server && home)
        return cli_usage_error(&cmd_mcp, "--home and --server exclude each other: "
                                         "the service at --server has its own home");
    /* As `sweep run`, `status` and `results`: $SWEEP_SERVER unless --home is given. */
    if (!server && !home && getenv("SWEEP_SERVER") && *getenv("SWEEP_SERVER"))
        server = getenv("SWEEP_SERVER");
    if (token_file && !server)
        return cli_usage_error(&cmd_mcp, "--token-file goes with --server");
    /* A client that goes away closes our stdout: EPIPE, not a silent death. */
    signal(SIGPIPE, SIG_IGN);
    if (sigwatch_open(&err))
        return cli_fail(&err);
    rc = server ? mcp_bridge(server, token_file) : mcp_local(cli_home(home));
    sigwatch_close();
    return rc;
}

const struct cli_cmd cmd_mcp = {
    .name = "mcp",
    .summary = "serve the Model Context Protocol on stdio (for AI assistants)",
    .usage =
        "Usage: sweep mcp [--home DIR | --server URL [--token-file F]]\n"
        "\n"
        "Serves the Model Context Protocol (MCP) on stdin and stdout, newline-\n"
        "delimited JSON-RPC 2.0, so that an AI assistant or editor can list the\n"
        "models, start studies and read their results through tools. Studies run\n"
        "in the home (started in the background, they outlive the session) or, with\n"
        "--server, on a running `sweep serve`: each message is then passed to its\n"
        "/mcp endpoint. Only protocol messages go to stdout; logs go to stderr. It\n"
        "ends at the end of stdin, or on SIGINT or SIGTERM.\n"
        "\n"
        "Options:\n"
        "  --home DIR      the sweep home (default $SWEEP_HOME, else ./.sweep)\n"
        "  --server URL    bridge to the MCP endpoint URL/mcp of `sweep serve`\n"
        "                  (default $SWEEP_SERVER, unless --home is given)\n"
        "  --token-file F  the service's token (default $SWEEP_TOKEN_FILE)\n"
        "  -h, --help      show this help\n"
        "\n"
        "Examples:\n"
        "  sweep mcp --home ~/lab/.sweep\n"
        "  sweep mcp --server http://lab.example:5000 --token-file ~/.sweep-token\n"
        "\n"
        "To register it in an MCP client (e.g. Claude Desktop's\n"
        "claude_desktop_config.json), with absolute paths:\n"
        "  {\"mcpServers\": {\"sweep\": {\"command\": \"/usr/local/bin/sweep\",\n"
        "    \"args\": [\"mcp\", \"--home\", \"/home/me/lab/.sweep\"]}}}\n",
    .fn = mcp_main,
};
