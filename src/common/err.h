/* One error enum for the core and a message buffer for the human detail. A function
 * that fails sets the error once and returns its code; the caller at the top reports
 * it. */
#ifndef SWEEP_COMMON_ERR_H
#define SWEEP_COMMON_ERR_H

enum sweep_code {
    SWEEP_OK = 0,
    SWEEP_EINVAL,    /* bad input: spec, parameter, usage */
    SWEEP_ENOTFOUND, /* no such study, task, file or model */
    SWEEP_EIO,       /* file system or OS call failed */
    SWEEP_ESTORE,    /* database error */
    SWEEP_ESPAWN,    /* a task could not be started */
    SWEEP_EBUSY,     /* held by another process (study lock) */
    SWEEP_EINTERNAL, /* a bug or an unexpected state */
    SWEEP_ESTALE,    /* a result for an attempt that is no longer current (recorded
                        as stale, nothing else changed) */
};

struct err {
    enum sweep_code code;
    char msg[2048];
};

/* Sets code and message; returns the code so callers can `return err_set(...)`. */
int err_set(struct err *err, enum sweep_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void err_clear(struct err *err);
/* Prefixes the existing message with "prefix: ". */
void err_prefix(struct err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
