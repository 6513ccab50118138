/* Settings of a long-running front end (`sweep serve`, later `sweep worker`): each one
 * comes from its flag, else its environment variable, else a line of the `.env` file
 * in the home, else its default, and remembers where it came from, for `--print-config`
 * and for error messages. Every value is checked against its kind when the sources are
 * read, so that a malformed one is refused at start with its name and source
 * ("SWEEP_MAX_PARALLEL from /h/.env line 3: expected a positive integer, got 'x'").
 *
 * The .env file: one NAME=VALUE per line; blank lines and lines starting with '#' are
 * skipped; "export " before the name is allowed; a value may be wrapped in double or
 * single quotes (taken literally, no escapes); a name given twice takes its last
 * line. Names the table does not know are
 * ignored (the file may serve other programs); a line without '=' is an error naming
 * the file and line. No third-party dependency. */
#ifndef SWEEP_COMMON_CONFIG_H
#define SWEEP_COMMON_CONFIG_H

#include "common/err.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

enum config_kind {
    CONFIG_STRING,       /* any non-empty text */
    CONFIG_POSITIVE_INT, /* 1 .. INT_MAX */
    CONFIG_SIZE,         /* bytes: N, NK, NM or NG (1024-based), at least 1 */
    CONFIG_BOOL,         /* yes/no, true/false, 1/0, on/off (num 1 or 0) */
    CONFIG_BIND,         /* HOST:PORT, HOST an IPv4 address or "localhost", PORT
                            0..65535 (0: any free port) */
};

/* One row of a program's table of settings. */
struct config_def {
    const char *name; /* as printed, and the flag without "--" with '_' as '-' */
    const char *env;  /* its environment and .env variable: SWEEP_BIND */
    enum config_kind kind;
    const char *def;  /* the default as text; NULL: none (unset) */
    const char *what; /* one line for --print-config */
};

enum config_source {
    CONFIG_UNSET = 0, /* no value and no default */
    CONFIG_DEFAULT,
    CONFIG_DOTENV,
    CONFIG_ENV,
    CONFIG_FLAG,
};

struct config;

/* A configuration over a table (borrowed for the configuration's life). */
struct config *config_create(const struct config_def *defs, size_t n);
void config_destroy(struct config *c);

/* Records the value a flag gave (the flag wins over every other source). Checked by
 * config_load(). SWEEP_EINVAL for a name the table does not have. */
int config_set_flag(struct config *c,
                    const char *name,
                    const char *value,
                    struct err *err);

/* Resolves every setting: flag, else envv's variable (envv: NULL-terminated
 * "NAME=VALUE" strings, e.g. environ; NULL for none), else dotenv_path's line (a
 * missing file is no error; NULL for none), else the default; then checks each value.
 * SWEEP_EINVAL names the setting, its source and what was expected; SWEEP_EIO when the
 * .env file exists but cannot be read. */
int config_load(struct config *c,
                const char *dotenv_path,
                char *const *envv,
                struct err *err);

/* The value of a setting as text, NULL when unset (or unknown name); borrowed until
 * config_destroy(). */
const char *config_get(const struct config *c, const char *name);
/* A POSITIVE_INT, SIZE or BOOL setting as a number (0 when unset). */
long long config_num(const struct config *c, const char *name);
enum config_source config_source_of(const struct config *c, const char *name);
/* Where a setting came from, for people: "default", "flag --bind", "environment
 * SWEEP_BIND", "/h/.env line 3", or "unset". Borrowed until config_destroy(). */
const char *config_where(const struct config *c, const char *name);

/* {"<name>": {"value": text or null, "source": "default"|"flag"|"environment"|
 * "dotenv"|"unset", "where": config_where(), "env": "SWEEP_..."}, ...} in table order
 * (new reference). */
json_t *config_json(const struct config *c);
/* One line per setting: name, value ("-" when unset), where it came from; as text
 * (new string). */
char *config_text(const struct config *c);

/* Checks one value against a kind; on failure, err says "expected ..., got '...'"
 * (without the setting's name). *num receives the number of a POSITIVE_INT or SIZE. */
int config_check_value(enum config_kind kind,
                       const char *value,
                       long long *num,
                       struct err *err);

/* Splits a BIND value into its host (written to host, hostlen bytes; "localhost"
 * becomes "127.0.0.1") and port. SWEEP_EINVAL as config_check_value(). */
int config_parse_bind(
    const char *value, char *host, size_t hostlen, int *port, struct err *err);

#endif
