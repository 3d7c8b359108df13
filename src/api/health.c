/*
 * health.c — GET /api/health (liveness: no database, no auth) and GET /api/health/ready
 * (readiness: database, cache, disk space, job queue; 503 naming the failing checks).
 */
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

#ifndef SP_VERSION
#define SP_VERSION "0.0.0"
#endif

/* Below this share of free space on the data directory's filesystem, the instance reports
 * itself degraded (uploads and packaging would fail soon). */
#define DISK_MIN_FREE_PERCENT 5.0

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
    struct sp_shared_bytes *got = sp_cache_get(app->cache, "health:probe");
    bool ok = got && got->len == 2 && memcmp(got->data, probe, 2) == 0;
    if (got)
        sp_shared_unref(got);
    return ok;
}

/* Free space of the filesystem holding dir, in percent of its size; -1 when unknown. */
static double disk_free_percent(const char *dir)
{
    struct statvfs vfs;
    if (!dir || !*dir || statvfs(dir, &vfs) != 0 || vfs.f_blocks == 0)
        return -1;
    return 100.0 * (double)vfs.f_bavail / (double)vfs.f_blocks;
}

/*
 * GET /api/health/ready → 200 or 503
 * {status:"ok"|"degraded", failing:[names], database:{ok, latency_ms[, error]},
 *  cache:{ok}, disk_free_percent, jobs:{running, pending}}.
 */
static int h_ready(struct sp_request *req, struct sp_response *resp)
{
    struct sp_app *app = req->app;
    json_t *failing = json_array();

    struct sp_health_db dbh;
    sp_store_health_check(sp_db_thread(), &dbh);
    json_t *database = json_pack("{s:b, s:f}", "ok", dbh.ok, "latency_ms", dbh.latency_ms);
    if (!dbh.ok) {
        json_object_set_new(database, "error", json_string(dbh.error));
        json_array_append_new(failing, json_string("database"));
    }

    bool cok = cache_ok(app);
    if (!cok)
        json_array_append_new(failing, json_string("cache"));

    double disk = disk_free_percent(app ? app->cfg.data_dir : NULL);
    if (disk < DISK_MIN_FREE_PERCENT)
        json_array_append_new(failing, json_string("disk"));
    if (app && atomic_load(&app->draining))
        json_array_append_new(failing, json_string("draining"));

    bool ok = json_array_size(failing) == 0;
    json_t *body =
        json_pack("{s:s, s:o, s:o, s:{s:b}, s:o, s:{s:I, s:I}}", "status", ok ? "ok" : "degraded",
                  "failing", failing, "database", database, "cache", "ok", cok, "disk_free_percent",
                  disk < 0 ? json_null() : json_real(disk), "jobs", "running",
                  (json_int_t)dbh.jobs_running, "pending", (json_int_t)dbh.jobs_pending);
    if (!ok)
        sp_resp_header(resp, "Retry-After", "5");
    /* Six significant digits: "30.2", not the 17-digit binary expansion. */
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(6));
    json_decref(body);
    if (!text) {
        sp_resp_rc(resp, SP_ERR, NULL);
        return SP_OK;
    }
    size_t len = strlen(text);
    sp_resp_copy(resp, ok ? 200 : 503, "application/json", text, len);
    free(text); /* from jansson's allocator */
    return SP_OK;
}

const struct sp_route sp_routes_health[] = {
    {"GET", "/api/health", h_live, SP_AUTH_NONE, -1, -1},
    {"GET", "/api/health/ready", h_ready, SP_AUTH_NONE, -1, -1},
    {0},
};
