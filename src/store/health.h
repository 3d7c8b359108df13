/*
 * health.h — the storage parts of the readiness check (GET /api/health/ready): can the
 * database still be used, and is the job queue moving.
 */
#ifndef SP_STORE_HEALTH_H
#define SP_STORE_HEALTH_H

#include <stdbool.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

struct sp_health_db {
    bool ok;
    double latency_ms; /* the whole check */
    char error[160];   /* when !ok; no file path (the endpoint is public) */
    char detail[512];  /* when !ok; for the log: the error with the file path */
};

/*
 * The database check, run on the caller's connection `db` (NULL: reported as not ok).
 * SQLite: the process must still be able to read and write the database file and, when they
 * exist, its -wal and -shm files (access(2) with the effective ids). A connection that is
 * already open keeps working after the file's mode or owner changes, so a query alone would
 * not notice that no new connection (another thread, a restart) can open it. Then, for every
 * driver, a trivial read of a real table. Cost: three access() calls and one cached statement.
 * Always fills out; returns SP_OK when the database is usable, SP_ERR otherwise. Logs nothing:
 * the caller decides (readiness is probed every few seconds).
 */
int sp_store_health_db(struct sp_db *db, struct sp_health_db *out);

struct sp_health_jobs {
    bool ok;
    int64_t pending;       /* queued jobs */
    int64_t running;       /* jobs a worker claimed (live or expired lease) */
    int64_t expired;       /* running jobs whose lease expired: their worker stopped renewing */
    int64_t oldest_wait_s; /* how long the work next in line has waited: the head of the
                            * pending queue (since it became pending) or the oldest expired
                            * lease (since it expired); 0 when nothing waits */
    char error[160];       /* when the figures could not be read */
};

/*
 * The job queue check (all instances share the queue). The queue is stuck — ok false — when
 * work has waited more than `stuck_after_s` seconds while no running job holds a current
 * lease: no worker anywhere is taking work (every instance has SP_WORKERS=0, or every worker
 * is dead or hung). A busy queue is not stuck: its workers renew their leases. `now` is Unix
 * seconds. Always fills out; SP_OK when the figures were read (out->ok tells whether the queue
 * moves), SP_AGAIN or SP_ERR when they could not be (out->ok false, out->error set).
 */
int sp_store_health_jobs(struct sp_db *db, int64_t now, int64_t stuck_after_s,
                         struct sp_health_jobs *out);

#endif
