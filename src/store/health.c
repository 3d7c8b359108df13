/* health.c — the database part of GET /api/health/ready. */
#include "store/health.h"

#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "util/time.h"

int sp_store_health_check(struct sp_db *db, struct sp_health_db *out)
{
    memset(out, 0, sizeof *out);
    if (!db) {
        snprintf(out->error, sizeof out->error, "no database connection");
        return SP_ERR;
    }
    int64_t t0 = sp_time_mono_ns();
    /* A real read of a real table on this thread's connection: proves the file/server is
     * reachable, the schema is in place, and gives the job figures at the same time. */
    struct sp_stmt *st = sp_db_prepare(db, "SELECT status, n FROM job_counts WHERE user_id = 0");
    if (!st) {
        snprintf(out->error, sizeof out->error, "query failed: %s", sp_db_errmsg(db));
        return SP_ERR;
    }
    int rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        const char *status = sp_stmt_column_text(st, 0);
        int64_t n = sp_stmt_column_int(st, 1);
        if (!status)
            continue;
        if (strcmp(status, "running") == 0)
            out->jobs_running = n;
        else if (strcmp(status, "pending") == 0)
            out->jobs_pending = n;
    }
    sp_stmt_reset(st);
    out->latency_ms = (double)(sp_time_mono_ns() - t0) / 1e6;
    if (rc != SP_DONE) {
        snprintf(out->error, sizeof out->error, "%s: %s",
                 rc == SP_AGAIN ? "database busy" : "query failed", sp_db_errmsg(db));
        return SP_ERR;
    }
    out->ok = true;
    return SP_OK;
}
