/*
 * db_sqlite.c — the SQLite driver behind store/db.h.
 *
 * One connection per thread (opened lazily, closed by a pthread key destructor when the thread
 * exits), each with WAL, synchronous=NORMAL, a busy timeout, foreign keys, and a cache of
 * prepared statements keyed by the SQL text pointer (an open-addressing hash: the key is the
 * address of a string literal, so lookup is one multiply and a probe or two).
 */
#include "store/db.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "util/alloc.h"
#include "util/log.h"
#include "util/time.h"

#define BUSY_TIMEOUT_MS 5000
/* Page cache per connection (allocated as pages are touched). Every thread that touches the
 * database has its own connection (I/O threads, kdf and job workers), so this is multiplied:
 * 8 MiB holds the hot pages of the plan's reads; the OS page cache holds the rest. */
#define CACHE_SIZE_KIB 8192
/* No memory-mapped I/O: mapped pages count in the process's resident set once per mapping,
 * i.e. per connection (a 256 MiB mmap_size put RSS at 164-208 MB with 100,000 releases, most
 * of it the same file pages mapped several times), and reads from the OS page cache cost about
 * the same as faults on a map once SQLite's own cache is warm. */
#define MMAP_SIZE 0LL

struct sp_stmt {
    sqlite3_stmt *st;
    struct sp_db *db;
    bool cached;
    bool started;   /* stepped since the last reset (counts one query) */
    bool reported;  /* this execution already went to the per-statement metrics */
    int64_t nanos;  /* time spent stepping this execution (sampled, see sp_stmt_step) */
    uint32_t steps; /* steps of this execution so far */
};

/* Per-statement metrics: one report per execution, when it ends (done, failed, or reset after
 * the rows the caller wanted). */
static void report_exec(struct sp_stmt *st, int rc)
{
    if (!st->reported) {
        st->reported = true;
        sp_dbstats_query(sqlite3_sql(st->st), st->nanos, rc);
    }
}

struct slot {
    const char *key;
    struct sp_stmt *stmt;
};

struct sp_db {
    sqlite3 *h;
    struct slot *slots; /* open addressing, power-of-two capacity */
    size_t cap;
    size_t count;
    int busy_ms;      /* give up on a lock after this long */
    int64_t busy_t0;  /* when the current wait began (ns) */
};

/* ---- background checkpoints ----
 * By default the connection whose commit takes the WAL past 1000 pages copies it back into the
 * database file and fsyncs it, inside that commit: 20-90 ms once every few seconds under the
 * load plan's writes, on an HTTP I/O thread, so every request on that thread waited too. Once
 * sp_db_checkpoints_start() has run, new connections only report their WAL size (wal_hook) and
 * one background thread checkpoints (PASSIVE: it never blocks readers or writers). */
#define CKPT_FRAMES 1000 /* pages in the WAL that trigger a checkpoint */
#define CKPT_IDLE_MS 1000 /* and at least this often while anything is left in it */

static struct {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t thread;
    bool running, stop;
    int frames; /* WAL pages reported by the last commit (under mu) */
} ckpt = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static char *g_path;
static bool g_inited;
static struct sp_db *ckpt_db; /* the checkpointer's own connection */
static pthread_key_t g_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static _Thread_local struct sp_db *tl_db;

static atomic_uint_fast64_t st_queries;
static atomic_uint_fast64_t st_errors;
static atomic_uint_fast64_t st_nanos;

/* Map an SQLite result code to the closed set of common.h. */
static int map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
        return SP_OK;
    case SQLITE_ROW:
        return SP_ROW;
    case SQLITE_DONE:
        return SP_DONE;
    case SQLITE_CONSTRAINT:
        return SP_CONFLICT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return SP_AGAIN;
    default:
        return SP_ERR;
    }
}

/* Log a failure at a level fitting its kind (conflicts and busy are expected under load). */
static void log_failure(sqlite3 *h, int rc, const char *what, const char *sql)
{
    int mapped = map_rc(rc);
    int level = mapped == SP_ERR ? SP_LOG_ERROR : SP_LOG_DEBUG;
    if (mapped == SP_AGAIN)
        level = SP_LOG_WARN;
    if (!sp_log_enabled(level))
        return;
    sp_log(level, "sqlite", "%s: %s (code %d)%s%.300s", what, h ? sqlite3_errmsg(h) : "?", rc,
           sql ? "; sql: " : "", sql ? sql : "");
}

/* "sqlite:///abs/path.db" → "/abs/path.db", "sqlite://rel.db" → "rel.db", else the path. */
static int url_to_path(const char *url, char **path, struct sp_err *e)
{
    if (!url || !*url) {
        sp_err_set(e, "database_url", "empty database URL");
        return SP_ERR;
    }
    const char *p = url;
    if (!strncmp(url, "sqlite://", 9)) {
        p = url + 9;
    } else if (!strncmp(url, "sqlite:", 7)) {
        p = url + 7;
    } else if (strstr(url, "://")) {
        sp_err_set(e, "database_url", "unsupported database URL scheme in '%s' (expected sqlite://)",
                   url);
        return SP_ERR;
    }
    if (!*p) {
        sp_err_set(e, "database_url", "database URL '%s' names no file", url);
        return SP_ERR;
    }
    *path = sp_strdup(p);
    return SP_OK;
}

/* Runs in the exiting thread: forget the connection before closing it, so nothing later in
 * the thread's teardown can reach a freed handle through sp_db_thread(). */
static void key_destructor(void *v)
{
    if (tl_db == v)
        tl_db = NULL;
    sp_db_close(v);
}

static void make_key(void)
{
    pthread_key_create(&g_key, key_destructor);
}

int sp_db_global_init(const char *url, struct sp_err *e)
{
    char *path = NULL;
    if (url_to_path(url, &path, e) != SP_OK)
        return SP_ERR;
    if (!sqlite3_threadsafe()) {
        sp_free(path);
        sp_err_set(e, "", "the SQLite library was built without thread support");
        return SP_ERR;
    }
    sqlite3_initialize();
    pthread_once(&g_key_once, make_key);
    if (tl_db) {
        /* re-initialised (tests): the old connection may point elsewhere */
        sp_db_thread_close();
    }
    sp_free(g_path);
    g_path = path;
    g_inited = true;
    return SP_OK;
}

void sp_db_global_shutdown(void)
{
    sp_db_checkpoints_stop();
    sp_db_thread_close();
    sp_free(g_path);
    g_path = NULL;
    g_inited = false;
}

struct sp_db *sp_db_thread(void)
{
    if (tl_db)
        return tl_db;
    if (!g_inited) {
        sp_error("sqlite", "sp_db_thread() before sp_db_global_init()");
        return NULL;
    }
    struct sp_err e = {{0}, {0}};
    struct sp_db *db = sp_db_open(g_path, &e);
    if (!db) {
        sp_error("sqlite", "cannot open the database: %s", e.message);
        return NULL;
    }
    tl_db = db;
    pthread_setspecific(g_key, db);
    return db;
}

void sp_db_thread_close(void)
{
    if (!tl_db)
        return;
    struct sp_db *db = tl_db;
    tl_db = NULL;
    pthread_setspecific(g_key, NULL);
    sp_db_close(db);
}

/* Called by SQLite after each commit of a connection opened while the checkpointer runs. */
static int wal_hook(void *arg, sqlite3 *h, const char *name, int frames)
{
    (void)arg;
    (void)h;
    (void)name;
    pthread_mutex_lock(&ckpt.mu);
    ckpt.frames = frames;
    if (frames >= CKPT_FRAMES)
        pthread_cond_signal(&ckpt.wake);
    pthread_mutex_unlock(&ckpt.mu);
    return SQLITE_OK;
}

static void *ckpt_main(void *arg)
{
    struct sp_db *db = arg;
    pthread_mutex_lock(&ckpt.mu);
    while (!ckpt.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += CKPT_IDLE_MS / 1000;
        if (ckpt.frames < CKPT_FRAMES)
            pthread_cond_timedwait(&ckpt.wake, &ckpt.mu, &ts);
        if (ckpt.stop || ckpt.frames == 0)
            continue;
        ckpt.frames = 0;
        pthread_mutex_unlock(&ckpt.mu);
        int log = 0, done = 0;
        int64_t t0 = sp_time_mono_ns();
        int rc = sqlite3_wal_checkpoint_v2(db->h, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_failure(db->h, rc, "checkpoint", NULL);
        else
            sp_debug("sqlite", "checkpoint: %d of %d WAL pages in %.1f ms", done, log,
                     (double)(sp_time_mono_ns() - t0) / 1e6);
        pthread_mutex_lock(&ckpt.mu);
    }
    pthread_mutex_unlock(&ckpt.mu);
    return NULL;
}

void sp_db_checkpoints_start(void)
{
    if (!g_inited || ckpt.running)
        return;
    struct sp_err e = {{0}, {0}};
    struct sp_db *db = sp_db_open(g_path, &e);
    if (!db) {
        sp_warn("sqlite", "no background checkpoints (commits will checkpoint): %s", e.message);
        return;
    }
    ckpt.stop = false;
    ckpt.frames = 0;
    if (pthread_create(&ckpt.thread, NULL, ckpt_main, db) != 0) {
        sp_warn("sqlite", "no background checkpoints: cannot start the thread");
        sp_db_close(db);
        return;
    }
    pthread_setname_np(ckpt.thread, "db-checkpoint");
    ckpt.running = true; /* connections opened from now on leave checkpoints to it */
    ckpt_db = db;
}

void sp_db_checkpoints_stop(void)
{
    if (!ckpt.running)
        return;
    pthread_mutex_lock(&ckpt.mu);
    ckpt.stop = true;
    pthread_cond_signal(&ckpt.wake);
    pthread_mutex_unlock(&ckpt.mu);
    pthread_join(ckpt.thread, NULL);
    ckpt.running = false;
    /* what is left is checkpointed when the last connection closes */
    sp_db_close(ckpt_db);
    ckpt_db = NULL;
}

/*
 * Wait for a lock in short steps: SQLite's own handler sleeps 1, 2, 5, 10, 15, 20, 25... ms, so a
 * writer that found the lock held for 0.2 ms often waited 10 ms or more. Here: 50 us doubling to
 * at most 2 ms, until busy_ms have passed since the wait began.
 */
static int busy_wait(void *arg, int count)
{
    struct sp_db *db = arg;
    int64_t now = sp_time_mono_ns();
    if (count == 0)
        db->busy_t0 = now;
    if (now - db->busy_t0 >= (int64_t)db->busy_ms * 1000000)
        return 0;
    long us = 50L << (count < 6 ? count : 6);
    struct timespec ts = {0, (us > 2000 ? 2000 : us) * 1000L};
    nanosleep(&ts, NULL);
    return 1;
}

static int pragma(struct sp_db *db, const char *sql, struct sp_err *e)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        sp_err_set(e, "database_url", "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
        sqlite3_free(msg);
        return SP_ERR;
    }
    return SP_OK;
}

struct sp_db *sp_db_open(const char *url, struct sp_err *e)
{
    char *path = NULL;
    if (url_to_path(url, &path, e) != SP_OK)
        return NULL;
    struct sp_db *db = sp_calloc(1, sizeof *db);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    int rc = sqlite3_open_v2(path, &db->h, flags, NULL);
    if (rc != SQLITE_OK) {
        sp_err_set(e, "database_url", "cannot open database '%s': %s", path,
                   db->h ? sqlite3_errmsg(db->h) : sqlite3_errstr(rc));
        goto fail;
    }
    sqlite3_extended_result_codes(db->h, 1);
    db->busy_ms = BUSY_TIMEOUT_MS;
    sqlite3_busy_handler(db->h, busy_wait, db);
    char sql[256];
    snprintf(sql, sizeof sql,
             "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
             "PRAGMA temp_store=MEMORY; PRAGMA cache_size=-%d; PRAGMA mmap_size=%lld;",
             CACHE_SIZE_KIB, MMAP_SIZE);
    if (pragma(db, sql, e) != SP_OK)
        goto fail;
    if (ckpt.running)
        sqlite3_wal_hook(db->h, wal_hook, NULL); /* replaces the automatic checkpoint */
    sp_free(path);
    return db;
fail:
    sp_dbstats_connect_error();
    sp_free(path);
    sp_db_close(db);
    return NULL;
}

void sp_db_close(struct sp_db *db)
{
    if (!db)
        return;
    for (size_t i = 0; i < db->cap; i++) {
        if (db->slots[i].stmt) {
            sqlite3_finalize(db->slots[i].stmt->st);
            sp_free(db->slots[i].stmt);
        }
    }
    sp_free(db->slots);
    /* close_v2: statements still open (uncached ones a caller kept, or FTS5's own, which it
     * finalizes itself on disconnect) must not be finalized here; the handle is released when
     * the last one goes. */
    if (db->h)
        sqlite3_close_v2(db->h);
    sp_free(db);
}

int sp_db_dialect(struct sp_db *db)
{
    (void)db;
    return SP_DIALECT_SQLITE;
}

static size_t slot_index(const char *key, size_t cap)
{
    uint64_t h = (uint64_t)(uintptr_t)key * UINT64_C(0x9E3779B97F4A7C15);
    return (size_t)(h >> 32) & (cap - 1);
}

static void cache_insert(struct sp_db *db, const char *key, struct sp_stmt *st)
{
    if ((db->count + 1) * 10 > db->cap * 7) {
        size_t ncap = db->cap ? db->cap * 2 : 64;
        struct slot *ns = sp_calloc(ncap, sizeof *ns);
        for (size_t i = 0; i < db->cap; i++) {
            if (!db->slots[i].key)
                continue;
            size_t j = slot_index(db->slots[i].key, ncap);
            while (ns[j].key)
                j = (j + 1) & (ncap - 1);
            ns[j] = db->slots[i];
        }
        sp_free(db->slots);
        db->slots = ns;
        db->cap = ncap;
    }
    size_t j = slot_index(key, db->cap);
    while (db->slots[j].key)
        j = (j + 1) & (db->cap - 1);
    db->slots[j].key = key;
    db->slots[j].stmt = st;
    db->count++;
}

static struct sp_stmt *cache_find(struct sp_db *db, const char *key)
{
    if (!db->cap)
        return NULL;
    size_t j = slot_index(key, db->cap);
    while (db->slots[j].key) {
        if (db->slots[j].key == key)
            return db->slots[j].stmt;
        j = (j + 1) & (db->cap - 1);
    }
    return NULL;
}

static struct sp_stmt *prepare(struct sp_db *db, const char *sql, bool cached)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v3(db->h, sql, -1, cached ? SQLITE_PREPARE_PERSISTENT : 0, &s, NULL);
    if (rc != SQLITE_OK || !s) {
        if (rc == SQLITE_OK)
            sp_error("sqlite", "prepare: empty statement: %.300s", sql);
        else
            log_failure(db->h, rc, "prepare", sql);
        atomic_fetch_add_explicit(&st_errors, 1, memory_order_relaxed);
        sqlite3_finalize(s);
        return NULL;
    }
    struct sp_stmt *st = sp_calloc(1, sizeof *st);
    st->st = s;
    st->db = db;
    st->cached = cached;
    return st;
}

struct sp_stmt *sp_db_prepare(struct sp_db *db, const char *sql)
{
    if (!db || !sql)
        return NULL;
    struct sp_stmt *st = cache_find(db, sql);
    if (st) {
        sp_stmt_reset(st);
        sqlite3_clear_bindings(st->st);
        return st;
    }
    st = prepare(db, sql, true);
    if (st)
        cache_insert(db, sql, st);
    return st;
}

struct sp_stmt *sp_db_prepare_once(struct sp_db *db, const char *sql)
{
    if (!db || !sql)
        return NULL;
    return prepare(db, sql, false);
}

void sp_stmt_finalize(struct sp_stmt *st)
{
    if (!st)
        return;
    if (st->cached) {
        sp_stmt_reset(st); /* cached statements belong to the connection */
        return;
    }
    sqlite3_finalize(st->st);
    sp_free(st);
}

void sp_stmt_reset(struct sp_stmt *st)
{
    if (!st)
        return;
    if (st->started)
        report_exec(st, SP_ROW);
    sqlite3_reset(st->st);
    st->started = false;
}

void sp_stmt_bind_int(struct sp_stmt *st, int idx, int64_t v)
{
    sqlite3_bind_int64(st->st, idx, v);
}

void sp_stmt_bind_double(struct sp_stmt *st, int idx, double v)
{
    sqlite3_bind_double(st->st, idx, v);
}

void sp_stmt_bind_text(struct sp_stmt *st, int idx, const char *s)
{
    if (!s)
        sqlite3_bind_null(st->st, idx);
    else
        sqlite3_bind_text(st->st, idx, s, -1, SQLITE_TRANSIENT);
}

void sp_stmt_bind_blob(struct sp_stmt *st, int idx, const void *p, size_t n)
{
    if (!p)
        sqlite3_bind_null(st->st, idx);
    else
        sqlite3_bind_blob64(st->st, idx, p, (sqlite3_uint64)n, SQLITE_TRANSIENT);
}

void sp_stmt_bind_null(struct sp_stmt *st, int idx)
{
    sqlite3_bind_null(st->st, idx);
}

/* Timing every step doubled the cost of cheap ones: two clock reads (about 40 ns each on these
 * virtual machines) around an index step of 100-300 ns were 21 % of the CPU of a search that
 * walks hundreds of rows (perf). The first STEP_TIMED steps of an execution are timed, then one
 * step in STEP_SAMPLE, counted for STEP_SAMPLE; the database time reported stays an estimate
 * of the same sum. */
#define STEP_TIMED 8
#define STEP_SAMPLE 16

int sp_stmt_step(struct sp_stmt *st)
{
    if (!st)
        return SP_ERR;
    uint32_t n = st->started ? st->steps : 0;
    bool timed = n < STEP_TIMED || n % STEP_SAMPLE == 0;
    int64_t t0 = timed ? sp_time_mono_ns() : 0;
    int rc = sqlite3_step(st->st);
    int64_t dt = 0;
    if (timed) {
        dt = sp_time_mono_ns() - t0;
        if (n >= STEP_TIMED)
            dt *= STEP_SAMPLE;
        atomic_fetch_add_explicit(&st_nanos, (uint64_t)dt, memory_order_relaxed);
    }
    if (!st->started) {
        st->started = true;
        st->reported = false;
        st->nanos = 0;
        atomic_fetch_add_explicit(&st_queries, 1, memory_order_relaxed);
    }
    st->steps = n + 1;
    st->nanos += dt;
    if (rc == SQLITE_ROW)
        return SP_ROW;
    if (rc == SQLITE_DONE) {
        report_exec(st, SP_DONE);
        return SP_DONE;
    }
    int mapped = map_rc(rc);
    report_exec(st, mapped);
    atomic_fetch_add_explicit(&st_errors, 1, memory_order_relaxed);
    log_failure(st->db->h, rc, "step", sqlite3_sql(st->st));
    /* reset so the statement releases its locks; the error stays in sqlite3_errmsg */
    sqlite3_reset(st->st);
    st->started = false;
    return mapped;
}

int sp_stmt_exec(struct sp_stmt *st)
{
    int rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW)
        ;
    if (rc == SP_DONE) {
        sp_stmt_reset(st);
        return SP_OK;
    }
    return rc;
}

int sp_stmt_column_count(struct sp_stmt *st)
{
    return sqlite3_column_count(st->st);
}

int sp_stmt_column_type(struct sp_stmt *st, int col)
{
    switch (sqlite3_column_type(st->st, col)) {
    case SQLITE_INTEGER:
        return SP_COL_INT;
    case SQLITE_FLOAT:
        return SP_COL_FLOAT;
    case SQLITE_TEXT:
        return SP_COL_TEXT;
    case SQLITE_BLOB:
        return SP_COL_BLOB;
    default:
        return SP_COL_NULL;
    }
}

int64_t sp_stmt_column_int(struct sp_stmt *st, int col)
{
    return sqlite3_column_int64(st->st, col);
}

double sp_stmt_column_double(struct sp_stmt *st, int col)
{
    return sqlite3_column_double(st->st, col);
}

const char *sp_stmt_column_text(struct sp_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(st->st, col);
}

const void *sp_stmt_column_blob(struct sp_stmt *st, int col, size_t *len)
{
    const void *p = sqlite3_column_blob(st->st, col);
    if (len)
        *len = (size_t)sqlite3_column_bytes(st->st, col);
    return p;
}

const char *sp_stmt_column_name(struct sp_stmt *st, int col)
{
    return sqlite3_column_name(st->st, col);
}

int sp_db_exec(struct sp_db *db, const char *sql, struct sp_err *e)
{
    if (!db)
        return SP_ERR;
    char *msg = NULL;
    int64_t t0 = sp_time_mono_ns();
    int rc = sqlite3_exec(db->h, sql, NULL, NULL, &msg);
    atomic_fetch_add_explicit(&st_nanos, (uint64_t)(sp_time_mono_ns() - t0), memory_order_relaxed);
    atomic_fetch_add_explicit(&st_queries, 1, memory_order_relaxed);
    if (rc == SQLITE_OK)
        return SP_OK;
    atomic_fetch_add_explicit(&st_errors, 1, memory_order_relaxed);
    if (e)
        sp_err_set(e, "", "%s", msg ? msg : sqlite3_errstr(rc));
    log_failure(db->h, rc, "exec", sql);
    sqlite3_free(msg);
    return map_rc(rc);
}

static int run_simple(struct sp_db *db, const char *sql)
{
    struct sp_stmt *st = sp_db_prepare(db, sql);
    if (!st)
        return SP_ERR;
    return sp_stmt_exec(st);
}

int sp_db_begin(struct sp_db *db)
{
    if (!db)
        return SP_ERR;
    return run_simple(db, "BEGIN IMMEDIATE");
}

int sp_db_commit(struct sp_db *db)
{
    if (!db)
        return SP_ERR;
    int rc = run_simple(db, "COMMIT");
    if (rc != SP_OK && !sqlite3_get_autocommit(db->h))
        sp_db_rollback(db);
    return rc;
}

void sp_db_rollback(struct sp_db *db)
{
    if (!db || sqlite3_get_autocommit(db->h))
        return; /* nothing open (SQLite may already have rolled back on error) */
    run_simple(db, "ROLLBACK");
}

bool sp_db_in_transaction(struct sp_db *db)
{
    return db && !sqlite3_get_autocommit(db->h);
}

void sp_db_set_busy_timeout(struct sp_db *db, int ms)
{
    if (db)
        db->busy_ms = ms < 0 ? 0 : ms;
}

int sp_db_idle(struct sp_db *db)
{
    if (!db || !sqlite3_get_autocommit(db->h) || sqlite3_txn_state(db->h, NULL) == SQLITE_TXN_NONE)
        return 0; /* an open transaction is the caller's; no snapshot held otherwise */
    int n = 0;
    for (size_t i = 0; i < db->cap; i++) {
        struct sp_stmt *st = db->slots[i].stmt;
        if (st && sqlite3_stmt_busy(st->st)) {
            sp_debug("sqlite", "statement left mid-iteration, reset: %.200s", sqlite3_sql(st->st));
            sp_stmt_reset(st);
            n++;
        }
    }
    return n;
}

int64_t sp_db_last_insert_id(struct sp_db *db)
{
    return db ? sqlite3_last_insert_rowid(db->h) : 0;
}

int64_t sp_db_changes(struct sp_db *db)
{
    return db ? sqlite3_changes64(db->h) : 0;
}

const char *sp_db_errmsg(struct sp_db *db)
{
    return db ? sqlite3_errmsg(db->h) : "no database connection";
}

void sp_db_stats(uint64_t *queries, uint64_t *errors, uint64_t *nanos)
{
    if (queries)
        *queries = atomic_load_explicit(&st_queries, memory_order_relaxed);
    if (errors)
        *errors = atomic_load_explicit(&st_errors, memory_order_relaxed);
    if (nanos)
        *nanos = atomic_load_explicit(&st_nanos, memory_order_relaxed);
}

int sp_db_memory(int64_t *used, int64_t *highest)
{
    sqlite3_int64 now = 0, top = 0;
    if (sqlite3_status64(SQLITE_STATUS_MEMORY_USED, &now, &top, 0) != SQLITE_OK)
        return SP_ERR;
    /* with memory statistics compiled out (SQLITE_DEFAULT_MEMSTATUS=0) both stay 0 */
    if (now <= 0)
        return SP_ERR;
    *used = now;
    *highest = top;
    return SP_OK;
}
