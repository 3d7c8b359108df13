/* dashboard.c — dashboard figures from the counter tables kept by triggers. */
#include "store/dashboard.h"

#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "store/releases.h"
#include "store/tx.h"

static void add_type(struct sp_dash_global *g, const char *type, int64_t n)
{
    for (int i = 0; i < g->ntypes; i++) {
        if (strcmp(g->by_type[i].type, type) == 0) {
            g->by_type[i].n += n;
            return;
        }
    }
    if (g->ntypes == SP_DASH_MAX_TYPES)
        return;
    snprintf(g->by_type[g->ntypes].type, sizeof g->by_type[0].type, "%s", type);
    g->by_type[g->ntypes++].n = n;
}

int sp_store_dashboard_global(struct sp_db *db, struct sp_dash_global *out)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; sp_release_types[i]; i++)
        add_type(out, sp_release_types[i], 0);

    struct sp_stmt *st = sp_db_prepare(
        db, "SELECT status, release_type, n FROM release_counts WHERE user_id = 0 AND n > 0");
    if (!st)
        return SP_ERR;
    int rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        const char *status = sp_stmt_column_text(st, 0);
        const char *type = sp_stmt_column_text(st, 1);
        int64_t n = sp_stmt_column_int(st, 2);
        out->total_releases += n;
        int si = sp_release_status_index(status);
        if (si >= 0)
            out->by_status[si] += n;
        if (type)
            add_type(out, type, n);
    }
    sp_stmt_reset(st);
    if (rc != SP_DONE)
        return sp_store_step_rc(rc);

    st = sp_db_prepare(db, "SELECT status, n FROM job_counts WHERE user_id = 0 AND n > 0");
    if (!st)
        return SP_ERR;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        const char *status = sp_stmt_column_text(st, 0);
        int64_t n = sp_stmt_column_int(st, 1);
        out->total_jobs += n;
        if (status && strcmp(status, "running") == 0)
            out->jobs_running += n;
    }
    sp_stmt_reset(st);
    if (rc != SP_DONE)
        return sp_store_step_rc(rc);

    st = sp_db_prepare(db, "SELECT r.id, r.name, r.status, r.release_type, r.created_at, g.name"
                           " FROM releases r LEFT JOIN groups g ON g.id = r.group_id"
                           " ORDER BY r.created_at DESC, r.id DESC LIMIT 5");
    if (!st)
        return SP_ERR;
    while ((rc = sp_stmt_step(st)) == SP_ROW && out->nrecent < SP_DASH_RECENT) {
        struct sp_dash_recent *r = &out->recent[out->nrecent++];
        const char *name = sp_stmt_column_text(st, 1);
        const char *status = sp_stmt_column_text(st, 2);
        const char *type = sp_stmt_column_text(st, 3);
        r->id = sp_stmt_column_int(st, 0);
        r->has_name = name != NULL;
        snprintf(r->name, sizeof r->name, "%s", name ? name : "");
        snprintf(r->status, sizeof r->status, "%s", status ? status : "");
        snprintf(r->release_type, sizeof r->release_type, "%s", type ? type : "");
        r->created_at = sp_stmt_column_int(st, 4);
        const char *group = sp_stmt_column_text(st, 5);
        snprintf(r->group, sizeof r->group, "%s", group ? group : "");
    }
    sp_stmt_reset(st);
    if (rc != SP_DONE && rc != SP_ROW)
        return sp_store_step_rc(rc);
    return SP_OK;
}

static int sum_for(struct sp_db *db, const char *sql, int64_t user_id, int64_t *out)
{
    struct sp_stmt *st = sp_db_prepare(db, sql);
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, user_id);
    int rc = sp_stmt_step(st);
    *out = rc == SP_ROW ? sp_stmt_column_int(st, 0) : 0;
    sp_stmt_reset(st);
    return rc == SP_ROW ? SP_OK : sp_store_step_rc(rc);
}

int sp_store_dashboard_user(struct sp_db *db, int64_t user_id, int64_t *releases, int64_t *jobs)
{
    *releases = *jobs = 0;
    if (user_id <= 0)
        return SP_OK;
    int rc = sum_for(db, "SELECT COALESCE(SUM(n), 0) FROM release_counts WHERE user_id = ?",
                     user_id, releases);
    if (rc != SP_OK)
        return rc;
    return sum_for(db, "SELECT COALESCE(SUM(n), 0) FROM job_counts WHERE user_id = ?", user_id,
                   jobs);
}
