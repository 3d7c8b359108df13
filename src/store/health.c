/* health.c — the storage parts of GET /api/health/ready (see health.h). */
#include "store/health.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "store/jobs.h"
#include "store/tx.h"
#include "util/time.h"

/* The file SQLite's "main" schema lives in, from the connection itself (so it is the file this
 * process really uses, whatever the URL looked like). Empty for an in-memory or temporary
 * database. SP_OK or SP_ERR. */
static int sqlite_main_file(struct sp_db *db, char *out, size_t outlen)
{
    out[0] = '\0';
    struct sp_stmt *st = sp_db_prepare(db, "PRAGMA database_list");
    if (!st)
        return SP_ERR;
    int rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        const char *name = sp_stmt_column_text(st, 1);
        const char *file = sp_stmt_column_text(st, 2);
        if (name && !strcmp(name, "main")) {
            snprintf(out, outlen, "%s", file ? file : "");
            break;
        }
    }
    sp_stmt_reset(st);
    return rc == SP_ROW || rc == SP_DONE ? SP_OK : SP_ERR;
}

/* Whether this process (effective ids) may read and write `path`. A missing file is an error
 * only when `required`. On failure fills out->error / out->detail naming `what`. */
static bool file_usable(const char *path, const char *what, bool required, struct sp_health_db *out)
{
    if (faccessat(AT_FDCWD, path, R_OK | W_OK, AT_EACCESS) == 0)
        return true;
    int err = errno;
    if (err == ENOENT && !required)
        return true;
    char buf[128];
    const char *msg = strerror_r(err, buf, sizeof buf);
    snprintf(out->error, sizeof out->error, "%s not readable and writable by the server: %s", what,
             msg);
    snprintf(out->detail, sizeof out->detail, "%s %s: %s", what, path, msg);
    return false;
}

/* The SQLite files this connection needs: the database, and its WAL and shared-memory index
 * when present (WAL mode creates them; a checkpoint on the last close removes them). */
static bool sqlite_files_usable(struct sp_db *db, struct sp_health_db *out)
{
    char path[PATH_MAX];
    if (sqlite_main_file(db, path, sizeof path) != SP_OK) {
        snprintf(out->error, sizeof out->error, "cannot list the database files");
        snprintf(out->detail, sizeof out->detail, "PRAGMA database_list: %s", sp_db_errmsg(db));
        return false;
    }
    if (!path[0])
        return true; /* in memory: no file to lose */
    if (!file_usable(path, "database file", true, out))
        return false;
    char side[PATH_MAX + 8];
    snprintf(side, sizeof side, "%s-wal", path);
    if (!file_usable(side, "database write-ahead log", false, out))
        return false;
    snprintf(side, sizeof side, "%s-shm", path);
    return file_usable(side, "database shared-memory index", false, out);
}

int sp_store_health_db(struct sp_db *db, struct sp_health_db *out)
{
    memset(out, 0, sizeof *out);
    if (!db) {
        snprintf(out->error, sizeof out->error, "no database connection");
        snprintf(out->detail, sizeof out->detail, "this thread could not open a connection");
        return SP_ERR;
    }
    int64_t t0 = sp_time_mono_ns();
    int rc = SP_ERR;
    struct sp_stmt *st;
    if (sp_db_dialect(db) == SP_DIALECT_SQLITE && !sqlite_files_usable(db, out))
        goto out;
    /* A real read of a small real table: the schema is in place and the connection answers. */
    st = sp_db_prepare(db, "SELECT COUNT(*) FROM job_counts WHERE user_id = 0");
    if (!st) {
        snprintf(out->error, sizeof out->error, "the health query could not be prepared");
        snprintf(out->detail, sizeof out->detail, "prepare: %s", sp_db_errmsg(db));
        goto out;
    }
    int s = sp_stmt_step(st);
    sp_stmt_reset(st);
    if (s != SP_ROW) {
        snprintf(out->error, sizeof out->error, "%s",
                 s == SP_AGAIN ? "database busy" : "a read of the database failed");
        snprintf(out->detail, sizeof out->detail, "%s", sp_db_errmsg(db));
        goto out;
    }
    out->ok = true;
    rc = SP_OK;
out:
    out->latency_ms = (double)(sp_time_mono_ns() - t0) / 1e6;
    return rc;
}

static void jobs_error(struct sp_health_jobs *out, int rc, struct sp_db *db)
{
    out->ok = false;
    snprintf(out->error, sizeof out->error, "%s: %s",
             rc == SP_AGAIN ? "database busy" : "cannot read the job queue", sp_db_errmsg(db));
}

int sp_store_health_jobs(struct sp_db *db, int64_t now, int64_t stuck_after_s,
                         struct sp_health_jobs *out)
{
    memset(out, 0, sizeof *out);
    if (!db) {
        snprintf(out->error, sizeof out->error, "no database connection");
        return SP_ERR;
    }
    struct sp_job_counts counts;
    int rc = sp_store_job_counts(db, &counts);
    if (rc != SP_OK) {
        jobs_error(out, rc, db);
        return rc;
    }
    out->pending = counts.pending;

    /* Running jobs are few (one per worker, plus orphans of dead workers): read them all.
     * MIN(lease_until) is the oldest lease; below `now` it has expired. */
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT COUNT(*), SUM(CASE WHEN lease_until < ? THEN 1 ELSE 0 END),"
                          " SUM(CASE WHEN lease_until >= ? THEN 1 ELSE 0 END), MIN(lease_until)"
                          " FROM jobs WHERE status = 'running'");
    if (!st) {
        jobs_error(out, SP_ERR, db);
        return SP_ERR;
    }
    sp_stmt_bind_int(st, 1, now);
    sp_stmt_bind_int(st, 2, now);
    int s = sp_stmt_step(st);
    int64_t live = 0, min_lease = 0;
    bool have_lease = false;
    if (s == SP_ROW) {
        /* SUM over no rows is NULL, which reads as 0. */
        out->running = sp_stmt_column_int(st, 0);
        out->expired = sp_stmt_column_int(st, 1);
        live = sp_stmt_column_int(st, 2);
        have_lease = sp_stmt_column_type(st, 3) != SP_COL_NULL;
        min_lease = sp_stmt_column_int(st, 3);
    }
    sp_stmt_reset(st);
    if (s != SP_ROW) {
        jobs_error(out, s == SP_DONE ? SP_ERR : s, db);
        return sp_store_step_rc(s);
    }
    if (have_lease && min_lease < now)
        out->oldest_wait_s = now - min_lease;

    if (out->pending > 0) {
        /* The head of the queue: the next job a worker claims (oldest first). */
        st = sp_db_prepare(
            db, "SELECT updated_at FROM jobs WHERE status = 'pending' ORDER BY id LIMIT 1");
        if (!st) {
            jobs_error(out, SP_ERR, db);
            return SP_ERR;
        }
        s = sp_stmt_step(st);
        int64_t since = s == SP_ROW ? sp_stmt_column_int(st, 0) : now;
        sp_stmt_reset(st);
        if (s != SP_ROW && s != SP_DONE) {
            jobs_error(out, s, db);
            return sp_store_step_rc(s);
        }
        if (now - since > out->oldest_wait_s)
            out->oldest_wait_s = now - since;
    }

    out->ok = !(live == 0 && out->oldest_wait_s > stuck_after_s);
    return SP_OK;
}
