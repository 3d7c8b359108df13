/*
 * health.c — GET /api/health (liveness: no database, no auth) and GET /api/health/ready
 * (readiness: database, cache, disk space, job queue; 503 + Retry-After naming the failing
 * checks).
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "cache/cache.h"
#include "store/db.h"
#include "store/health.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/time.h"

#ifndef SP_VERSION
#define SP_VERSION "0.0.0"
#endif

/* Below this share of free space on the data directory's filesystem, the instance reports
 * itself degraded: uploads, packaging and SQLite writes would fail soon. (The
 * ScenePackerDiskSpaceLow alert warns much earlier, at 20 %.) */
#define DISK_MIN_FREE_PERCENT 5.0

/* The job queue is stuck when work has waited this long while no worker holds a current lease
 * (see sp_store_health_jobs): long enough for an idle worker to claim anything, and for a
 * crashed worker's lease to expire and be taken over. */
#define JOBS_STUCK_AFTER_S 300

/* GET /api/health → 200 {status:"ok", version}. */
static int h_live(struct sp_request *req, struct sp_response *resp)
{
    SP_UNUSED(req);
    static const char body[] = "{\"status\":\"ok\",\"version\":\"" SP_VERSION "\"}";
    sp_resp_copy(resp, 200, "application/json", body, sizeof body - 1);
    return SP_OK;
}

/* Put a probe in the cache and read it back. */
static bool cache_ok(struct sp_app *app)
{
    if (!app || !app->cache)
        return false;
    static const char probe[] = "ok";
    struct sp_shared_bytes *b = sp_shared_new("text/plain", probe, 2);
    sp_cache_put(app->cache, "health:probe", b, 5);
    sp_shared_unref(b);
    struct sp_shared_bytes *got = sp_cache_probe(app->cache, "health:probe");
    bool ok = got && got->len == 2 && memcmp(got->data, probe, 2) == 0;
    if (got)
        sp_shared_unref(got);
    return ok;
}

/* Free space (available to the service) of the filesystem holding dir, in percent of its size;
 * -1 when unknown. */
static double disk_free_percent(const char *dir)
{
    struct statvfs vfs;
    if (!dir || !*dir || statvfs(dir, &vfs) != 0 || vfs.f_blocks == 0)
        return -1;
    return 100.0 * (double)vfs.f_bavail / (double)vfs.f_blocks;
}

/* The checks, as bits, for logging changes of state once rather than at every probe. */
enum { FAIL_DATABASE = 1, FAIL_CACHE = 2, FAIL_DISK = 4, FAIL_JOBS = 8, FAIL_DRAINING = 16 };
static atomic_int g_last_failing;

/* One log line when readiness changes: which checks fail and why (with the file path, which
 * the public response leaves out), or that every check passes again. */
static void log_change(struct sp_request *req, int failing, json_t *names,
                       const struct sp_health_db *dbh, const struct sp_health_jobs *jh, double disk)
{
    int before = atomic_exchange(&g_last_failing, failing);
    if (before == failing)
        return;
    if (!failing) {
        sp_log_j(SP_LOG_INFO, "ready again", json_pack("{s:s}", "request_id", req->request_id));
        return;
    }
    json_t *f = json_pack("{s:s, s:O}", "request_id", req->request_id, "failing", names);
    if (failing & FAIL_DATABASE)
        json_object_set_new(f, "database", json_string(dbh->detail));
    if (failing & FAIL_JOBS)
        json_object_set_new(f, "jobs",
                            jh->error[0]
                                ? json_string(jh->error)
                                : json_pack("{s:I, s:I, s:I}", "pending", (json_int_t)jh->pending,
                                            "expired", (json_int_t)jh->expired,
                                            "oldest_wait_seconds", (json_int_t)jh->oldest_wait_s));
    if (failing & FAIL_DISK)
        json_object_set_new(f, "disk_free_percent", disk < 0 ? json_null() : json_real(disk));
    sp_log_j(SP_LOG_WARN, "not ready", f);
}

/*
 * GET /api/health/ready → 200 or 503 (+ Retry-After)
 * {status:"ok"|"degraded", failing:[names], database:{ok, latency_ms[, error]}, cache:{ok},
 *  disk_free_percent, jobs:{ok, running, pending, expired, oldest_wait_seconds[, error]}}.
 */
static int h_ready(struct sp_request *req, struct sp_response *resp)
{
    struct sp_app *app = req->app;
    json_t *failing = json_array();
    int mask = 0;
    struct sp_db *db = sp_db_thread();

    struct sp_health_db dbh;
    sp_store_health_db(db, &dbh);
    json_t *database = json_pack("{s:b, s:f}", "ok", dbh.ok, "latency_ms", dbh.latency_ms);
    if (!dbh.ok) {
        json_object_set_new(database, "error", json_string(dbh.error));
        json_array_append_new(failing, json_string("database"));
        mask |= FAIL_DATABASE;
    }

    bool cok = cache_ok(app);
    if (!cok) {
        json_array_append_new(failing, json_string("cache"));
        mask |= FAIL_CACHE;
    }

    double disk = disk_free_percent(app ? app->cfg.data_dir : NULL);
    if (disk < DISK_MIN_FREE_PERCENT) {
        json_array_append_new(failing, json_string("disk"));
        mask |= FAIL_DISK;
    }

    struct sp_health_jobs jh;
    int jrc = sp_store_health_jobs(db, sp_time_now(), JOBS_STUCK_AFTER_S, &jh);
    /* A queue that cannot be read because the database is down is the database's failure. */
    if (!jh.ok && !(jrc != SP_OK && !dbh.ok)) {
        json_array_append_new(failing, json_string("jobs"));
        mask |= FAIL_JOBS;
    }
    json_t *jobs =
        json_pack("{s:b, s:I, s:I, s:I, s:I}", "ok", jh.ok, "running", (json_int_t)jh.running,
                  "pending", (json_int_t)jh.pending, "expired", (json_int_t)jh.expired,
                  "oldest_wait_seconds", (json_int_t)jh.oldest_wait_s);
    if (jh.error[0])
        json_object_set_new(jobs, "error", json_string(jh.error));

    if (app && atomic_load(&app->draining)) {
        json_array_append_new(failing, json_string("draining"));
        mask |= FAIL_DRAINING;
    }

    log_change(req, mask, failing, &dbh, &jh, disk);
    bool ok = mask == 0;
    json_t *body =
        json_pack("{s:s, s:o, s:o, s:{s:b}, s:o, s:o}", "status", ok ? "ok" : "degraded", "failing",
                  failing, "database", database, "cache", "ok", cok, "disk_free_percent",
                  disk < 0 ? json_null() : json_real(disk), "jobs", jobs);
    if (!ok)
        sp_resp_header(resp, "Retry-After", "5");
    /* Six significant digits: "30.2", not the 17-digit binary expansion. */
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(body);
    if (!text) {
        sp_resp_rc(resp, SP_ERR, NULL);
        return SP_OK;
    }
    sp_resp_copy(resp, ok ? 200 : 503, "application/json", text, strlen(text));
    free(text); /* from jansson's allocator */
    return SP_OK;
}

const struct sp_route sp_routes_health[] = {
    {"GET", "/api/health", h_live, SP_AUTH_NONE, -1, -1},
    {"GET", "/api/health/ready", h_ready, SP_AUTH_NONE, -1, -1},
    {0},
};
