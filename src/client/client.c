/* HTTP to `sweep serve` with libcurl (see client.h). One easy handle per client,
 * reused so that requests in a loop (monitor, a followed run) keep their connection.
 * Answers are read into memory, bounded by CLIENT_MAX_ANSWER. */
#include "client/client.h"

#include "common/fileio.h"
#include "common/strbuf.h"
#include "common/xalloc.h"
#include "core/doc.h"
#include "core/spec.h"
#include "core/taskfile.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

struct client {
    CURL *curl;
    char *url;   /* base, no trailing '/' */
    char *token; /* or NULL */
    char curl_err[CURL_ERROR_SIZE];
};

int client_create(const char *url,
                  const char *token_file,
                  struct client **out,
                  struct err *err)
{
    static bool inited;
    struct client *c;
    char *text = NULL;
    size_t n;

    *out = NULL;
    if (!url || !*url)
        url = getenv("SWEEP_SERVER");
    if (!url || !*url)
        url = CLIENT_DEFAULT_URL;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) {
        err_set(err, SWEEP_EINVAL, "--server: expected a URL such as %s, got '%s'",
                CLIENT_DEFAULT_URL, url);
        return CLIENT_EREFUSED;
    }
    if (!token_file || !*token_file)
        token_file = getenv("SWEEP_TOKEN_FILE");
    if (token_file && *token_file) {
        if (fileio_read_user(token_file, 4096, &text, &n, err)) {
            err_prefix(err, "--token-file");
            return err->code == SWEEP_EIO ? CLIENT_ESERVER : CLIENT_EREFUSED;
        }
        text[strcspn(text, "\r\n")] = '\0';
    }
    if (!inited) {
        curl_global_init(CURL_GLOBAL_DEFAULT);
        inited = true;
    }
    c = xcalloc(1, sizeof(*c));
    c->url = xstrdup(url);
    for (n = strlen(c->url); n > 0 && c->url[n - 1] == '/'; n--)
        c->url[n - 1] = '\0';
    if (text) {
        char *p = text, *e;
        while (*p == ' ' || *p == '\t')
            p++;
        e = p + strlen(p);
        while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
            *--e = '\0';
        c->token = *p ? xstrdup(p) : NULL;
        free(text);
    }
    c->curl = curl_easy_init();
    if (!c->curl)
        abort(); /* only out of memory */
    *out = c;
    return CLIENT_OK;
}

void client_destroy(struct client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    if (c->token)
        memset(c->token, 0, strlen(c->token));
    free(c->token);
    free(c->url);
    free(c);
}

const char *client_url(const struct client *c)
{
    return c->url;
}

char *client_escape(const char *s)
{
    struct strbuf sb = STRBUF_INIT;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' || *p == '.' ||
            *p == '~')
            sb_addf(&sb, "%c", *p);
        else
            sb_addf(&sb, "%%%02X", *p);
    }
    return sb_take(&sb);
}

struct answer {
    struct strbuf sb;
    bool too_large;
};

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;

    if (a->sb.len + size * n > CLIENT_MAX_ANSWER) {
        a->too_large = true;
        return 0; /* ends the transfer */
    }
    sb_add(&a->sb, data, size * n);
    return size * n;
}

/* Sets up a request of c->curl common to client_request and client_stream: the
 * URL, the token, headers (NULL-terminated, or NULL), the body, the method. Returns the
 * header list to pass to end_request(); *auth holds the token's header. */
static struct curl_slist *begin_request(struct client *c,
                                        const char *url,
                                        const char *method,
                                        const char *const *headers,
                                        const char *body,
                                        size_t len,
                                        char **auth)
{
    struct curl_slist *hdr = NULL;

    *auth = NULL;
    curl_easy_reset(c->curl);
    c->curl_err[0] = '\0';
    curl_easy_setopt(c->curl, CURLOPT_URL, url);
    curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
    curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->curl_err);
    curl_easy_setopt(c->curl, CURLOPT_USERAGENT, "sweep-client");
    curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
    if (c->token) {
        *auth = xasprintf("Authorization: Bearer %s", c->token);
        hdr = curl_slist_append(hdr, *auth);
    }
    for (size_t i = 0; headers && headers[i]; i++)
        hdr = curl_slist_append(hdr, headers[i]);
    if (body) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    } else if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, "");
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdr);
    return hdr;
}

/* After curl_easy_perform: CLIENT_ECONNECT with err naming the service when cc failed;
 * the header list freed and the token's header wiped. */
static int end_request(
    struct client *c, CURLcode cc, struct curl_slist *hdr, char *auth, struct err *err)
{
    int rc = CLIENT_OK;

    if (cc != CURLE_OK) {
        rc = CLIENT_ECONNECT;
        err_set(err, SWEEP_EIO, "cannot reach the sweep service at %s: %s", c->url,
                c->curl_err[0] ? c->curl_err : curl_easy_strerror(cc));
    }
    curl_slist_free_all(hdr);
    if (auth)
        memset(auth, 0, strlen(auth));
    free(auth);
    return rc;
}

int client_request(struct client *c,
                   const char *method,
                   const char *path,
                   const char *body,
                   size_t len,
                   long *status,
                   char **answer,
                   size_t *len_out,
                   struct err *err)
{
    static const char *const json_body[] = {"Content-Type: application/json", NULL};
    struct answer a = {.sb = STRBUF_INIT};
    char *url = xasprintf("%s%s", c->url, path), *auth;
    struct curl_slist *hdr =
        begin_request(c, url, method, body ? json_body : NULL, body, len, &auth);
    CURLcode cc;
    int rc;

    *answer = NULL;
    *status = 0;
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 300L);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &a);
    cc = curl_easy_perform(c->curl);
    if (a.too_large) {
        end_request(c, CURLE_OK, hdr, auth, err);
        rc = CLIENT_EPROTO;
        err_set(err, SWEEP_EIO, "%s: the answer is larger than %u MiB", url,
                CLIENT_MAX_ANSWER >> 20);
    } else if ((rc = end_request(c, cc, hdr, auth, err)) == CLIENT_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
        if (len_out)
            *len_out = a.sb.len;
        *answer = sb_take(&a.sb);
    }
    sb_fini(&a.sb);
    free(url);
    return rc;
}

struct stream {
    client_header_fn *on_header;
    client_data_fn *on_data;
    void *arg;
    bool stopped;
};

static size_t stream_header(char *data, size_t size, size_t n, void *arg)
{
    struct stream *st = arg;
    size_t len = size * n;

    while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
        len--;
    if (len > 0)
        st->on_header(st->arg, data, len);
    return size * n;
}

static size_t stream_data(char *data, size_t size, size_t n, void *arg)
{
    struct stream *st = arg;

    if (!st->on_data(st->arg, data, size * n)) {
        st->stopped = true;
        return 0; /* ends the transfer */
    }
    return size * n;
}

int client_stream(struct client *c,
                  const char *method,
                  const char *path,
                  const char *const *headers,
                  const char *body,
                  size_t len,
                  client_header_fn *header_fn,
                  client_data_fn *data_fn,
                  void *arg,
                  long *status,
                  struct err *err)
{
    struct stream st = {header_fn, data_fn, arg, false};
    char *url = xasprintf("%s%s", c->url, path), *auth;
    struct curl_slist *hdr = begin_request(c, url, method, headers, body, len, &auth);
    CURLcode cc;
    int rc;

    *status = 0;
    curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, stream_header);
    curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &st);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, stream_data);
    curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &st);
    cc = curl_easy_perform(c->curl);
    if (st.stopped) {
        end_request(c, CURLE_OK, hdr, auth, err);
        rc = CLIENT_ECONNECT;
        err_set(err, SWEEP_EIO, "%s: the answer was cut short", url);
    } else if ((rc = end_request(c, cc, hdr, auth, err)) == CLIENT_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    }
    free(url);
    return rc;
}

int client_json(struct client *c,
                const char *method,
                const char *path,
                const char *body,
                long *status,
                json_t **out,
                struct err *err)
{
    char *text = NULL;
    size_t len = 0;
    long code = 0;
    json_t *v = NULL;
    const char *error, *detail;
    int rc = client_request(c, method, path, body, body ? strlen(body) : 0, &code,
                            &text, &len, err);

    if (out)
        *out = NULL;
    if (status)
        *status = code;
    if (rc)
        return rc;
    v = json_loadb(text, len, 0, NULL);
    if (!v) {
        rc = CLIENT_EPROTO;
        err_set(err, SWEEP_EIO,
                "%s%s: HTTP %ld, an answer that is not JSON (is this a sweep "
                "service?)",
                c->url, path, code);
        goto out;
    }
    if (code >= 200 && code < 300) {
        if (out)
            *out = json_incref(v);
        goto out;
    }
    error = json_string_value(json_object_get(v, "error"));
    detail = json_string_value(json_object_get(v, "detail"));
    rc = code == 401   ? CLIENT_EAUTH
         : code == 404 ? CLIENT_ENOTFOUND
         : code >= 500 ? CLIENT_ESERVER
         : code >= 400 ? CLIENT_EREFUSED
                       : CLIENT_EPROTO;
    if (code == 401)
        err_set(err, SWEEP_EINVAL,
                "%s%s: 401 unauthorized: %s (--token-file F or $SWEEP_TOKEN_FILE)",
                c->url, path,
                c->token ? "the service refused the token"
                         : "the service needs a token");
    else
        err_set(err, rc == CLIENT_ENOTFOUND ? SWEEP_ENOTFOUND : SWEEP_EINVAL,
                "%s%s: %ld %s%s%s", c->url, path, code, error ? error : "error",
                detail && *detail ? ": " : "", detail ? detail : "");
out:
    json_decref(v);
    free(text);
    return rc;
}

int client_spec_body(const char *path, char **body, bool *taskfile, struct err *err)
{
    char *text = NULL;
    size_t len;
    struct doc_node *root = NULL;
    struct spec *spec = NULL;
    json_t *j = NULL;
    int rc = CLIENT_OK;

    *body = NULL;
    if (fileio_read_user(path, 64u << 20, &text, &len, err))
        return err->code == SWEEP_EIO ? CLIENT_ESERVER : CLIENT_EREFUSED;
    if (doc_parse(path, text, len, &root, err)) {
        rc = CLIENT_EREFUSED;
        goto out;
    }
    if (taskfile)
        *taskfile = taskfile_detect(root);
    if (taskfile_detect(root)) {
        int r = taskfile_to_spec(path, root, &spec, err);
        root = NULL; /* taken */
        if (r) {
            rc = CLIENT_EREFUSED;
            goto out;
        }
        j = json_incref(spec->json);
    } else {
        j = doc_to_json(root);
    }
    if (!json_is_object(j)) {
        rc = CLIENT_EREFUSED;
        err_set(err, SWEEP_EINVAL, "%s: expected a study spec (a mapping)", path);
        goto out;
    }
    *body = json_dumps(j, JSON_COMPACT);
out:
    json_decref(j);
    spec_destroy(spec);
    doc_destroy(root);
    free(text);
    return rc;
}
