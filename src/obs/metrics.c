/*
 * metrics.c — counters and histograms recorded per thread, summed into Prometheus text when
 * /metrics is scraped.
 *
 * Hot path (a request ending): find the route's index in a lock-free interning table (one
 * string hash + compare), then bump plain relaxed atomics in the calling thread's shard. No
 * other thread writes that shard, so the stores never contend; the scraper only reads.
 * Shards live for the whole process: a thread that exits hands its shard to the next thread
 * that registers, so counters never go backwards.
 */
#include "obs/metrics.h"

#include <dirent.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "app.h"
#include "cache/cache.h"
#include "store/db.h"
#include "util/alloc.h"
#include "util/time.h"

#ifndef SP_VERSION
#define SP_VERSION "unknown"
#endif

/* ---------------------------------------------------------------------------------------- */
/* Fixed dimensions                                                                          */

/* Request duration buckets (seconds, as written in `le`, and in nanoseconds). */
static const char *const http_le[] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.0075", "0.01", "0.015", "0.025", "0.05", "0.075",
    "0.1",    "0.15",  "0.25",   "0.5",   "0.75",   "1",    "1.5",   "2.5",   "5",    "10"};
static const uint64_t http_bounds[] = {500000ULL,     1000000ULL,    2500000ULL,    5000000ULL,
                                       7500000ULL,    10000000ULL,   15000000ULL,   25000000ULL,
                                       50000000ULL,   75000000ULL,   100000000ULL,  150000000ULL,
                                       250000000ULL,  500000000ULL,  750000000ULL,  1000000000ULL,
                                       1500000000ULL, 2500000000ULL, 5000000000ULL, 10000000000ULL};
#define HTTP_NB ((int)SP_ARRAY_LEN(http_bounds))

/* Database statement buckets: a cached SQLite statement takes microseconds. */
static const char *const db_le[] = {"0.00001", "0.000025", "0.00005", "0.0001", "0.00025",
                                    "0.0005",  "0.001",    "0.0025",  "0.005",  "0.01",
                                    "0.025",   "0.05",     "0.1",     "0.25",   "0.5",
                                    "1",       "2.5",      "5",       "10"};
static const uint64_t db_bounds[] = {10000ULL,      25000ULL,      50000ULL,      100000ULL,
                                     250000ULL,     500000ULL,     1000000ULL,    2500000ULL,
                                     5000000ULL,    10000000ULL,   25000000ULL,   50000000ULL,
                                     100000000ULL,  250000000ULL,  500000000ULL,  1000000000ULL,
                                     2500000000ULL, 5000000000ULL, 10000000000ULL};
#define DB_NB ((int)SP_ARRAY_LEN(db_bounds))

/* Packaging job buckets: seconds to an hour. */
static const char *const job_le[] = {"0.1", "0.25", "0.5", "1",   "2.5", "5",    "10",
                                     "30",  "60",   "120", "300", "600", "1800", "3600"};
static const uint64_t job_bounds[] = {
    100000000ULL,    250000000ULL,    500000000ULL,     1000000000ULL,   2500000000ULL,
    5000000000ULL,   10000000000ULL,  30000000000ULL,   60000000000ULL,  120000000000ULL,
    300000000000ULL, 600000000000ULL, 1800000000000ULL, 3600000000000ULL};
#define JOB_NB ((int)SP_ARRAY_LEN(job_bounds))

_Static_assert(SP_ARRAY_LEN(http_le) == SP_ARRAY_LEN(http_bounds), "http buckets");
_Static_assert(SP_ARRAY_LEN(db_le) == SP_ARRAY_LEN(db_bounds), "db buckets");
_Static_assert(SP_ARRAY_LEN(job_le) == SP_ARRAY_LEN(job_bounds), "job buckets");

static const char *const methods[] = {"GET",   "HEAD",   "POST",    "PUT",
                                      "PATCH", "DELETE", "OPTIONS", "OTHER"};
#define N_METHODS ((int)SP_ARRAY_LEN(methods))

/* Status codes the API answers get their own label value (499: the client went away before
 * the response); anything else is counted under its class ("4xx") so the label set stays
 * fixed. */
static const int known_status[] = {200, 201, 202, 204, 206, 301, 302, 304, 307, 308, 400, 401,
                                   403, 404, 405, 406, 408, 409, 410, 411, 412, 413, 414, 415,
                                   416, 422, 429, 431, 499, 500, 501, 502, 503, 504};
#define N_KNOWN ((int)SP_ARRAY_LEN(known_status))
static const char *const status_classes[] = {"1xx", "2xx", "3xx", "4xx", "5xx", "other"};
#define N_CLASSES ((int)SP_ARRAY_LEN(status_classes))
#define N_STATUS (N_KNOWN + N_CLASSES)

/* Process-wide event counters kept in the shards. */
enum { EV_BEGUN, EV_ENDED, EV_LOGIN_FAIL, EV_RATE_LIMITED, EV_DB_CONN_ERR, EV_COUNT };

#define ROUTE_NAME_MAX 128
#define STMT_NAME_MAX 64

typedef _Atomic uint64_t counter_t;

/* One route × method, in one shard. */
struct http_cell {
    counter_t status[N_STATUS];
    counter_t hist[N_CLASSES][HTTP_NB + 1]; /* per bucket, not cumulative; last = over 10 s */
    counter_t sum_ns[N_CLASSES];
};

/* One statement label, in one shard. */
struct db_cell {
    counter_t errors;
    counter_t hist[DB_NB + 1];
    counter_t sum_ns;
};

struct shard {
    struct shard *next; /* immutable once published */
    atomic_int owned;   /* 1 while a live thread writes it */
    counter_t ev[EV_COUNT];
    counter_t job_hist[JOB_NB + 1];
    counter_t job_sum_ns;
    _Atomic(struct http_cell *) http[SP_METRICS_MAX_ROUTES][N_METHODS];
    _Atomic(struct db_cell *) db[SP_METRICS_MAX_STATEMENTS];
};

/* ---------------------------------------------------------------------------------------- */
/* Interned label values: lock-free lookup, a mutex only to add a new value                  */

#define INTERN_SLOTS 512 /* power of two, at least 2× the largest table */

struct intern {
    pthread_mutex_t lock;
    int max; /* entries, index 0 is "other" */
    size_t namemax;
    char *names; /* max × namemax bytes */
    atomic_int count;
    atomic_bool full;               /* set once count reaches max: misses then skip the lock */
    atomic_int slots[INTERN_SLOTS]; /* index + 1, 0 = empty */
};

static char route_names[SP_METRICS_MAX_ROUTES][ROUTE_NAME_MAX];
static char stmt_names[SP_METRICS_MAX_STATEMENTS][STMT_NAME_MAX];
static struct intern routes = {.lock = PTHREAD_MUTEX_INITIALIZER,
                               .max = SP_METRICS_MAX_ROUTES,
                               .namemax = ROUTE_NAME_MAX,
                               .names = &route_names[0][0]};
static struct intern stmts = {.lock = PTHREAD_MUTEX_INITIALIZER,
                              .max = SP_METRICS_MAX_STATEMENTS,
                              .namemax = STMT_NAME_MAX,
                              .names = &stmt_names[0][0]};

static uint32_t str_hash(const char *s)
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static const char *intern_name(const struct intern *t, int i)
{
    return t->names + (size_t)i * t->namemax;
}

/* Probe for s; returns its index, or -1 with *slot set to the first empty slot. */
static int intern_probe(struct intern *t, const char *s, uint32_t h, int *slot)
{
    for (uint32_t i = 0; i < INTERN_SLOTS; i++) {
        int at = (int)((h + i) & (INTERN_SLOTS - 1));
        int v = atomic_load_explicit(&t->slots[at], memory_order_acquire);
        if (v == 0) {
            *slot = at;
            return -1;
        }
        if (!strcmp(intern_name(t, v - 1), s))
            return v - 1;
    }
    *slot = -1;
    return -1;
}

/* Add s (known absent) under t->lock: name first, then count, then the slot that makes it
 * findable, each published with release so lock-free readers see a complete name. */
static int intern_add_locked(struct intern *t, const char *s, uint32_t h)
{
    int slot = -1;
    int found = intern_probe(t, s, h, &slot);
    if (found >= 0)
        return found;
    int n = atomic_load_explicit(&t->count, memory_order_relaxed);
    if (n >= t->max || slot < 0) {
        atomic_store_explicit(&t->full, true, memory_order_relaxed);
        return 0;
    }
    strcpy(t->names + (size_t)n * t->namemax, s);
    atomic_store_explicit(&t->count, n + 1, memory_order_release);
    atomic_store_explicit(&t->slots[slot], n + 1, memory_order_release);
    return n;
}

/* The index of label value s (added at first sight); 0 ("other") once the table is full. */
static int intern(struct intern *t, const char *s)
{
    uint32_t h = str_hash(s);
    int slot;
    int idx = intern_probe(t, s, h, &slot);
    if (idx >= 0)
        return idx;
    if (strlen(s) >= t->namemax || atomic_load_explicit(&t->full, memory_order_relaxed))
        return 0;
    pthread_mutex_lock(&t->lock);
    if (atomic_load_explicit(&t->count, memory_order_relaxed) == 0)
        intern_add_locked(t, "other", str_hash("other"));
    idx = intern_add_locked(t, s, h); /* probes again: someone may have added it meanwhile */
    pthread_mutex_unlock(&t->lock);
    return idx;
}

/* ---------------------------------------------------------------------------------------- */
/* Shards                                                                                    */

static _Atomic(struct shard *) shards; /* push-only list */
static pthread_key_t shard_key;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static _Thread_local struct shard *my_shard;
static int64_t init_wall_s;

/* Thread-exit destructor (runs on the exiting thread): recordings made by later destructors
 * register a shard again, and the key destructor runs once more for it. */
static void shard_release(void *p)
{
    struct shard *s = p;
    my_shard = NULL;
    atomic_store_explicit(&s->owned, 0, memory_order_release);
}

static void init_once(void)
{
    init_wall_s = sp_time_now();
    pthread_key_create(&shard_key, shard_release);
    intern(&routes, "other");
    intern(&stmts, "other");
}

static struct shard *shard_get(void)
{
    struct shard *s = my_shard;
    if (s)
        return s;
    pthread_once(&once, init_once);
    for (s = atomic_load_explicit(&shards, memory_order_acquire); s; s = s->next) {
        int expect = 0;
        if (atomic_compare_exchange_strong_explicit(&s->owned, &expect, 1, memory_order_acq_rel,
                                                    memory_order_relaxed))
            break;
    }
    if (!s) {
        s = sp_calloc(1, sizeof *s);
        atomic_store_explicit(&s->owned, 1, memory_order_relaxed);
        struct shard *head = atomic_load_explicit(&shards, memory_order_relaxed);
        do
            s->next = head;
        while (!atomic_compare_exchange_weak_explicit(&shards, &head, s, memory_order_release,
                                                      memory_order_relaxed));
    }
    pthread_setspecific(shard_key, s);
    my_shard = s;
    return s;
}

/* Only the owning thread writes a shard's counters: a relaxed load + store is enough. */
static inline void bump(counter_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static inline uint64_t rd(counter_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

/* First bucket whose upper bound is >= v, or n (the +Inf overflow slot). */
static int bucket_of(const uint64_t *bounds, int n, uint64_t v)
{
    int lo = 0, hi = n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (v <= bounds[mid])
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static uint64_t seconds_to_ns(double s)
{
    if (!(s > 0)) /* negative, zero or NaN */
        return 0;
    if (s > 1e9)
        return (uint64_t)1e18;
    return (uint64_t)(s * 1e9 + 0.5);
}

static int method_index(const char *m)
{
    if (m)
        for (int i = 0; i < N_METHODS - 1; i++)
            if (!strcmp(methods[i], m))
                return i;
    return N_METHODS - 1;
}

static int status_index(int status)
{
    for (int i = 0; i < N_KNOWN; i++)
        if (known_status[i] == status)
            return i;
    if (status >= 100 && status <= 599)
        return N_KNOWN + status / 100 - 1;
    return N_KNOWN + N_CLASSES - 1;
}

static int class_index(int status)
{
    return (status >= 100 && status <= 599) ? status / 100 - 1 : N_CLASSES - 1;
}

/* ---------------------------------------------------------------------------------------- */
/* Recording                                                                                 */

void sp_metrics_init(void)
{
    pthread_once(&once, init_once);
}

void sp_metrics_request_begin(void)
{
    bump(&shard_get()->ev[EV_BEGUN], 1);
}

void sp_metrics_request_end(const char *route, const char *method, int status, double seconds)
{
    struct shard *s = shard_get();
    int r = intern(&routes, route ? route : "unmatched");
    int m = method_index(method);
    struct http_cell *c = atomic_load_explicit(&s->http[r][m], memory_order_relaxed);
    if (!c) {
        c = sp_calloc(1, sizeof *c);
        atomic_store_explicit(&s->http[r][m], c, memory_order_release);
    }
    uint64_t ns = seconds_to_ns(seconds);
    int cls = class_index(status);
    bump(&c->status[status_index(status)], 1);
    bump(&c->hist[cls][bucket_of(http_bounds, HTTP_NB, ns)], 1);
    bump(&c->sum_ns[cls], ns);
    bump(&s->ev[EV_ENDED], 1);
}

void sp_metrics_job_observe(double seconds)
{
    struct shard *s = shard_get();
    uint64_t ns = seconds_to_ns(seconds);
    bump(&s->job_hist[bucket_of(job_bounds, JOB_NB, ns)], 1);
    bump(&s->job_sum_ns, ns);
}

void sp_metrics_login_failure(void)
{
    bump(&shard_get()->ev[EV_LOGIN_FAIL], 1);
}

void sp_metrics_rate_limited(void)
{
    bump(&shard_get()->ev[EV_RATE_LIMITED], 1);
}

void sp_metrics_db_connection_error(void)
{
    bump(&shard_get()->ev[EV_DB_CONN_ERR], 1);
}

void sp_metrics_db_observe(const char *statement, int64_t nanos, bool ok)
{
    struct shard *s = shard_get();
    int i = intern(&stmts, statement && *statement ? statement : "other");
    struct db_cell *c = atomic_load_explicit(&s->db[i], memory_order_relaxed);
    if (!c) {
        c = sp_calloc(1, sizeof *c);
        atomic_store_explicit(&s->db[i], c, memory_order_release);
    }
    uint64_t ns = nanos > 0 ? (uint64_t)nanos : 0;
    bump(&c->hist[bucket_of(db_bounds, DB_NB, ns)], 1);
    bump(&c->sum_ns, ns);
    if (!ok)
        bump(&c->errors, 1);
}

/* Jobs source: read only by the scraper, under the render lock. */
static pthread_mutex_t render_lock = PTHREAD_MUTEX_INITIALIZER;
static sp_metrics_jobs_fn jobs_fn;
static void *jobs_ctx;
static struct sp_metrics_jobs jobs_last;

void sp_metrics_set_jobs_source(sp_metrics_jobs_fn fn, void *ctx)
{
    pthread_mutex_lock(&render_lock);
    jobs_fn = fn;
    jobs_ctx = ctx;
    memset(&jobs_last, 0, sizeof jobs_last);
    pthread_mutex_unlock(&render_lock);
}

/* ---------------------------------------------------------------------------------------- */
/* Rendering                                                                                 */

static void put_label_value(struct sp_buf *b, const char *v)
{
    sp_buf_putc(b, '"');
    for (; *v; v++) {
        if (*v == '\\')
            sp_buf_puts(b, "\\\\");
        else if (*v == '"')
            sp_buf_puts(b, "\\\"");
        else if (*v == '\n')
            sp_buf_puts(b, "\\n");
        else
            sp_buf_putc(b, *v);
    }
    sp_buf_putc(b, '"');
}

static void family(struct sp_buf *b, const char *name, const char *type, const char *help)
{
    sp_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Seconds from nanoseconds, exactly. */
static void put_seconds(struct sp_buf *b, uint64_t ns)
{
    sp_buf_printf(b, "%llu.%09llu", (unsigned long long)(ns / 1000000000ULL),
                  (unsigned long long)(ns % 1000000000ULL));
}

/* A histogram's _bucket/_sum/_count lines. `labels` is the rendered label list without
 * braces ("" for none); counts are per bucket (n bounded ones + overflow). */
static void put_histogram(struct sp_buf *b, const char *name, const char *labels,
                          const char *const *le, int n, const uint64_t *counts, uint64_t sum_ns)
{
    uint64_t cum = 0;
    const char *sep = *labels ? "," : "";
    for (int i = 0; i <= n; i++) {
        cum += counts[i];
        sp_buf_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", name, labels, sep,
                      i < n ? le[i] : "+Inf", (unsigned long long)cum);
    }
    if (*labels)
        sp_buf_printf(b, "%s_sum{%s} ", name, labels);
    else
        sp_buf_printf(b, "%s_sum ", name);
    put_seconds(b, sum_ns);
    if (*labels)
        sp_buf_printf(b, "\n%s_count{%s} %llu\n", name, labels, (unsigned long long)cum);
    else
        sp_buf_printf(b, "\n%s_count %llu\n", name, (unsigned long long)cum);
}

struct http_agg {
    uint64_t status[N_STATUS];
    uint64_t hist[N_CLASSES][HTTP_NB + 1];
    uint64_t sum_ns[N_CLASSES];
};

struct db_agg {
    uint64_t errors;
    uint64_t hist[DB_NB + 1];
    uint64_t sum_ns;
};

static void render_http(struct sp_buf *b, struct shard *head, uint64_t *in_flight)
{
    int nroutes = atomic_load_explicit(&routes.count, memory_order_acquire);
    struct http_agg **agg = sp_calloc((size_t)nroutes * N_METHODS, sizeof *agg);
    uint64_t begun = 0, ended = 0;

    for (struct shard *s = head; s; s = s->next) {
        begun += rd(&s->ev[EV_BEGUN]);
        ended += rd(&s->ev[EV_ENDED]);
        for (int r = 0; r < nroutes; r++)
            for (int m = 0; m < N_METHODS; m++) {
                struct http_cell *c = atomic_load_explicit(&s->http[r][m], memory_order_acquire);
                if (!c)
                    continue;
                struct http_agg *a = agg[r * N_METHODS + m];
                if (!a)
                    a = agg[r * N_METHODS + m] = sp_calloc(1, sizeof *a);
                for (int i = 0; i < N_STATUS; i++)
                    a->status[i] += rd(&c->status[i]);
                for (int k = 0; k < N_CLASSES; k++) {
                    for (int i = 0; i <= HTTP_NB; i++)
                        a->hist[k][i] += rd(&c->hist[k][i]);
                    a->sum_ns[k] += rd(&c->sum_ns[k]);
                }
            }
    }
    /* Read without a common snapshot: a request can end between the two sums. */
    *in_flight = begun > ended ? begun - ended : 0;

    family(b, "http_requests_total", "counter",
           "HTTP requests answered, by route pattern, method and status code.");
    for (int r = 0; r < nroutes; r++)
        for (int m = 0; m < N_METHODS; m++) {
            struct http_agg *a = agg[r * N_METHODS + m];
            if (!a)
                continue;
            for (int i = 0; i < N_STATUS; i++) {
                if (!a->status[i])
                    continue;
                sp_buf_puts(b, "http_requests_total{route=");
                put_label_value(b, intern_name(&routes, r));
                sp_buf_printf(b, ",method=\"%s\",status=\"", methods[m]);
                if (i < N_KNOWN)
                    sp_buf_printf(b, "%d", known_status[i]);
                else
                    sp_buf_puts(b, status_classes[i - N_KNOWN]);
                sp_buf_printf(b, "\"} %llu\n", (unsigned long long)a->status[i]);
            }
        }

    family(b, "http_request_duration_seconds", "histogram",
           "Time from the request's arrival to its response, by route pattern, method and "
           "status class.");
    struct sp_buf labels = SP_BUF_INIT;
    for (int r = 0; r < nroutes; r++)
        for (int m = 0; m < N_METHODS; m++) {
            struct http_agg *a = agg[r * N_METHODS + m];
            if (!a)
                continue;
            for (int k = 0; k < N_CLASSES; k++) {
                uint64_t n = 0;
                for (int i = 0; i <= HTTP_NB; i++)
                    n += a->hist[k][i];
                if (!n)
                    continue;
                sp_buf_reset(&labels);
                sp_buf_puts(&labels, "route=");
                put_label_value(&labels, intern_name(&routes, r));
                sp_buf_printf(&labels, ",method=\"%s\",status_class=\"%s\"", methods[m],
                              status_classes[k]);
                put_histogram(b, "http_request_duration_seconds", labels.data, http_le, HTTP_NB,
                              a->hist[k], a->sum_ns[k]);
            }
        }
    sp_buf_free(&labels);
    for (int i = 0; i < nroutes * N_METHODS; i++)
        sp_free(agg[i]);
    sp_free(agg);
}

static void render_db(struct sp_buf *b, struct shard *head, uint64_t conn_errors)
{
    int n = atomic_load_explicit(&stmts.count, memory_order_acquire);
    struct db_agg *agg = sp_calloc((size_t)n, sizeof *agg);
    bool *seen = sp_calloc((size_t)n, sizeof *seen);
    bool any = false;

    for (struct shard *s = head; s; s = s->next)
        for (int i = 0; i < n; i++) {
            struct db_cell *c = atomic_load_explicit(&s->db[i], memory_order_acquire);
            if (!c)
                continue;
            seen[i] = any = true;
            agg[i].errors += rd(&c->errors);
            for (int k = 0; k <= DB_NB; k++)
                agg[i].hist[k] += rd(&c->hist[k]);
            agg[i].sum_ns += rd(&c->sum_ns);
        }

    /* Until the driver reports statements one by one (obs/dbstats.c), show its process
     * totals under statement="all": counts are right, durations have only the +Inf bucket. */
    uint64_t tq = 0, terr = 0, tns = 0;
    if (!any)
        sp_db_stats(&tq, &terr, &tns);

    struct sp_buf labels = SP_BUF_INIT;
    family(b, "db_queries_total", "counter", "Database statements executed, by statement.");
    for (int i = 0; i < n; i++) {
        if (!seen[i])
            continue;
        uint64_t cnt = 0;
        for (int k = 0; k <= DB_NB; k++)
            cnt += agg[i].hist[k];
        sp_buf_puts(b, "db_queries_total{statement=");
        put_label_value(b, intern_name(&stmts, i));
        sp_buf_printf(b, "} %llu\n", (unsigned long long)cnt);
    }
    if (!any)
        sp_buf_printf(b, "db_queries_total{statement=\"all\"} %llu\n", (unsigned long long)tq);

    family(b, "db_query_errors_total", "counter",
           "Database statements that failed (busy, I/O, lost connection), by statement.");
    for (int i = 0; i < n; i++) {
        if (!seen[i])
            continue;
        sp_buf_puts(b, "db_query_errors_total{statement=");
        put_label_value(b, intern_name(&stmts, i));
        sp_buf_printf(b, "} %llu\n", (unsigned long long)agg[i].errors);
    }
    if (!any)
        sp_buf_printf(b, "db_query_errors_total{statement=\"all\"} %llu\n",
                      (unsigned long long)terr);

    family(b, "db_query_duration_seconds", "histogram",
           "Time spent executing database statements, by statement.");
    for (int i = 0; i < n; i++) {
        if (!seen[i])
            continue;
        sp_buf_reset(&labels);
        sp_buf_puts(&labels, "statement=");
        put_label_value(&labels, intern_name(&stmts, i));
        put_histogram(b, "db_query_duration_seconds", labels.data, db_le, DB_NB, agg[i].hist,
                      agg[i].sum_ns);
    }
    if (!any) {
        uint64_t counts[DB_NB + 1] = {0};
        counts[DB_NB] = tq;
        put_histogram(b, "db_query_duration_seconds", "statement=\"all\"", db_le, DB_NB, counts,
                      tns);
    }

    family(b, "db_connection_errors_total", "counter",
           "Attempts to open a database connection that failed.");
    sp_buf_printf(b, "db_connection_errors_total %llu\n", (unsigned long long)conn_errors);

    sp_buf_free(&labels);
    sp_free(seen);
    sp_free(agg);
}

/* --- process and machine figures (Linux /proc, cgroup v2/v1) --- */

/* Read a small file into buf; returns bytes read or -1. */
static ssize_t read_small(const char *path, char *buf, size_t cap)
{
    FILE *f = fopen(path, "re");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, cap - 1, f);
    fclose(f);
    buf[n] = '\0';
    return (ssize_t)n;
}

static int64_t meminfo_total(void)
{
    char buf[4096];
    if (read_small("/proc/meminfo", buf, sizeof buf) < 0)
        return -1;
    const char *p = strstr(buf, "MemTotal:");
    long long kb;
    if (!p || sscanf(p, "MemTotal: %lld kB", &kb) != 1)
        return -1;
    return (int64_t)kb * 1024;
}

/* The memory this process may use: the cgroup limit when one is set, else physical memory. */
static int64_t memory_limit(int64_t total)
{
    static const char *const files[] = {"/sys/fs/cgroup/memory.max",
                                        "/sys/fs/cgroup/memory/memory.limit_in_bytes"};
    int64_t lim = total;
    char buf[64];
    for (size_t i = 0; i < SP_ARRAY_LEN(files); i++) {
        long long v;
        if (read_small(files[i], buf, sizeof buf) > 0 && sscanf(buf, "%lld", &v) == 1 && v > 0) {
            if (lim <= 0 || v < lim)
                lim = v;
            break;
        }
    }
    return lim;
}

static int count_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

/* Boot time (epoch seconds) from /proc/stat, or -1. The file's "intr" line can be long,
 * so read it line by line. */
static long long boot_time(void)
{
    FILE *f = fopen("/proc/stat", "re");
    if (!f)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    long long bt = -1;
    while (getline(&line, &cap, f) > 0)
        if (!strncmp(line, "btime ", 6)) {
            bt = strtoll(line + 6, NULL, 10);
            break;
        }
    free(line);
    fclose(f);
    return bt;
}

/* Start time (epoch seconds) and thread count from /proc/self/stat. */
static void proc_stat(double *start, long *threads)
{
    char buf[1024];
    *start = (double)init_wall_s;
    *threads = -1;
    if (read_small("/proc/self/stat", buf, sizeof buf) <= 0)
        return;
    /* Fields after the command name, which may contain spaces: skip past the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p || !p[1])
        return;
    /* p + 2 is field 3 (state); num_threads is field 20, starttime field 22. */
    unsigned long long starttime = 0;
    long nthreads = -1;
    bool got_start = false;
    int field = 3;
    for (char *q = p + 2; q && *q && field <= 22; field++) {
        if (field == 20)
            nthreads = strtol(q, NULL, 10);
        if (field == 22) {
            starttime = strtoull(q, NULL, 10);
            got_start = true;
        }
        q = strchr(q, ' ');
        if (q)
            q++;
    }
    *threads = nthreads;
    static long long btime = -2; /* cached: it never changes; guarded by render_lock */
    if (btime == -2)
        btime = boot_time();
    long hz = sysconf(_SC_CLK_TCK);
    if (got_start && btime > 0 && hz > 0)
        *start = (double)btime + (double)starttime / (double)hz;
}

static int cpu_cores(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
}

static void render_process(struct sp_buf *b, struct sp_app *app)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
                 (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
    family(b, "process_cpu_seconds_total", "counter", "User and system CPU time spent, seconds.");
    sp_buf_printf(b, "process_cpu_seconds_total %.6f\n", cpu);

    char buf[256];
    long long vpages = 0, rpages = 0;
    long page = sysconf(_SC_PAGESIZE);
    if (read_small("/proc/self/statm", buf, sizeof buf) > 0 &&
        sscanf(buf, "%lld %lld", &vpages, &rpages) == 2) {
        family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
        sp_buf_printf(b, "process_resident_memory_bytes %lld\n", rpages * page);
        family(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
        sp_buf_printf(b, "process_virtual_memory_bytes %lld\n", vpages * page);
    }
    int64_t total = meminfo_total();
    int64_t limit = memory_limit(total);
    if (limit > 0) {
        family(b, "process_memory_limit_bytes", "gauge",
               "Memory the process may use: its cgroup limit, or physical memory without one.");
        sp_buf_printf(b, "process_memory_limit_bytes %lld\n", (long long)limit);
    }
    if (total > 0) {
        family(b, "machine_memory_bytes", "gauge", "Physical memory of the machine in bytes.");
        sp_buf_printf(b, "machine_memory_bytes %lld\n", (long long)total);
    }
    /* What the resident memory is made of: the database library's own allocations (page
     * caches, statements) and the C heap — in use, and free but still held (fragmentation). */
    int64_t db_used, db_top;
    if (sp_db_memory(&db_used, &db_top) == SP_OK) {
        family(b, "db_memory_bytes", "gauge",
               "Memory held by the database library (page caches, statements, schema).");
        sp_buf_printf(b, "db_memory_bytes %lld\n", (long long)db_used);
        family(b, "db_memory_highest_bytes", "gauge",
               "Highest db_memory_bytes since the process started.");
        sp_buf_printf(b, "db_memory_highest_bytes %lld\n", (long long)db_top);
    }
    struct mallinfo2 mi = mallinfo2();
    family(b, "process_heap_bytes", "gauge",
           "C heap (malloc): bytes in use, and bytes free but still held by the process.");
    sp_buf_printf(b, "process_heap_bytes{state=\"in_use\"} %zu\n", mi.uordblks + mi.hblkhd);
    sp_buf_printf(b, "process_heap_bytes{state=\"free\"} %zu\n", mi.fordblks);
    family(b, "machine_cpu_cores", "gauge", "CPU cores this process may run on.");
    sp_buf_printf(b, "machine_cpu_cores %d\n", cpu_cores());

    int fds = count_open_fds();
    if (fds >= 0) {
        family(b, "process_open_fds", "gauge", "Number of open file descriptors.");
        sp_buf_printf(b, "process_open_fds %d\n", fds);
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        family(b, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
        sp_buf_printf(b, "process_max_fds %llu\n", (unsigned long long)rl.rlim_cur);
    }
    double start;
    long threads;
    proc_stat(&start, &threads);
    family(b, "process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch, seconds.");
    sp_buf_printf(b, "process_start_time_seconds %.2f\n", start);
    if (threads > 0) {
        family(b, "process_threads", "gauge", "Number of OS threads in the process.");
        sp_buf_printf(b, "process_threads %ld\n", threads);
    }

    struct statvfs vfs;
    if (app && app->cfg.data_dir[0] && statvfs(app->cfg.data_dir, &vfs) == 0) {
        family(b, "disk_free_bytes", "gauge",
               "Bytes available to the service on the data directory's filesystem.");
        sp_buf_puts(b, "disk_free_bytes{path=");
        put_label_value(b, app->cfg.data_dir);
        sp_buf_printf(b, "} %llu\n", (unsigned long long)vfs.f_bavail * vfs.f_frsize);
        family(b, "disk_total_bytes", "gauge", "Size of the data directory's filesystem in bytes.");
        sp_buf_puts(b, "disk_total_bytes{path=");
        put_label_value(b, app->cfg.data_dir);
        sp_buf_printf(b, "} %llu\n", (unsigned long long)vfs.f_blocks * vfs.f_frsize);
    }
}

void sp_metrics_render(struct sp_app *app, struct sp_buf *out)
{
    pthread_once(&once, init_once);
    pthread_mutex_lock(&render_lock);
    struct shard *head = atomic_load_explicit(&shards, memory_order_acquire);

    uint64_t ev[EV_COUNT] = {0};
    uint64_t job_hist[JOB_NB + 1] = {0}, job_sum = 0;
    for (struct shard *s = head; s; s = s->next) {
        for (int i = 0; i < EV_COUNT; i++)
            ev[i] += rd(&s->ev[i]);
        for (int i = 0; i <= JOB_NB; i++)
            job_hist[i] += rd(&s->job_hist[i]);
        job_sum += rd(&s->job_sum_ns);
    }

    uint64_t in_flight;
    render_http(out, head, &in_flight);
    family(out, "http_requests_in_flight", "gauge", "HTTP requests being served right now.");
    sp_buf_printf(out, "http_requests_in_flight %llu\n", (unsigned long long)in_flight);

    render_db(out, head, ev[EV_DB_CONN_ERR]);

    uint64_t hits = 0, misses = 0;
    if (app && app->cache)
        sp_cache_stats(app->cache, &hits, &misses);
    family(out, "cache_requests_total", "counter", "Response cache lookups, by cache and result.");
    sp_buf_printf(out, "cache_requests_total{cache=\"response\",result=\"hit\"} %llu\n",
                  (unsigned long long)hits);
    sp_buf_printf(out, "cache_requests_total{cache=\"response\",result=\"miss\"} %llu\n",
                  (unsigned long long)misses);
    size_t centries = 0, cbytes = 0;
    if (app && app->cache)
        sp_cache_usage(app->cache, &centries, &cbytes);
    family(out, "cache_entries", "gauge", "Entries held by the response cache.");
    sp_buf_printf(out, "cache_entries{cache=\"response\"} %zu\n", centries);
    family(out, "cache_bytes", "gauge", "Bytes of responses held by the response cache.");
    sp_buf_printf(out, "cache_bytes{cache=\"response\"} %zu\n", cbytes);

    if (jobs_fn) {
        struct sp_metrics_jobs j = {0};
        if (jobs_fn(jobs_ctx, &j) == SP_OK)
            jobs_last = j;
    }
    family(out, "jobs", "gauge", "Packaging jobs, by state.");
    sp_buf_printf(out,
                  "jobs{state=\"pending\"} %lld\njobs{state=\"running\"} %lld\n"
                  "jobs{state=\"completed\"} %lld\njobs{state=\"failed\"} %lld\n"
                  "jobs{state=\"cancelled\"} %lld\n",
                  (long long)jobs_last.pending, (long long)jobs_last.running,
                  (long long)jobs_last.completed, (long long)jobs_last.failed,
                  (long long)jobs_last.cancelled);
    family(out, "job_duration_seconds", "histogram", "Running time of finished packaging jobs.");
    put_histogram(out, "job_duration_seconds", "", job_le, JOB_NB, job_hist, job_sum);

    family(out, "login_failures_total", "counter", "Login attempts refused for bad credentials.");
    sp_buf_printf(out, "login_failures_total %llu\n", (unsigned long long)ev[EV_LOGIN_FAIL]);
    family(out, "rate_limited_total", "counter", "Requests refused by a rate limit (429).");
    sp_buf_printf(out, "rate_limited_total %llu\n", (unsigned long long)ev[EV_RATE_LIMITED]);

    render_process(out, app);

    family(out, "build_info", "gauge", "Always 1; the version label says which build runs.");
    sp_buf_printf(out, "build_info{version=\"%s\"} 1\n", SP_VERSION);
    pthread_mutex_unlock(&render_lock);
}
