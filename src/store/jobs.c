/* jobs.c — the job queue (see jobs.h). Every write is one short transaction. */
#include "store/jobs.h"

#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "store/tx.h"
#include "util/alloc.h"
#include "util/log.h"

const char *const sp_job_statuses[] = {"pending", "running",   "completed",
                                       "failed",  "cancelled", NULL};
const char *const sp_job_types[] = {"package", "download", "nfofix", "readnfo",
                                    "repack",  "dirfix",   NULL};

bool sp_job_status_final(const char *s)
{
    return s && (!strcmp(s, "completed") || !strcmp(s, "failed") || !strcmp(s, "cancelled"));
}

bool sp_job_type_packs(const char *t)
{
    return t && strcmp(t, "download") != 0;
}

void sp_job_clear(struct sp_job *j)
{
    if (!j)
        return;
    sp_free(j->params);
    sp_free(j->error);
    memset(j, 0, sizeof *j);
}

void sp_job_list_free(struct sp_job_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        sp_job_clear(&l->items[i]);
    sp_free(l->items);
    memset(l, 0, sizeof *l);
}

void sp_job_log_list_free(struct sp_job_log_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        sp_free(l->items[i].message);
    sp_free(l->items);
    memset(l, 0, sizeof *l);
}

#define JOB_COLS                                                                                   \
    "id, release_id, user_id, job_type, status, progress, step, params, error, attempts,"          \
    " created_at, updated_at, started_at, finished_at"

static void copy_text(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

static void read_job(struct sp_stmt *st, struct sp_job *j)
{
    memset(j, 0, sizeof *j);
    j->id = sp_stmt_column_int(st, 0);
    j->release_id = sp_stmt_column_int(st, 1);
    j->user_id = sp_stmt_column_int(st, 2);
    copy_text(j->job_type, sizeof j->job_type, sp_stmt_column_text(st, 3));
    copy_text(j->status, sizeof j->status, sp_stmt_column_text(st, 4));
    j->progress = (int)sp_stmt_column_int(st, 5);
    copy_text(j->step, sizeof j->step, sp_stmt_column_text(st, 6));
    const char *p = sp_stmt_column_text(st, 7);
    j->params = sp_strdup(p ? p : "{}");
    const char *err = sp_stmt_column_text(st, 8);
    j->error = err ? sp_strdup(err) : NULL;
    j->attempts = (int)sp_stmt_column_int(st, 9);
    j->created_at = sp_stmt_column_int(st, 10);
    j->updated_at = sp_stmt_column_int(st, 11);
    j->started_at = sp_stmt_column_int(st, 12);
    j->finished_at = sp_stmt_column_int(st, 13);
}

/* ---- reads ---- */

int sp_store_job_get(struct sp_db *db, int64_t id, struct sp_job *out)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT " JOB_COLS " FROM jobs WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        read_job(st, out);
    sp_stmt_reset(st);
    return rc == SP_ROW ? SP_OK : rc == SP_DONE ? SP_NOTFOUND : sp_store_step_rc(rc);
}

/* Bind the list filters in the order the WHERE clause names them. */
static int bind_filters(struct sp_stmt *st, const struct sp_job_query *q, int idx)
{
    if (q->user_id)
        sp_stmt_bind_int(st, idx++, q->user_id);
    if (q->status)
        sp_stmt_bind_text(st, idx++, q->status);
    if (q->job_type)
        sp_stmt_bind_text(st, idx++, q->job_type);
    if (q->release_id)
        sp_stmt_bind_int(st, idx++, q->release_id);
    return idx;
}

int sp_store_job_list(struct sp_db *db, const struct sp_job_query *q, struct sp_job_list *out)
{
    memset(out, 0, sizeof *out);
    char where[256] = "";
    size_t w = 0;
    const char *conds[4] = {q->user_id ? "user_id = ?" : NULL, q->status ? "status = ?" : NULL,
                            q->job_type ? "job_type = ?" : NULL,
                            q->release_id ? "release_id = ?" : NULL};
    for (int i = 0; i < 4; i++) {
        if (!conds[i])
            continue;
        w += (size_t)snprintf(where + w, sizeof where - w, "%s%s", w ? " AND " : " WHERE ",
                              conds[i]);
    }
    int rc = SP_OK;
    /* Totals: the counter table answers "everyone" and "one user" (optionally by status) without
     * counting rows; other filters count through their index. */
    struct sp_stmt *st;
    char sql[512];
    bool from_counts = !q->job_type && !q->release_id;
    if (from_counts) {
        snprintf(sql, sizeof sql, "SELECT COALESCE(SUM(n), 0) FROM job_counts WHERE user_id = ?%s",
                 q->status ? " AND status = ?" : "");
        st = sp_db_prepare_once(db, sql);
        if (!st)
            return SP_ERR;
        sp_stmt_bind_int(st, 1, q->user_id);
        if (q->status)
            sp_stmt_bind_text(st, 2, q->status);
    } else {
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM jobs%s", where);
        st = sp_db_prepare_once(db, sql);
        if (!st)
            return SP_ERR;
        bind_filters(st, q, 1);
    }
    int s = sp_stmt_step(st);
    if (s == SP_ROW)
        out->total = sp_stmt_column_int(st, 0);
    sp_stmt_finalize(st);
    if (s != SP_ROW)
        return sp_store_step_rc(s);
    if (out->total < 0)
        out->total = 0;

    snprintf(sql, sizeof sql, "SELECT " JOB_COLS " FROM jobs%s ORDER BY id DESC LIMIT ? OFFSET ?",
             where);
    st = sp_db_prepare_once(db, sql);
    if (!st)
        return SP_ERR;
    int idx = bind_filters(st, q, 1);
    sp_stmt_bind_int(st, idx++, q->per_page);
    sp_stmt_bind_int(st, idx, (q->page - 1) * q->per_page);
    size_t cap = 0;
    while ((s = sp_stmt_step(st)) == SP_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = sp_reallocarray(out->items, cap, sizeof *out->items);
        }
        read_job(st, &out->items[out->n++]);
    }
    sp_stmt_finalize(st);
    if (s != SP_DONE) {
        rc = sp_store_step_rc(s);
        sp_job_list_free(out);
    }
    return rc;
}

int sp_store_job_logs(struct sp_db *db, int64_t job_id, int64_t since, int64_t page,
                      int64_t per_page, struct sp_job_log_list *out)
{
    memset(out, 0, sizeof *out);
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT COUNT(*) FROM job_logs WHERE job_id = ? AND line > ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, job_id);
    sp_stmt_bind_int(st, 2, since);
    int s = sp_stmt_step(st);
    if (s == SP_ROW)
        out->total = sp_stmt_column_int(st, 0);
    sp_stmt_reset(st);
    if (s != SP_ROW)
        return sp_store_step_rc(s);
    st = sp_db_prepare(db, "SELECT line, level, message, created_at FROM job_logs"
                           " WHERE job_id = ? AND line > ? ORDER BY line LIMIT ? OFFSET ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, job_id);
    sp_stmt_bind_int(st, 2, since);
    sp_stmt_bind_int(st, 3, per_page);
    sp_stmt_bind_int(st, 4, (page - 1) * per_page);
    size_t cap = 0;
    while ((s = sp_stmt_step(st)) == SP_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = sp_reallocarray(out->items, cap, sizeof *out->items);
        }
        struct sp_job_log *l = &out->items[out->n++];
        l->line = sp_stmt_column_int(st, 0);
        copy_text(l->level, sizeof l->level, sp_stmt_column_text(st, 1));
        const char *m = sp_stmt_column_text(st, 2);
        l->message = sp_strdup(m ? m : "");
        l->created_at = sp_stmt_column_int(st, 3);
    }
    sp_stmt_reset(st);
    if (s != SP_DONE) {
        sp_job_log_list_free(out);
        return sp_store_step_rc(s);
    }
    return SP_OK;
}

int sp_store_job_counts(struct sp_db *db, struct sp_job_counts *out)
{
    memset(out, 0, sizeof *out);
    struct sp_stmt *st = sp_db_prepare(db, "SELECT status, n FROM job_counts WHERE user_id = 0");
    if (!st)
        return SP_ERR;
    int s;
    while ((s = sp_stmt_step(st)) == SP_ROW) {
        const char *status = sp_stmt_column_text(st, 0);
        int64_t n = sp_stmt_column_int(st, 1);
        if (!status || n < 0)
            continue;
        if (!strcmp(status, "pending"))
            out->pending = n;
        else if (!strcmp(status, "running"))
            out->running = n;
        else if (!strcmp(status, "completed"))
            out->completed = n;
        else if (!strcmp(status, "failed"))
            out->failed = n;
        else if (!strcmp(status, "cancelled"))
            out->cancelled = n;
    }
    sp_stmt_reset(st);
    return s == SP_DONE ? SP_OK : sp_store_step_rc(s);
}

int sp_store_job_active_for_release(struct sp_db *db, int64_t release_id)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT 1 FROM jobs WHERE release_id = ?"
                                           " AND status IN ('pending', 'running') LIMIT 1");
    if (!st)
        return -1;
    sp_stmt_bind_int(st, 1, release_id);
    int s = sp_stmt_step(st);
    sp_stmt_reset(st);
    return s == SP_ROW ? 1 : s == SP_DONE ? 0 : -1;
}

/* ---- writes ---- */

int sp_store_job_log(struct sp_db *db, int64_t job_id, const char *level, const char *message,
                     int64_t now)
{
    /* The worker is the only writer of a job's log except for a cancel: a clash on the line
     * number (UNIQUE) is retried once with the next number. */
    int rc = SP_ERR;
    for (int attempt = 0; attempt < 3; attempt++) {
        struct sp_stmt *st = sp_db_prepare(
            db, "INSERT INTO job_logs(job_id, line, level, message, created_at) VALUES (?,"
                " (SELECT COALESCE(MAX(line), 0) + 1 FROM job_logs WHERE job_id = ?), ?, ?, ?)");
        if (!st)
            return SP_ERR;
        sp_stmt_bind_int(st, 1, job_id);
        sp_stmt_bind_int(st, 2, job_id);
        sp_stmt_bind_text(st, 3, level ? level : "info");
        sp_stmt_bind_text(st, 4, message ? message : "");
        sp_stmt_bind_int(st, 5, now);
        rc = sp_store_exec_rc(st);
        if (rc != SP_CONFLICT)
            return rc;
    }
    return rc == SP_CONFLICT ? SP_ERR : rc;
}

int sp_store_job_create(struct sp_db *db, int64_t release_id, int64_t user_id, const char *type,
                        const char *params, int64_t now, int64_t *id)
{
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO jobs(release_id, user_id, job_type, status, progress, step, params,"
            " created_at, updated_at) VALUES (?, ?, ?, 'pending', 0, 'queued', ?, ?, ?)");
    if (!st)
        return SP_ERR;
    if (release_id > 0)
        sp_stmt_bind_int(st, 1, release_id);
    else
        sp_stmt_bind_null(st, 1);
    sp_stmt_bind_int(st, 2, user_id);
    sp_stmt_bind_text(st, 3, type);
    sp_stmt_bind_text(st, 4, params ? params : "{}");
    sp_stmt_bind_int(st, 5, now);
    sp_stmt_bind_int(st, 6, now);
    int rc = sp_store_exec_rc(st);
    if (rc == SP_CONFLICT)
        rc = SP_ERR; /* a foreign key: the release vanished */
    if (rc == SP_OK)
        *id = sp_db_last_insert_id(db);
    return rc;
}

int sp_store_job_create_exclusive(struct sp_db *db, int64_t release_id, int64_t user_id,
                                  const char *type, const char *params, int64_t now, int64_t *id,
                                  struct sp_err *e)
{
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    int a = sp_store_job_active_for_release(db, release_id);
    if (a != 0) {
        if (a > 0)
            sp_err_set(e, "status", "release %lld already has a job in progress",
                       (long long)release_id);
        rc = a > 0 ? SP_CONFLICT : SP_ERR;
        goto fail;
    }
    if ((rc = sp_store_job_create(db, release_id, user_id, type, params, now, id)) != SP_OK)
        goto fail;
    if ((rc = sp_store_tx_commit(db, own)) != SP_OK)
        goto fail;
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    return rc;
}

/* Move a packaging job's release to `to` when it is in `from` (a no-op otherwise). */
static int release_follow(struct sp_db *db, const struct sp_job *j, const char *to,
                          const char *from1, const char *from2, int64_t now)
{
    if (!j->release_id || !sp_job_type_packs(j->job_type))
        return SP_OK;
    struct sp_stmt *st = sp_db_prepare(db, "UPDATE releases SET status = ?, updated_at = ?"
                                           " WHERE id = ? AND status IN (?, ?)");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, to);
    sp_stmt_bind_int(st, 2, now);
    sp_stmt_bind_int(st, 3, j->release_id);
    sp_stmt_bind_text(st, 4, from1);
    sp_stmt_bind_text(st, 5, from2 ? from2 : from1);
    return sp_store_exec_rc(st);
}

int sp_store_job_cancel(struct sp_db *db, int64_t id, int64_t now, struct sp_job *out,
                        struct sp_err *e)
{
    struct sp_job j = {0};
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    if ((rc = sp_store_job_get(db, id, &j)) != SP_OK)
        goto fail;
    if (sp_job_status_final(j.status)) {
        sp_err_set(e, "status", "job %lld is already %s", (long long)id, j.status);
        rc = SP_CONFLICT;
        goto fail;
    }
    struct sp_stmt *st = sp_db_prepare(
        db, "UPDATE jobs SET status = 'cancelled', step = 'cancelled', finished_at = ?,"
            " updated_at = ?, lease_owner = NULL, lease_until = NULL"
            " WHERE id = ? AND status IN ('pending', 'running')");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, now);
    sp_stmt_bind_int(st, 2, now);
    sp_stmt_bind_int(st, 3, id);
    if ((rc = sp_store_exec_rc(st)) != SP_OK)
        goto fail;
    if ((rc = release_follow(db, &j, "failed", "queued", "processing", now)) != SP_OK)
        goto fail;
    if ((rc = sp_store_tx_commit(db, own)) != SP_OK)
        goto fail;
    sp_job_clear(&j);
    return out ? sp_store_job_get(db, id, out) : SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    sp_job_clear(&j);
    return rc;
}

/* Is there anything to claim? A read outside any transaction, so idle workers polling the queue
 * never take the write lock. 1 yes, 0 no, or an error code (negative). */
static int claimable(struct sp_db *db, int64_t now)
{
    struct sp_stmt *st = sp_db_prepare(
        db, "SELECT 1 FROM jobs WHERE status = 'pending'"
            " UNION ALL SELECT 1 FROM jobs WHERE status = 'running' AND lease_until < ? LIMIT 1");
    if (!st)
        return -SP_ERR;
    sp_stmt_bind_int(st, 1, now);
    int s = sp_stmt_step(st);
    sp_stmt_reset(st);
    return s == SP_ROW ? 1 : s == SP_DONE ? 0 : -sp_store_step_rc(s);
}

int sp_store_job_claim(struct sp_db *db, const char *owner, int64_t now, int lease_s,
                       int max_attempts, struct sp_job *out)
{
    if (!sp_db_in_transaction(db)) {
        int c = claimable(db, now);
        if (c <= 0)
            return c == 0 ? SP_NOTFOUND : -c;
    }
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    bool maria = sp_db_dialect(db) == SP_DIALECT_MARIADB;
    /* Pending work first, oldest first; then running jobs whose worker stopped renewing. */
    struct sp_stmt *st = sp_db_prepare(
        db, maria ? "SELECT id FROM jobs WHERE status = 'pending' ORDER BY id LIMIT 1"
                    " FOR UPDATE SKIP LOCKED"
                  : "SELECT id FROM jobs WHERE status = 'pending' ORDER BY id LIMIT 1");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    int s = sp_stmt_step(st);
    int64_t id = s == SP_ROW ? sp_stmt_column_int(st, 0) : 0;
    sp_stmt_reset(st);
    if (s != SP_ROW && s != SP_DONE) {
        rc = sp_store_step_rc(s);
        goto fail;
    }
    if (!id) {
        st = sp_db_prepare(db, maria ? "SELECT id FROM jobs WHERE status = 'running' AND"
                                       " lease_until < ? ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
                                     : "SELECT id FROM jobs WHERE status = 'running' AND"
                                       " lease_until < ? ORDER BY id LIMIT 1");
        if (!st) {
            rc = SP_ERR;
            goto fail;
        }
        sp_stmt_bind_int(st, 1, now);
        s = sp_stmt_step(st);
        id = s == SP_ROW ? sp_stmt_column_int(st, 0) : 0;
        sp_stmt_reset(st);
        if (s != SP_ROW && s != SP_DONE) {
            rc = sp_store_step_rc(s);
            goto fail;
        }
    }
    if (!id) {
        sp_store_tx_rollback(db, own);
        return SP_NOTFOUND;
    }
    if ((rc = sp_store_job_get(db, id, out)) != SP_OK)
        goto fail;
    if (out->attempts >= max_attempts) {
        char msg[160];
        snprintf(msg, sizeof msg, "the job was started %d times and its worker stopped each time",
                 out->attempts);
        st = sp_db_prepare(db, "UPDATE jobs SET status = 'failed', error = ?, finished_at = ?,"
                               " updated_at = ?, lease_owner = NULL, lease_until = NULL"
                               " WHERE id = ?");
        if (!st) {
            rc = SP_ERR;
            goto fail;
        }
        sp_stmt_bind_text(st, 1, msg);
        sp_stmt_bind_int(st, 2, now);
        sp_stmt_bind_int(st, 3, now);
        sp_stmt_bind_int(st, 4, id);
        if ((rc = sp_store_exec_rc(st)) != SP_OK ||
            (rc = release_follow(db, out, "failed", "queued", "processing", now)) != SP_OK)
            goto fail;
        (void)sp_store_job_log(db, id, "error", msg, now);
        if ((rc = sp_store_tx_commit(db, own)) != SP_OK)
            goto fail;
        sp_job_clear(out);
        sp_warn("job failed", "job %lld: %s", (long long)id, msg);
        /* look again: there may be other work */
        return sp_store_job_claim(db, owner, now, lease_s, max_attempts, out);
    }
    bool reclaimed = !strcmp(out->status, "running");
    st = sp_db_prepare(db, "UPDATE jobs SET status = 'running', lease_owner = ?, lease_until = ?,"
                           " attempts = attempts + 1, started_at = COALESCE(started_at, ?),"
                           " step = 'starting', updated_at = ? WHERE id = ?");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_text(st, 1, owner);
    sp_stmt_bind_int(st, 2, now + lease_s);
    sp_stmt_bind_int(st, 3, now);
    sp_stmt_bind_int(st, 4, now);
    sp_stmt_bind_int(st, 5, id);
    if ((rc = sp_store_exec_rc(st)) != SP_OK)
        goto fail;
    if ((rc = release_follow(db, out, "processing", "queued", NULL, now)) != SP_OK)
        goto fail;
    char msg[200];
    if (reclaimed)
        snprintf(msg, sizeof msg, "lease expired: picked up again by %s (attempt %d)", owner,
                 out->attempts + 1);
    else
        snprintf(msg, sizeof msg, "started by %s", owner);
    if ((rc = sp_store_job_log(db, id, reclaimed ? "warn" : "info", msg, now)) != SP_OK)
        goto fail;
    if ((rc = sp_store_tx_commit(db, own)) != SP_OK)
        goto fail;
    snprintf(out->status, sizeof out->status, "running");
    snprintf(out->step, sizeof out->step, "starting");
    out->attempts++;
    if (!out->started_at)
        out->started_at = now;
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    sp_job_clear(out);
    return rc;
}

int sp_store_job_touch(struct sp_db *db, int64_t id, const char *owner, int progress,
                       const char *step, int64_t lease_until, int64_t now)
{
    struct sp_stmt *st =
        sp_db_prepare(db, "UPDATE jobs SET progress = CASE WHEN ? >= 0 THEN ? ELSE progress END,"
                          " step = COALESCE(?, step), lease_until = ?, updated_at = ?"
                          " WHERE id = ? AND status = 'running' AND lease_owner = ?");
    if (!st)
        return SP_ERR;
    int p = progress > 100 ? 100 : progress;
    sp_stmt_bind_int(st, 1, p);
    sp_stmt_bind_int(st, 2, p);
    sp_stmt_bind_text(st, 3, step);
    sp_stmt_bind_int(st, 4, lease_until);
    sp_stmt_bind_int(st, 5, now);
    sp_stmt_bind_int(st, 6, id);
    sp_stmt_bind_text(st, 7, owner);
    return sp_store_exec_guarded(db, st);
}

int sp_store_job_finish(struct sp_db *db, int64_t id, const char *owner, const char *status,
                        const char *error, int64_t now)
{
    bool completed = !strcmp(status, "completed");
    struct sp_job j = {0};
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    if ((rc = sp_store_job_get(db, id, &j)) != SP_OK)
        goto fail;
    struct sp_stmt *st =
        sp_db_prepare(db, "UPDATE jobs SET status = ?, error = ?, finished_at = ?, updated_at = ?,"
                          " progress = CASE WHEN ? THEN 100 ELSE progress END, step = ?,"
                          " lease_owner = NULL, lease_until = NULL"
                          " WHERE id = ? AND status = 'running' AND lease_owner = ?");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_text(st, 1, completed ? "completed" : "failed");
    sp_stmt_bind_text(st, 2, completed ? NULL : error);
    sp_stmt_bind_int(st, 3, now);
    sp_stmt_bind_int(st, 4, now);
    sp_stmt_bind_int(st, 5, completed ? 1 : 0);
    sp_stmt_bind_text(st, 6, completed ? "done" : "failed");
    sp_stmt_bind_int(st, 7, id);
    sp_stmt_bind_text(st, 8, owner);
    if ((rc = sp_store_exec_guarded(db, st)) != SP_OK)
        goto fail;
    if ((rc = release_follow(db, &j, completed ? "completed" : "failed", "processing", "queued",
                             now)) != SP_OK)
        goto fail;
    rc = sp_store_tx_commit(db, own);
    if (rc != SP_OK)
        goto fail;
    sp_job_clear(&j);
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    sp_job_clear(&j);
    return rc;
}

int sp_store_job_release(struct sp_db *db, int64_t id, const char *owner, int64_t now)
{
    struct sp_job j = {0};
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    if ((rc = sp_store_job_get(db, id, &j)) != SP_OK)
        goto fail;
    struct sp_stmt *st =
        sp_db_prepare(db, "UPDATE jobs SET status = 'pending', progress = 0, step = 'queued',"
                          " lease_owner = NULL, lease_until = NULL, updated_at = ?"
                          " WHERE id = ? AND status = 'running' AND lease_owner = ?");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, now);
    sp_stmt_bind_int(st, 2, id);
    sp_stmt_bind_text(st, 3, owner);
    if ((rc = sp_store_exec_guarded(db, st)) != SP_OK)
        goto fail;
    if ((rc = release_follow(db, &j, "queued", "processing", NULL, now)) != SP_OK)
        goto fail;
    (void)sp_store_job_log(db, id, "warn", "the server stopped: back in the queue", now);
    rc = sp_store_tx_commit(db, own);
    if (rc != SP_OK)
        goto fail;
    sp_job_clear(&j);
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    sp_job_clear(&j);
    return rc;
}
