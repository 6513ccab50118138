/* Clocks, timestamps and durations (see timeutil.h). */
#include "timeutil.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double time_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double time_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void time_iso8601(double epoch, char *buf, size_t n)
{
    time_t sec = (time_t)floor(epoch);
    int ms = (int)((epoch - (double)sec) * 1000.0);
    struct tm tm;

    if (ms > 999)
        ms = 999;
    gmtime_r(&sec, &tm);
    snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static int unit_seconds(const char *u, size_t n, double *mult)
{
    static const struct {
        const char *name;
        double mult;
    } units[] = {{"ms", 1e-3}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strlen(units[i].name) == n && strncmp(units[i].name, u, n) == 0) {
            *mult = units[i].mult;
            return 0;
        }
    }
    return -1;
}

int duration_parse(const char *s, double *seconds)
{
    double total = 0;
    const char *p = s;
    char *end;

    if (!s || !*s)
        return -1;
    while (*p) {
        double v, mult;
        const char *u;

        if (!(*p >= '0' && *p <= '9') && *p != '.')
            return -1;
        errno = 0;
        v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || v < 0)
            return -1;
        u = end;
        while (*end >= 'a' && *end <= 'z')
            end++;
        if (end == u) {
            /* A bare number is seconds, and only as the whole string. */
            if (p != s || *end)
                return -1;
            mult = 1;
        } else if (unit_seconds(u, (size_t)(end - u), &mult) < 0) {
            return -1;
        }
        total += v * mult;
        p = end;
    }
    *seconds = total;
    return 0;
}

void duration_format(double seconds, char *buf, size_t n)
{
    long long s;

    if (!isfinite(seconds) || seconds < 0)
        seconds = 0;
    /* Rounded first, so that 9.996 s is "10.0s", not "10.00s", and 59.96 s "1m00s". */
    if (round(seconds * 100.0) < 1000.0) {
        snprintf(buf, n, "%.2fs", round(seconds * 100.0) / 100.0);
        return;
    }
    if (round(seconds * 10.0) < 600.0) {
        snprintf(buf, n, "%.1fs", round(seconds * 10.0) / 10.0);
        return;
    }
    s = (long long)(seconds + 0.5);
    if (s < 3600)
        snprintf(buf, n, "%lldm%02llds", s / 60, s % 60);
    else if ((s = (long long)(seconds / 60.0 + 0.5)) < 24 * 60)
        snprintf(buf, n, "%lldh%02lldm", s / 60, s % 60);
    else
        snprintf(buf, n, "%lldd%02lldh", (long long)(seconds / 3600.0 + 0.5) / 24,
                 (long long)(seconds / 3600.0 + 0.5) % 24);
}
