/* GET /metrics: the figures in the Prometheus text exposition format (version
 * 0.0.4): for each metric a "# HELP" and a "# TYPE" line, then its samples
 * `name{label="value",...} number`. Task counts come from the store (view_study_list:
 * O(studies)), the rest from the in-memory figures (stats.h). */
#include "server/stats.h"

#include "common/strbuf.h"
#include "core/task.h"
#include "core/view.h"

#include <stdio.h>

/* A label value with \, " and newline escaped. */
static void label(struct strbuf *sb, const char *v)
{
    for (const char *p = v ? v : ""; *p; p++) {
        if (*p == '\\' || *p == '"')
            sb_addc(sb, '\\');
        if (*p == '\n')
            sb_adds(sb, "\\n");
        else
            sb_addc(sb, *p);
    }
}

static void
head(struct strbuf *sb, const char *name, const char *type, const char *help)
{
    sb_addf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int stats_metrics_text(struct stats *s,
                       struct store *st,
                       double now,
                       size_t streams,
                       char **out,
                       struct err *err)
{
    long long total[TASK_NSTATES] = {0};
    struct strbuf sb = {0};
    json_t *list, *perf, *study;
    size_t i;
    int rc = view_study_list(st, &list, err);

    *out = NULL;
    if (rc)
        return rc;
    head(&sb, "sweep_tasks", "gauge", "Tasks of each study by state.");
    json_array_foreach(list, i, study)
    {
        json_t *counts = json_object_get(study, "counts");
        for (int t = 0; t < TASK_NSTATES; t++) {
            const char *state = task_state_name((enum task_state)t);
            long long n = view_count_of(counts, state);
            total[t] += n;
            sb_adds(&sb, "sweep_tasks{study=\"");
            label(&sb, json_string_value(json_object_get(study, "study")));
            sb_addf(&sb, "\",state=\"%s\"} %lld\n", state, n);
        }
    }
    head(&sb, "sweep_tasks_total", "gauge", "Tasks of every study by state.");
    for (int t = 0; t < TASK_NSTATES; t++)
        sb_addf(&sb, "sweep_tasks_total{state=\"%s\"} %lld\n",
                task_state_name((enum task_state)t), total[t]);
    head(&sb, "sweep_queue_depth", "gauge",
         "Tasks queued: pending (ready to start when a slot frees, or waiting for a "
         "retry) and waiting (for a pipeline step before them).");
    sb_addf(&sb, "sweep_queue_depth{state=\"pending\"} %lld\n", total[TASK_PENDING]);
    sb_addf(&sb, "sweep_queue_depth{state=\"waiting\"} %lld\n", total[TASK_WAITING]);
    json_decref(list);

    perf = stats_performance_json(s, now);
    head(&sb, "sweep_throughput", "gauge",
         "Tasks ended per second, over the last minute and since the start.");
    sb_addf(&sb, "sweep_throughput{window=\"1m\"} %.6f\n",
            json_real_value(
                json_object_get(json_object_get(perf, "throughput"), "last_minute")));
    sb_addf(&sb, "sweep_throughput{window=\"start\"} %.6f\n",
            json_real_value(
                json_object_get(json_object_get(perf, "throughput"), "since_start")));
    head(&sb, "sweep_tasks_ended", "counter",
         "Tasks ended for good since the service started.");
    sb_addf(&sb, "sweep_tasks_ended %lld\n",
            (long long)json_integer_value(json_object_get(perf, "tasks_ended")));
    head(&sb, "sweep_running", "gauge", "Attempts running now.");
    sb_addf(&sb, "sweep_running %lld\n",
            (long long)json_integer_value(json_object_get(perf, "running")));
    head(&sb, "sweep_slots", "gauge", "Slots shared by every study.");
    sb_addf(&sb, "sweep_slots %lld\n",
            (long long)json_integer_value(json_object_get(perf, "slots")));
    head(&sb, "sweep_workers", "gauge", "Workers (1: this machine).");
    sb_adds(&sb, "sweep_workers 1\n");
    head(&sb, "sweep_utilisation", "gauge",
         "Busy slot-seconds over slot-seconds since the start.");
    sb_addf(&sb, "sweep_utilisation %.6f\n",
            json_real_value(json_object_get(perf, "utilisation")));
    head(&sb, "sweep_uptime_seconds", "gauge", "Seconds since the service started.");
    sb_addf(&sb, "sweep_uptime_seconds %.3f\n",
            json_real_value(json_object_get(perf, "uptime")));
    head(&sb, "sweep_event_streams", "gauge", "Clients of GET /events connected.");
    sb_addf(&sb, "sweep_event_streams %zu\n", streams);
    json_decref(perf);
    *out = sb_take(&sb);
    return SWEEP_OK;
}
