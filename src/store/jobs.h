/*
 * jobs.h — the job queue: one row per job in `jobs`, its log lines in `job_logs`.
 *
 * States: pending → running → completed | failed | cancelled, and pending → cancelled.
 * A worker claims a job by setting it running with a lease (owner + expiry) in one short write
 * transaction; it renews the lease while it works (heartbeat, progress). A running job whose
 * lease expired (its worker died) is claimed again by any worker. Every write a worker makes
 * is conditioned on it still holding the lease, so a cancelled (or re-claimed) job tells its
 * old worker to stop: the write answers SP_CONFLICT.
 *
 * Packaging jobs drive their release's status: queued while pending, processing while running,
 * completed or failed at the end (a cancelled packaging job leaves the release failed).
 */
#ifndef SP_STORE_JOBS_H
#define SP_STORE_JOBS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

/* NULL-terminated. */
extern const char *const sp_job_statuses[]; /* pending running completed failed cancelled */
extern const char *const sp_job_types[];    /* package download nfofix readnfo repack dirfix */

/* 1 when a job in `status` can no longer change (completed, failed, cancelled). */
bool sp_job_status_final(const char *status);
/* 1 when jobs of this type pack a release (and so drive its status). */
bool sp_job_type_packs(const char *type);

struct sp_job {
    int64_t id;
    int64_t release_id; /* 0 = none */
    int64_t user_id;
    char job_type[16];
    char status[16];
    int progress; /* 0-100 */
    char step[32];
    char *params; /* JSON object text (heap) */
    char *error;  /* heap, NULL when none */
    int attempts;
    int64_t created_at, updated_at, started_at, finished_at; /* 0 = not yet */
};

void sp_job_clear(struct sp_job *j);

struct sp_job_query {
    int64_t user_id;      /* 0 = everyone's */
    const char *status;   /* NULL = any */
    const char *job_type; /* NULL = any */
    int64_t release_id;   /* 0 = any */
    int64_t page;         /* >= 1 */
    int64_t per_page;     /* 1..100 */
};

struct sp_job_list {
    struct sp_job *items;
    size_t n;
    int64_t total;
};

void sp_job_list_free(struct sp_job_list *l);

/* Newest first. SP_OK, SP_AGAIN, SP_ERR. */
int sp_store_job_list(struct sp_db *db, const struct sp_job_query *q, struct sp_job_list *out);
/* SP_OK (out filled; clear it), SP_NOTFOUND, SP_AGAIN, SP_ERR. */
int sp_store_job_get(struct sp_db *db, int64_t id, struct sp_job *out);

struct sp_job_log {
    int64_t line;
    char level[8];
    char *message; /* heap */
    int64_t created_at;
};

struct sp_job_log_list {
    struct sp_job_log *items;
    size_t n;
    int64_t total; /* lines after `since` */
};

void sp_job_log_list_free(struct sp_job_log_list *l);

/* The log lines of a job numbered above `since`, in order, one page of them.
 * SP_OK, SP_AGAIN, SP_ERR. */
int sp_store_job_logs(struct sp_db *db, int64_t job_id, int64_t since, int64_t page,
                      int64_t per_page, struct sp_job_log_list *out);
/* Append a log line (numbered after the last one). level: "info", "warn" or "error".
 * SP_OK, SP_AGAIN, SP_ERR. */
int sp_store_job_log(struct sp_db *db, int64_t job_id, const char *level, const char *message,
                     int64_t now);

/* Insert a pending job. params: JSON object text (NULL = "{}"). SP_OK (*id set), SP_AGAIN,
 * SP_ERR. Joins the caller's transaction when one is open. */
int sp_store_job_create(struct sp_db *db, int64_t release_id, int64_t user_id, const char *type,
                        const char *params, int64_t now, int64_t *id);

/* sp_store_job_create, refused with SP_CONFLICT (e names "status") when the release already has
 * a pending or running job — checked in the same transaction. */
int sp_store_job_create_exclusive(struct sp_db *db, int64_t release_id, int64_t user_id,
                                  const char *type, const char *params, int64_t now, int64_t *id,
                                  struct sp_err *e);

/* 1 when release `id` has a job that is pending or running (of any type), 0 when not, -1 on a
 * database error. */
int sp_store_job_active_for_release(struct sp_db *db, int64_t release_id);

/*
 * Cancel job `id`: pending or running → cancelled (finished now); a packaging job's release
 * becomes failed. The worker of a running job notices at its next write (SP_CONFLICT) and
 * removes its partial output. SP_OK (out, if not NULL, filled), SP_NOTFOUND, SP_CONFLICT (the
 * job is already completed, failed or cancelled; e says so), SP_AGAIN, SP_ERR.
 */
int sp_store_job_cancel(struct sp_db *db, int64_t id, int64_t now, struct sp_job *out,
                        struct sp_err *e);

/* ---- the runner's side ---- */

/*
 * Claim the oldest pending job, or else a running job whose lease expired before `now`: it
 * becomes running under `owner` until now + lease_s, attempts + 1, started_at set once; a
 * packaging job's release moves to processing (an empty queue is seen with a read, without
 * taking the write lock). A job that already had `max_attempts`
 * attempts is failed instead ("its worker stopped N times"), with its release.
 * SP_OK (out filled), SP_NOTFOUND (nothing to do), SP_AGAIN, SP_ERR.
 */
int sp_store_job_claim(struct sp_db *db, const char *owner, int64_t now, int lease_s,
                       int max_attempts, struct sp_job *out);

/* Renew the lease and record progress (progress < 0 or step NULL: leave as is).
 * SP_OK, SP_CONFLICT (no longer running under this owner: cancelled or re-claimed), SP_AGAIN,
 * SP_ERR. */
int sp_store_job_touch(struct sp_db *db, int64_t id, const char *owner, int progress,
                       const char *step, int64_t lease_until, int64_t now);

/* End a running job held by `owner`: status "completed" (progress 100) or "failed" (error
 * recorded); a packaging job's release becomes completed / failed with it. SP_OK, SP_CONFLICT
 * (no longer ours), SP_AGAIN, SP_ERR. */
int sp_store_job_finish(struct sp_db *db, int64_t id, const char *owner, const char *status,
                        const char *error, int64_t now);

/* Give a running job back to the queue (pending, lease cleared, progress 0; its release
 * queued again) — a worker stopping for a shutdown. SP_OK, SP_CONFLICT, SP_AGAIN, SP_ERR. */
int sp_store_job_release(struct sp_db *db, int64_t id, const char *owner, int64_t now);

/* Everyone's jobs by status (from the trigger-kept job_counts table). */
struct sp_job_counts {
    int64_t pending, running, completed, failed, cancelled;
};
int sp_store_job_counts(struct sp_db *db, struct sp_job_counts *out);

#endif
