/*
 * runner.h — the job runner of one process: SP_WORKERS worker threads that claim jobs from the
 * database queue (store/jobs.h), a heartbeat thread that renews their leases and notices
 * cancellations made elsewhere, a sweep of what killed workers left behind, and a small pool
 * for request work that must not run on an I/O thread (file analysis, packing previews).
 *
 * Workers use their own database connections and short write transactions (claim, progress at
 * most once a second, finish), so they never hold the write lock while packing.
 *
 * Job types: "package" (the wizard's finalize), "nfofix" / "readnfo" / "repack" / "dirfix"
 * (release actions: pack the derived release) and "download" (step 4 from a URL: fetch the
 * book with libcurl into the release's upload).
 */
#ifndef SP_JOBS_RUNNER_H
#define SP_JOBS_RUNNER_H

#include <stdint.h>

#include "util/common.h"

struct sp_app;
struct sp_pool;

/* Seconds a claimed job stays leased without renewal; a job whose lease ran out is picked up
 * again by any worker (its worker is presumed dead). */
#define SP_JOB_LEASE_S 60
/* A job whose worker died this many times is failed instead of being retried. */
#define SP_JOB_MAX_ATTEMPTS 3
/* Temporary packing directories and upload files idle this long belong to nobody any more. */
#define SP_JOB_SWEEP_AGE_S 600

/* Sweep the data directory, start app->cfg.workers workers (0: this instance only serves the
 * API; jobs wait for another instance), the heartbeat and the request pool; wire the jobs
 * metrics. Sets app->jobs. SP_OK or SP_ERR with e. */
int sp_jobs_start(struct sp_app *app, struct sp_err *e);
/* Stop: running jobs are interrupted and given back to the queue (another instance or the next
 * start finishes them); threads joined; the request pool drained. Safe when not started. */
void sp_jobs_stop(struct sp_app *app);

/* A job was queued: wake an idle worker now instead of at its next poll. */
void sp_jobs_notify(struct sp_app *app);
/* Job `job_id` was cancelled: if a worker of this process runs it, it stops at once (others
 * notice at their next database write or heartbeat). */
void sp_jobs_cancel_local(struct sp_app *app, int64_t job_id);

/* The pool for slow request work (parked requests; see http.h). NULL before start. */
struct sp_pool *sp_jobs_request_pool(struct sp_app *app);

/* Remove leftovers under data_dir older than min_age_s seconds (by the newest modification time
 * inside): releases/.sp-pack-* directories of interrupted packings, uploads/.upload-* and
 * uploads/.download-* temporary files. Returns how many were removed. */
int sp_jobs_sweep(const char *data_dir, int64_t min_age_s);

#endif
