/* Pipelines (runner_int.h): after a step of a chain ends, the next step becomes
 * pending or the rest of the chain is skipped; the chains still open are counted down
 * to the reduce, which is released (or skipped, or left as it is when its input has
 * not changed since it succeeded) in the transaction of the last chain's end; and the
 * reduce's input file. A task that becomes pending during the run is queued at once
 * when the store's cursor has passed it. */
#include "runner_int.h"

#include "common/fileio.h"
#include "common/sha256.h"
#include "common/xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- pipelines ---- */

static int add_to_input(const struct store_task *t, void *arg)
{
    taskview_reduce_add(arg, t);
    return 0;
}

/* Writes the reduce's input (taskview_reduce) to path, and its SHA-256 (hex) to hash.
 */
int rn_write_reduce_input(struct runner *r,
                          const char *path,
                          char hash[65],
                          struct err *err)
{
    struct taskview_reduce in;
    char *text;
    int rc;

    taskview_reduce_init(&in, r->spec, r->home);
    rc = store_task_each(r->st, r->study_id, -1, add_to_input, &in, err);
    text = taskview_reduce_take(&in);
    if (!rc) {
        sha256_hex(text, strlen(text), hash);
        rc = fileio_write_atomic(path, text, strlen(text), "reduce input", err);
    }
    free(text);
    return rc;
}

/* Queues a task that became pending during the run (the step after one that succeeded,
 * the reduce): at once when the cursor has passed it, else the next refill reads it. */
static void queue_unblocked(struct runner *r, const struct store_task *t)
{
    bool passed = t->priority > r->cursor_priority ||
                  (t->priority == r->cursor_priority && t->seq <= r->cursor_seq);

    if (r->o->only_key && strcmp(t->key, r->o->only_key) != 0)
        return;
    if (r->o->band && band_index(t->priority) != band_index(r->o->band))
        return;
    if (passed)
        rn_add_pending(t, r);
    else
        r->exhausted = false;
}

/* Whether the reduce's input, written now to its input.json, is the one its last
 * attempt succeeded on (the hash stored then): then it need not run again. */
static int reduce_input_unchanged(struct runner *r,
                                  const struct store_task *t,
                                  bool *same,
                                  struct err *err)
{
    char *dir = runner_task_dir(r->home, r->spec->name, t->key);
    char *path = xasprintf("%s/input.json", dir), *old = NULL, hash[65];
    int rc;

    *same = false;
    rc = store_task_input_hash(r->st, t->id, &old, err);
    if (rc || !old)
        goto out;
    if (rn_mkdirs(dir) < 0) {
        rc = err_set(err, SWEEP_EIO, "cannot create task directory %s: %s", dir,
                     strerror(errno));
        goto out;
    }
    rc = rn_write_reduce_input(r, path, hash, err);
    if (rc == SWEEP_OK)
        *same = strcmp(hash, old) == 0;
out:
    free(old);
    free(path);
    free(dir);
    return rc;
}

/* Every chain has ended: the reduce becomes pending, or skipped when a chain failed
 * and it runs only when all succeeded. In the transaction of the last chain's end, so
 * a crash can neither lose it nor run it twice. */
static int release_reduce(struct runner *r, struct err *err)
{
    struct store_task *t = &r->reduce;
    bool run = r->chains_failed == 0 || r->spec->reduce_when == REDUCE_ALWAYS;
    char *why = run ? NULL
                    : xasprintf("skipped: %lld chain%s did not succeed (reduce runs "
                                "when all succeeded)",
                                r->chains_failed, r->chains_failed == 1 ? "" : "s");
    int rc;

    if (run && !r->o->force) {
        bool same = false;
        rc = reduce_input_unchanged(r, t, &same, err);
        if (rc) {
            store_task_fini(t);
            return rc;
        }
        if (same) {
            rc = store_task_set_state(r->st, t->id, TASK_WAITING, TASK_SUCCEEDED, NULL,
                                      err);
            if (rc == SWEEP_ENOTFOUND) {
                err_clear(err);
                rc = SWEEP_OK;
            } else if (rc == SWEEP_OK) {
                struct runner_event ev = {
                    .kind = RUNNER_EVENT_TASK,
                    .task_id = t->id,
                    .key = t->key,
                    .attempt = t->attempts,
                    .from = TASK_WAITING,
                    .to = TASK_SUCCEEDED,
                    .text =
                        "its input is the same as when it succeeded: not run again"};
                rn_emit(r, &ev);
                r->finished++;
            }
            store_task_fini(t);
            return rc;
        }
    }
    rc = store_task_set_state(r->st, t->id, TASK_WAITING,
                              run ? TASK_PENDING : TASK_SKIPPED, why, err);

    if (rc == SWEEP_ENOTFOUND) { /* cancelled meanwhile */
        err_clear(err);
        rc = SWEEP_OK;
    } else if (rc == SWEEP_OK) {
        struct runner_event ev = {.kind = RUNNER_EVENT_TASK,
                                  .task_id = t->id,
                                  .key = t->key,
                                  .attempt = t->attempts,
                                  .from = TASK_WAITING,
                                  .to = run ? TASK_PENDING : TASK_SKIPPED,
                                  .text = why};
        rn_emit(r, &ev);
        if (run)
            queue_unblocked(r, t);
        else
            r->finished++;
    }
    free(why);
    store_task_fini(t);
    return rc;
}

/* After a task's final end, inside the tick's transaction: the next step of its chain
 * becomes pending, or the rest of the chain is skipped; a chain that has ended counts
 * down to the reduce. O(steps of one chain), never a scan of the study. */
int rn_pipeline_end(struct runner *r,
                    const struct rtask *t,
                    enum task_state state,
                    struct err *err)
{
    const struct spec *spec = r->spec;
    int last = (int)spec->nsteps - 1, rc;
    struct store_task me = {.id = t->id,
                            .study_id = r->study_id,
                            .seq = t->seq,
                            .step = t->step,
                            .chain = t->chain};

    if (t->chain < 0 || state == TASK_INTERRUPTED)
        return SWEEP_OK; /* the reduce; or a task that runs again */
    memcpy(me.key, t->key, sizeof(me.key));
    if (t->step < last && state == TASK_SUCCEEDED) {
        struct store_task next;
        rc = store_task_unblock_next(r->st, &me, r->generation, &next, err);
        if (rc < 0)
            return -rc;
        if (rc == 1)
            queue_unblocked(r, &next);
        store_task_fini(&next);
        return SWEEP_OK;
    }
    if (t->step < last) {
        char *why = xasprintf("skipped: step %s %s", spec->steps[t->step].name,
                              state == TASK_TIMED_OUT   ? "timed out"
                              : state == TASK_CANCELLED ? "was cancelled"
                                                        : "failed");
        long long n = 0;
        rc = store_task_skip_rest(r->st, &me, r->generation, (int)spec->nsteps, why, &n,
                                  err);
        if (rc == SWEEP_OK && n > 0) {
            struct runner_event ev = {.kind = RUNNER_EVENT_CHAIN_SKIPPED,
                                      .task_id = t->id,
                                      .key = t->key,
                                      .attempt = t->attempts,
                                      .count = n,
                                      .text = why};
            rn_emit(r, &ev);
        }
        free(why);
        if (rc)
            return rc;
        r->finished += n;
    }
    if (r->reduce.id == 0)
        return SWEEP_OK;
    r->chains_open--;
    if (state != TASK_SUCCEEDED)
        r->chains_failed++;
    return r->chains_open == 0 ? release_reduce(r, err) : SWEEP_OK;
}

/* How many chains are still open, and how many ended without their last step
 * succeeding: one scan of the study's counts by step. */
int rn_count_chains(struct runner *r, struct err *err)
{
    int n = (int)r->spec->nsteps, last = n - 1;
    long long(*c)[TASK_NSTATES] = xcalloc((size_t)n + 1, sizeof(*c));
    int rc = store_study_step_counts(r->st, r->study_id, n, c, err);

    if (rc == SWEEP_OK) {
        r->chains_open = c[last][TASK_PENDING] + c[last][TASK_RUNNING] +
                         c[last][TASK_WAITING] + c[last][TASK_INTERRUPTED];
        r->chains_failed = c[last][TASK_FAILED] + c[last][TASK_TIMED_OUT] +
                           c[last][TASK_CANCELLED] + c[last][TASK_SKIPPED];
    }
    free(c);
    return rc;
}

/* Releases the reduce in a transaction of its own when every chain has ended. */
int rn_release_if_done(struct runner *r, struct err *err)
{
    int rc = SWEEP_OK;

    if (r->chains_open == 0) {
        rc = store_begin(r->st, err);
        studylog_begin(r->log);
        if (!rc)
            rc = release_reduce(r, err);
        if (!rc)
            rc = store_commit(r->st, err);
        if (rc) {
            store_rollback(r->st);
            studylog_rollback(r->log);
        } else {
            studylog_commit(r->log);
        }
    }
    return rc;
}

/* At the start of a run with a reduce: the chains still open, and the reduce itself if
 * it waits; released at once when every chain has already ended (a run killed after
 * the last chain's end and before the reduce). */
int rn_pipeline_start(struct runner *r, struct err *err)
{
    int rc = rn_count_chains(r, err);

    if (rc)
        return rc;
    rc = store_task_last(r->st, r->study_id, r->generation, &r->reduce, err);
    if (rc)
        return rc;
    /* A reduce that ran before runs again when some chain runs again: its input
     * changes. */
    if (r->reduce.chain < 0 && r->reduce.state == TASK_SUCCEEDED &&
        r->chains_open > 0) {
        rc = store_task_set_state(r->st, r->reduce.id, TASK_SUCCEEDED, TASK_WAITING,
                                  NULL, err);
        if (rc)
            return rc;
        r->reduce.state = TASK_WAITING;
    }
    if (r->reduce.chain >= 0 || r->reduce.state != TASK_WAITING) {
        store_task_fini(&r->reduce);
        return SWEEP_OK;
    }
    return rn_release_if_done(r, err);
}
