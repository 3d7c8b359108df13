/*
 * metrics.h — process metrics in Prometheus text format. Per-thread/atomic counters and fixed
 * bucket histograms: recording never takes a lock shared with other requests.
 *
 * Recording functions may be called from any thread, at any time (even before sp_metrics_init);
 * each thread writes only its own shard (registered on its first recording and handed to a
 * later thread when it exits), and sp_metrics_render() sums the shards. Label cardinality is
 * bounded: at most SP_METRICS_MAX_ROUTES route patterns and SP_METRICS_MAX_STATEMENTS statement
 * labels are kept; later ones are counted under "other".
 */
#ifndef SP_METRICS_H
#define SP_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/buf.h"

struct sp_app;

#define SP_METRICS_MAX_ROUTES 128
#define SP_METRICS_MAX_STATEMENTS 128

void sp_metrics_init(void);
/* One request began / ended. `route` is the matched pattern (or "unmatched"). */
void sp_metrics_request_begin(void);
void sp_metrics_request_end(const char *route, const char *method, int status, double seconds);
/* Render everything in Prometheus text exposition format. */
void sp_metrics_render(struct sp_app *app, struct sp_buf *out);

/* Job counts by state, for the `jobs{state}` gauge. */
struct sp_metrics_jobs {
    int64_t pending;
    int64_t running;
    int64_t completed;
    int64_t failed;
    int64_t cancelled;
};

/* A jobs source fills *out (already zeroed) and returns SP_OK; any other code keeps the values
 * of the previous successful call. It runs on the scraping thread, once per scrape. */
typedef int (*sp_metrics_jobs_fn)(void *ctx, struct sp_metrics_jobs *out);

/* Wire (or, with fn NULL, unwire) the source of the `jobs{state}` gauge. Until a source is set
 * every state renders as 0. */
void sp_metrics_set_jobs_source(sp_metrics_jobs_fn fn, void *ctx);
/* A job finished (any outcome) after `seconds` of running: job_duration_seconds. */
void sp_metrics_job_observe(double seconds);
/* A login attempt was refused for bad credentials: login_failures_total. */
void sp_metrics_login_failure(void);
/* A request was answered 429 by a rate limit: rate_limited_total. */
void sp_metrics_rate_limited(void);
/* One database statement ran for `nanos`; `ok` false when it failed (not for constraint
 * conflicts). `statement` is a short label such as "select releases" (see obs/dbstats.c,
 * which derives it from SQL text). Feeds db_queries_total, db_query_errors_total and
 * db_query_duration_seconds. */
void sp_metrics_db_observe(const char *statement, int64_t nanos, bool ok);
/* Opening a database connection failed: db_connection_errors_total. */
void sp_metrics_db_connection_error(void);

#endif
