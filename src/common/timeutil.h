/* Clocks, ISO-8601 timestamps and human durations ("500ms", "90s", "30m", "24h",
 * "1h30m" or plain seconds; printed as "0.99s", "12.3s", "4m05s") in one place, so
 * every command reads and prints them the same way. */
#ifndef SWEEP_COMMON_TIMEUTIL_H
#define SWEEP_COMMON_TIMEUTIL_H

#include <stddef.h>

/* Monotonic seconds (CLOCK_MONOTONIC): for deadlines and rates. */
double time_mono(void);
/* Wall-clock seconds since the epoch: for what is stored and shown. */
double time_now(void);
/* "2026-11-22T00:55:31.123Z" (UTC, milliseconds) into buf (at least 32 bytes). */
void time_iso8601(double epoch, char *buf, size_t n);

/* Parses a duration into seconds. Accepts a plain non-negative number of seconds or a
 * sequence of number+unit with units ms, s, m, h, d ("1h30m"). Returns 0 or -1. */
int duration_parse(const char *s, double *seconds);
/* The one human format of a duration, used by every command: "0.03s", "0.99s" and
 * "9.87s" below 10 s, "12.3s" below a minute, then "4m05s", "1h02m", "3d04h" (each
 * rounded to its last digit). duration_parse() reads every one of them back. */
void duration_format(double seconds, char *buf, size_t n);

#endif
