/* test_metrics.c — what a Prometheus scrape of /metrics shows after the service recorded
 * requests, statements and events: counts, bucket placement, shape of the exposition. */
#include "support.h"

#include <pthread.h>
#include <regex.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "obs/metrics.h"
#include "store/db.h"
#include "util/alloc.h"
#include "util/buf.h"

static struct sp_app app;

/* A fresh scrape (caller frees). */
static char *scrape(void)
{
    struct sp_buf b = SP_BUF_INIT;
    sp_metrics_render(&app, &b);
    return sp_buf_steal(&b);
}

/* The value of the sample whose series (name plus labels, exactly as rendered) is `series`,
 * or -1 when the scrape has no such line. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *p = text; p && *p;) {
        if (!strncmp(p, series, n) && p[n] == ' ')
            return strtod(p + n + 1, NULL);
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    return -1;
}

static double scrape_sample(const char *series)
{
    char *t = scrape();
    double v = sample(t, series);
    sp_free(t);
    return v;
}

static void request(const char *route, const char *method, int status, double seconds)
{
    sp_metrics_request_begin();
    sp_metrics_request_end(route, method, status, seconds);
}

static void test_bucket_placement(void **state)
{
    (void)state;
    request("/t/buckets", "GET", 200, 0.0005); /* exactly on a bound: counts in that bucket */
    request("/t/buckets", "GET", 200, 0.0006);
    request("/t/buckets", "GET", 200, 0.3);
    request("/t/buckets", "GET", 200, 12.0); /* over the last bound: only +Inf */
    char *t = scrape();
#define B(le)                                                                                      \
    "http_request_duration_seconds_bucket{route=\"/t/buckets\",method=\"GET\","                    \
    "status_class=\"2xx\",le=\"" le "\"}"
    assert_true(sample(t, B("0.0005")) == 1);
    assert_true(sample(t, B("0.001")) == 2);
    assert_true(sample(t, B("0.25")) == 2);
    assert_true(sample(t, B("0.5")) == 3);
    assert_true(sample(t, B("10")) == 3);
    assert_true(sample(t, B("+Inf")) == 4);
#undef B
    assert_true(sample(t, "http_request_duration_seconds_count{route=\"/t/buckets\","
                          "method=\"GET\",status_class=\"2xx\"}") == 4);
    assert_non_null(strstr(t, "http_request_duration_seconds_sum{route=\"/t/buckets\","
                              "method=\"GET\",status_class=\"2xx\"} 12.301100000\n"));
    assert_true(sample(t, "http_requests_total{route=\"/t/buckets\",method=\"GET\","
                          "status=\"200\"}") == 4);
    sp_free(t);
}

static void test_status_and_method_labels(void **state)
{
    (void)state;
    request("/t/labels", "DELETE", 404, 0.001);
    request("/t/labels", "DELETE", 404, 0.001);
    request("/t/labels", "DELETE", 599, 0.001); /* no label of its own: its class */
    request("/t/labels", "BREW", 418, 0.001);   /* unknown method, unlisted 4xx */
    request(NULL, "GET", 404, 0.001);           /* no route matched */
    char *t = scrape();
    assert_true(sample(t, "http_requests_total{route=\"/t/labels\",method=\"DELETE\","
                          "status=\"404\"}") == 2);
    assert_true(sample(t, "http_requests_total{route=\"/t/labels\",method=\"DELETE\","
                          "status=\"5xx\"}") == 1);
    assert_true(sample(t, "http_requests_total{route=\"/t/labels\",method=\"OTHER\","
                          "status=\"4xx\"}") == 1);
    assert_true(sample(t, "http_requests_total{route=\"unmatched\",method=\"GET\","
                          "status=\"404\"}") >= 1);
    assert_true(sample(t, "http_request_duration_seconds_count{route=\"/t/labels\","
                          "method=\"DELETE\",status_class=\"5xx\"}") == 1);
    sp_free(t);
}

static void test_label_values_escaped(void **state)
{
    (void)state;
    request("/t/q\"x\\y", "GET", 200, 0.001);
    assert_true(scrape_sample("http_requests_total{route=\"/t/q\\\"x\\\\y\",method=\"GET\","
                              "status=\"200\"}") == 1);
}

static void test_in_flight(void **state)
{
    (void)state;
    double before = scrape_sample("http_requests_in_flight");
    assert_true(before >= 0);
    sp_metrics_request_begin();
    sp_metrics_request_begin();
    assert_true(scrape_sample("http_requests_in_flight") == before + 2);
    sp_metrics_request_end("/t/inflight", "GET", 200, 0.01);
    assert_true(scrape_sample("http_requests_in_flight") == before + 1);
    sp_metrics_request_end("/t/inflight", "GET", 200, 0.01);
    assert_true(scrape_sample("http_requests_in_flight") == before);
}

#define THREADS 8
#define PER_THREAD 20000

static void *worker(void *arg)
{
    (void)arg;
    for (int i = 0; i < PER_THREAD; i++) {
        request("/t/threads", "POST", 201, 0.002);
        sp_metrics_login_failure();
        sp_metrics_rate_limited();
        sp_dbstats_query("SELECT id FROM t_threads WHERE id = ?", 1000, SP_ROW);
    }
    return NULL;
}

static void *scraper(void *arg)
{
    atomic_int *stop = arg;
    while (!atomic_load(stop))
        sp_free(scrape());
    return NULL;
}

/* Counters recorded by many threads (which then exit, handing their shards on) sum exactly,
 * also while another thread keeps scraping. */
static void test_threads_sum(void **state)
{
    (void)state;
    double login0 = scrape_sample("login_failures_total");
    double limited0 = scrape_sample("rate_limited_total");
    atomic_int stop = 0;
    pthread_t scr;
    assert_int_equal(pthread_create(&scr, NULL, scraper, (void *)&stop), 0);
    for (int round = 1; round <= 2; round++) {
        pthread_t th[THREADS];
        for (int i = 0; i < THREADS; i++)
            assert_int_equal(pthread_create(&th[i], NULL, worker, NULL), 0);
        for (int i = 0; i < THREADS; i++)
            pthread_join(th[i], NULL);
        char *t = scrape();
        double want = (double)round * THREADS * PER_THREAD;
        assert_true(sample(t, "http_requests_total{route=\"/t/threads\",method=\"POST\","
                              "status=\"201\"}") == want);
        assert_true(sample(t, "http_request_duration_seconds_bucket{route=\"/t/threads\","
                              "method=\"POST\",status_class=\"2xx\",le=\"0.0025\"}") == want);
        assert_true(sample(t, "http_request_duration_seconds_bucket{route=\"/t/threads\","
                              "method=\"POST\",status_class=\"2xx\",le=\"0.001\"}") == 0);
        assert_true(sample(t, "login_failures_total") == login0 + want);
        assert_true(sample(t, "rate_limited_total") == limited0 + want);
        assert_true(sample(t, "db_queries_total{statement=\"select t_threads\"}") == want);
        sp_free(t);
    }
    atomic_store(&stop, 1);
    pthread_join(scr, NULL);
}

static void test_db_statements(void **state)
{
    (void)state;
    sp_dbstats_query("SELECT r.id, (SELECT COUNT(*) FROM release_files f WHERE f.release_id = "
                     "r.id) AS n FROM t_releases r WHERE r.name = 'from x'",
                     2000, SP_DONE);
    sp_dbstats_query("  -- comment\n  insert OR IGNORE into \"t_jobs\"(id) VALUES (?)", 30000,
                     SP_DONE);
    sp_dbstats_query("UPDATE t_users SET x = ?", 600000000, SP_ERR);
    sp_dbstats_query("DELETE FROM t_blocklist WHERE exp < ?", 1000, SP_AGAIN);
    sp_dbstats_query("WITH c AS (SELECT 1 FROM a) SELECT * FROM t_cte", 1000, SP_ROW);
    sp_dbstats_query("INSERT INTO t_jobs(id) VALUES (?)", 1000, SP_CONFLICT);
    sp_dbstats_connect_error();
    char *t = scrape();
    assert_true(sample(t, "db_queries_total{statement=\"select t_releases\"}") == 1);
    assert_true(sample(t, "db_queries_total{statement=\"insert t_jobs\"}") == 2);
    assert_true(sample(t, "db_queries_total{statement=\"update t_users\"}") == 1);
    assert_true(sample(t, "db_queries_total{statement=\"delete t_blocklist\"}") == 1);
    assert_true(sample(t, "db_queries_total{statement=\"select t_cte\"}") == 1);
    /* failures are busy/errors; a constraint conflict is an answer, not a failure */
    assert_true(sample(t, "db_query_errors_total{statement=\"insert t_jobs\"}") == 0);
    assert_true(sample(t, "db_query_errors_total{statement=\"update t_users\"}") == 1);
    assert_true(sample(t, "db_query_errors_total{statement=\"delete t_blocklist\"}") == 1);
    assert_true(sample(t, "db_query_duration_seconds_bucket{statement=\"select t_releases\","
                          "le=\"0.00001\"}") == 1);
    assert_true(sample(t, "db_query_duration_seconds_bucket{statement=\"update t_users\","
                          "le=\"0.5\"}") == 0);
    assert_true(sample(t, "db_query_duration_seconds_bucket{statement=\"update t_users\","
                          "le=\"1\"}") == 1);
    assert_non_null(strstr(t, "db_query_duration_seconds_sum{statement=\"insert t_jobs\"} "
                              "0.000031000\n"));
    assert_true(sample(t, "db_connection_errors_total") >= 1);
    assert_null(strstr(t, "'from x'")); /* SQL text never reaches the scrape */
    sp_free(t);
}

/* A jobs source that fails while *(int *)ctx is set. */
static int jobs_source(void *ctx, struct sp_metrics_jobs *out)
{
    out->pending = 4;
    out->running = 2;
    out->completed = 9;
    out->failed = 1;
    out->cancelled = 3;
    return *(int *)ctx ? SP_ERR : SP_OK;
}

static void test_jobs(void **state)
{
    (void)state;
    char *t = scrape();
    assert_true(sample(t, "jobs{state=\"pending\"}") == 0); /* no source wired yet */
    assert_true(sample(t, "jobs{state=\"cancelled\"}") == 0);
    sp_free(t);

    int failing = 1;
    sp_metrics_set_jobs_source(jobs_source, &failing);
    assert_true(scrape_sample("jobs{state=\"pending\"}") == 0); /* never succeeded */
    failing = 0;
    t = scrape();
    assert_true(sample(t, "jobs{state=\"pending\"}") == 4);
    assert_true(sample(t, "jobs{state=\"running\"}") == 2);
    assert_true(sample(t, "jobs{state=\"completed\"}") == 9);
    assert_true(sample(t, "jobs{state=\"failed\"}") == 1);
    assert_true(sample(t, "jobs{state=\"cancelled\"}") == 3);
    sp_free(t);
    failing = 1; /* a failed count keeps the last good figures */
    assert_true(scrape_sample("jobs{state=\"running\"}") == 2);
    sp_metrics_set_jobs_source(NULL, NULL);
    assert_true(scrape_sample("jobs{state=\"running\"}") == 0);

    double c0 = scrape_sample("job_duration_seconds_count");
    sp_metrics_job_observe(45);
    sp_metrics_job_observe(0.05);
    t = scrape();
    assert_true(sample(t, "job_duration_seconds_count") == c0 + 2);
    assert_true(sample(t, "job_duration_seconds_bucket{le=\"0.1\"}") >= 1);
    assert_true(sample(t, "job_duration_seconds_bucket{le=\"60\"}") -
                    sample(t, "job_duration_seconds_bucket{le=\"30\"}") >=
                1);
    sp_free(t);
}

/* Every line is a comment or `name{labels} value`; each family is announced by HELP then TYPE
 * exactly once, before its samples; histograms are cumulative and end with +Inf == _count. */
static void test_render_shape(void **state)
{
    (void)state;
    char *t = scrape();
    regex_t line_re;
    assert_int_equal(regcomp(&line_re,
                             "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{([a-zA-Z_][a-zA-Z0-9_]*=\"([^\"\\\\]|"
                             "\\\\.)*\",?)*\\})? -?[0-9.e+]+(e[+-]?[0-9]+)?$",
                             REG_EXTENDED | REG_NOSUB),
                     0);
    char families[64][64];
    int nfam = 0;
    char current[64] = "";
    char type[16] = "";
    double last_bucket = -1;
    char series_key[512] = "";
    for (char *line = strtok(t, "\n"); line; line = strtok(NULL, "\n")) {
        char name[64], word[64];
        if (!strncmp(line, "# HELP ", 7)) {
            assert_int_equal(sscanf(line + 7, "%63s", name), 1);
            for (int i = 0; i < nfam; i++)
                assert_string_not_equal(families[i], name); /* announced once */
            assert_true(nfam < 64);
            strcpy(families[nfam++], name);
            strcpy(current, name);
            type[0] = '\0';
            continue;
        }
        if (!strncmp(line, "# TYPE ", 7)) {
            assert_int_equal(sscanf(line + 7, "%63s %15s", name, word), 2);
            assert_string_equal(name, current);
            strcpy(type, word);
            continue;
        }
        assert_int_equal(regexec(&line_re, line, 0, NULL, 0), 0);
        assert_true(type[0]); /* HELP and TYPE came first */
        size_t n = strlen(current);
        assert_int_equal(strncmp(line, current, n), 0);
        if (!strcmp(type, "counter"))
            assert_true(!strcmp(current + strlen(current) - 6, "_total"));
        if (!strcmp(type, "histogram")) {
            const char *rest = line + n;
            double v = strtod(strrchr(line, ' ') + 1, NULL);
            if (!strncmp(rest, "_bucket", 7)) {
                const char *le = strstr(line, "le=\"");
                assert_non_null(le);
                size_t keylen = (size_t)(le - line);
                if (keylen != strlen(series_key) || strncmp(line, series_key, keylen)) {
                    assert_true(keylen < sizeof series_key);
                    memcpy(series_key, line, keylen); /* first bucket of a new series */
                    series_key[keylen] = '\0';
                    last_bucket = -1;
                }
                assert_true(v >= last_bucket);
                last_bucket = v;
            } else if (!strncmp(rest, "_count", 6)) {
                assert_true(v == last_bucket); /* +Inf bucket just before _sum, _count */
            } else {
                assert_int_equal(strncmp(rest, "_sum", 4), 0);
            }
        }
    }
    regfree(&line_re);
    static const char *const want[] = {"http_requests_total",
                                       "http_request_duration_seconds",
                                       "http_requests_in_flight",
                                       "db_queries_total",
                                       "db_query_duration_seconds",
                                       "db_query_errors_total",
                                       "db_connection_errors_total",
                                       "cache_requests_total",
                                       "jobs",
                                       "job_duration_seconds",
                                       "login_failures_total",
                                       "rate_limited_total",
                                       "process_cpu_seconds_total",
                                       "process_resident_memory_bytes",
                                       "process_open_fds",
                                       "process_start_time_seconds",
                                       "disk_free_bytes",
                                       "disk_total_bytes",
                                       "build_info",
                                       "machine_cpu_cores",
                                       "process_memory_limit_bytes",
                                       "process_heap_bytes",
                                       "cache_entries",
                                       "cache_bytes"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        int found = 0;
        for (int j = 0; j < nfam; j++)
            found |= !strcmp(families[j], want[i]);
        if (!found)
            fail_msg("family %s missing", want[i]);
    }
    sp_free(t);

    t = scrape();
    char series[1200];
    snprintf(series, sizeof series, "disk_total_bytes{path=\"%s\"}", app.cfg.data_dir);
    assert_true(sample(t, series) > 0);
    snprintf(series, sizeof series, "disk_free_bytes{path=\"%s\"}", app.cfg.data_dir);
    assert_true(sample(t, series) >= 0);
    assert_true(sample(t, "process_resident_memory_bytes") > 0);
    assert_true(sample(t, "process_heap_bytes{state=\"in_use\"}") >= 0);
    assert_true(sample(t, "process_heap_bytes{state=\"free\"}") >= 0);
    assert_true(sample(t, "cache_bytes{cache=\"response\"}") >= 0);
    assert_true(sample(t, "process_open_fds") > 0);
    assert_true(sample(t, "process_start_time_seconds") > 1.5e9);
    assert_true(sample(t, "cache_requests_total{cache=\"response\",result=\"hit\"}") == 0);
    assert_true(sample(t, "build_info{version=\"" SP_VERSION "\"}") == 1);
    sp_free(t);
}

/* Label cardinality is bounded: once the route table is full, new routes count as "other".
 * Runs last, because it fills the table. */
static void test_route_cap(void **state)
{
    (void)state;
    char route[160];
    memset(route, 'x', 150);
    route[0] = '/';
    route[150] = '\0';
    double other0 = scrape_sample("http_requests_total{route=\"other\",method=\"GET\","
                                  "status=\"200\"}");
    if (other0 < 0)
        other0 = 0;
    request(route, "GET", 200, 0.001); /* too long to be a label: "other" */
    for (int i = 0; i < 2 * SP_METRICS_MAX_ROUTES; i++) {
        snprintf(route, sizeof route, "/t/cap/%d", i);
        request(route, "GET", 200, 0.001);
    }
    char *t = scrape();
    int labelled = 0;
    for (int i = 0; i < 2 * SP_METRICS_MAX_ROUTES; i++) {
        char series[128];
        snprintf(series, sizeof series,
                 "http_requests_total{route=\"/t/cap/%d\",method=\"GET\",status=\"200\"}", i);
        labelled += sample(t, series) == 1;
    }
    double other = sample(t, "http_requests_total{route=\"other\",method=\"GET\","
                             "status=\"200\"}");
    assert_true(labelled > 0 && labelled < SP_METRICS_MAX_ROUTES);
    assert_true(other - other0 == 1 + 2 * SP_METRICS_MAX_ROUTES - labelled);
    sp_free(t);
}

int main(void)
{
    char dir[512];
    if (ts_tmpdir(dir, sizeof dir, "test_metrics") != 0)
        return 1;
    snprintf(app.cfg.data_dir, sizeof app.cfg.data_dir, "%s", dir);
    sp_metrics_init();

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bucket_placement),
        cmocka_unit_test(test_status_and_method_labels),
        cmocka_unit_test(test_label_values_escaped),
        cmocka_unit_test(test_in_flight),
        cmocka_unit_test(test_threads_sum),
        cmocka_unit_test(test_db_statements),
        cmocka_unit_test(test_jobs),
        cmocka_unit_test(test_render_shape),
        cmocka_unit_test(test_route_cap),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    rmdir(dir);
    return rc;
}
