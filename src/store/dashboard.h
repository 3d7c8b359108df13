/*
 * dashboard.h — the figures of GET /api/dashboard/stats, read from the trigger-kept counter
 * tables (release_counts, job_counts) so they never scan a million rows.
 */
#ifndef SP_STORE_DASHBOARD_H
#define SP_STORE_DASHBOARD_H

#include <stdint.h>

#include "util/common.h"

struct sp_db;

#define SP_DASH_MAX_TYPES 16
#define SP_DASH_RECENT 5

struct sp_dash_recent {
    int64_t id;
    char name[256]; /* "" with has_name = 0 when the name is not known yet */
    int has_name;
    char status[16];
    char release_type[32];
    char group[64]; /* "" when the group row is missing */
    int64_t created_at;
};

/* Everyone's figures (user_id 0 rows of the counter tables). */
struct sp_dash_global {
    int64_t total_releases;
    int64_t total_jobs;
    int64_t jobs_running;
    int64_t by_status[5]; /* in sp_release_statuses order */
    int ntypes;
    struct {
        char type[32];
        int64_t n;
    } by_type[SP_DASH_MAX_TYPES]; /* every known type, then any other type seen */
    int nrecent;
    struct sp_dash_recent recent[SP_DASH_RECENT]; /* newest first */
};

/* SP_OK, SP_AGAIN, SP_ERR. */
int sp_store_dashboard_global(struct sp_db *db, struct sp_dash_global *out);

/* One user's release and job totals. SP_OK, SP_AGAIN, SP_ERR. */
int sp_store_dashboard_user(struct sp_db *db, int64_t user_id, int64_t *releases, int64_t *jobs);

#endif
