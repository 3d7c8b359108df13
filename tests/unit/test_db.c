/*
 * test_db.c — the SQLite driver (store/db.h) and the migrations: URL forms, the prepared
 * statement cache, binding and columns, constraint → SP_CONFLICT, a second connection's write
 * lock → SP_AGAIN, transactions, per-thread connections, and migrations applied once.
 */
#include "support.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/db.h"
#include "store/migrate.h"
#include "store/migrations.h"
#include "util/alloc.h"

struct fixture {
    char dir[512];
    char url[700];
    struct sp_db *db;
};

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    if (ts_db_setup(f->dir, sizeof f->dir, "test_db", TS_DB_EMPTY, &f->db) != 0)
        return -1;
    ts_db_url(f->url, sizeof f->url, f->dir);
    struct sp_err e = {{0}, {0}};
    if (sp_db_exec(
            f->db,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE, score REAL, data BLOB,"
            " n INTEGER)",
            &e) != SP_OK)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = ts_db_teardown(f->db, f->dir);
    sp_free(f);
    return rc;
}

static int64_t count_rows(struct sp_db *db)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT COUNT(*) FROM t");
    assert_non_null(st);
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    int64_t n = sp_stmt_column_int(st, 0);
    sp_stmt_reset(st);
    return n;
}

static void url_forms(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    char url[800];

    /* sqlite:///absolute */
    snprintf(url, sizeof url, "sqlite://%s/abs.db", f->dir); /* dir is absolute or relative */
    struct sp_db *db = sp_db_open(url, &e);
    assert_non_null(db);
    assert_int_equal(sp_db_dialect(db), SP_DIALECT_SQLITE);
    sp_db_close(db);

    /* a plain path */
    snprintf(url, sizeof url, "%s/plain.db", f->dir);
    db = sp_db_open(url, &e);
    assert_non_null(db);
    sp_db_close(db);
    snprintf(url, sizeof url, "%s/plain.db", f->dir);
    assert_int_equal(access(url, F_OK), 0);

    /* sqlite://relative (relative to the working directory) */
    char cwd[1024];
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(f->dir), 0);
    db = sp_db_open("sqlite://rel.db", &e);
    assert_non_null(db);
    sp_db_close(db);
    assert_int_equal(access("rel.db", F_OK), 0);
    assert_int_equal(chdir(cwd), 0);

    /* another scheme or nothing at all: refused with a message */
    assert_null(sp_db_open("mysql://x/y", &e));
    assert_non_null(strstr(e.message, "scheme"));
    assert_null(sp_db_open("", &e));
    assert_null(sp_db_open("sqlite://", &e));
    /* a directory that does not exist */
    snprintf(url, sizeof url, "sqlite://%s/missing/dir/x.db", f->dir);
    assert_null(sp_db_open(url, &e));
    assert_true(e.message[0] != '\0');
}

static void pragmas_applied(void **state)
{
    struct fixture *f = *state;
    struct sp_stmt *st = sp_db_prepare(f->db, "PRAGMA journal_mode");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    assert_string_equal(sp_stmt_column_text(st, 0), "wal");
    sp_stmt_reset(st);
    st = sp_db_prepare(f->db, "PRAGMA foreign_keys");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    assert_int_equal(sp_stmt_column_int(st, 0), 1);
    sp_stmt_reset(st);
    st = sp_db_prepare(f->db, "PRAGMA synchronous");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    assert_int_equal(sp_stmt_column_int(st, 0), 1); /* NORMAL */
    sp_stmt_reset(st);
}

static const char INSERT_SQL[] = "INSERT INTO t(name, score, data, n) VALUES (?, ?, ?, ?)";

static void bind_step_columns(void **state)
{
    struct fixture *f = *state;
    struct sp_stmt *st = sp_db_prepare(f->db, INSERT_SQL);
    assert_non_null(st);
    sp_stmt_bind_text(st, 1, "élan");
    sp_stmt_bind_double(st, 2, 2.5);
    sp_stmt_bind_blob(st, 3, "\0\1\2", 3);
    sp_stmt_bind_int(st, 4, INT64_C(9007199254740993));
    assert_int_equal(sp_stmt_exec(st), SP_OK);
    int64_t id = sp_db_last_insert_id(f->db);
    assert_true(id > 0);
    assert_int_equal(sp_db_changes(f->db), 1);

    st = sp_db_prepare(f->db, INSERT_SQL);
    sp_stmt_bind_text(st, 1, NULL); /* NULL text → SQL NULL */
    sp_stmt_bind_null(st, 2);
    assert_int_equal(sp_stmt_exec(st), SP_OK);

    st = sp_db_prepare(f->db, "SELECT id, name, score, data, n FROM t ORDER BY id");
    assert_int_equal(sp_stmt_column_count(st), 5);
    assert_string_equal(sp_stmt_column_name(st, 1), "name");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    assert_int_equal(sp_stmt_column_int(st, 0), id);
    assert_int_equal(sp_stmt_column_type(st, 1), SP_COL_TEXT);
    assert_string_equal(sp_stmt_column_text(st, 1), "élan");
    assert_int_equal(sp_stmt_column_type(st, 2), SP_COL_FLOAT);
    assert_true(sp_stmt_column_double(st, 2) == 2.5);
    size_t len = 0;
    const unsigned char *blob = sp_stmt_column_blob(st, 3, &len);
    assert_int_equal(len, 3);
    assert_memory_equal(blob, "\0\1\2", 3);
    assert_int_equal(sp_stmt_column_type(st, 3), SP_COL_BLOB);
    assert_int_equal(sp_stmt_column_int(st, 4), INT64_C(9007199254740993));
    assert_int_equal(sp_stmt_column_type(st, 4), SP_COL_INT);
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    assert_int_equal(sp_stmt_column_type(st, 1), SP_COL_NULL);
    assert_null(sp_stmt_column_text(st, 1));
    assert_int_equal(sp_stmt_step(st), SP_DONE);
    sp_stmt_reset(st);
}

static const char SELECT_BY_NAME[] = "SELECT id FROM t WHERE name = ?";

static void statement_cache(void **state)
{
    struct fixture *f = *state;
    struct sp_stmt *a = sp_db_prepare(f->db, SELECT_BY_NAME);
    assert_non_null(a);
    struct sp_stmt *b = sp_db_prepare(f->db, SELECT_BY_NAME);
    assert_ptr_equal(a, b); /* same text pointer → the same cached statement */

    /* a fresh prepare resets the statement and clears its bindings */
    struct sp_stmt *ins = sp_db_prepare(f->db, INSERT_SQL);
    sp_stmt_bind_text(ins, 1, "cached");
    assert_int_equal(sp_stmt_exec(ins), SP_OK);
    a = sp_db_prepare(f->db, SELECT_BY_NAME);
    sp_stmt_bind_text(a, 1, "cached");
    assert_int_equal(sp_stmt_step(a), SP_ROW); /* left mid-iteration on purpose */
    a = sp_db_prepare(f->db, SELECT_BY_NAME);
    assert_int_equal(sp_stmt_step(a), SP_DONE); /* binding cleared: name = NULL matches none */

    /* many distinct statements: the hash grows and every one stays reachable */
    static char sqls[200][48];
    struct sp_stmt *sts[200];
    for (int i = 0; i < 200; i++) {
        snprintf(sqls[i], sizeof sqls[i], "SELECT %d", i);
        sts[i] = sp_db_prepare(f->db, sqls[i]);
        assert_non_null(sts[i]);
    }
    for (int i = 0; i < 200; i++) {
        assert_ptr_equal(sp_db_prepare(f->db, sqls[i]), sts[i]);
        assert_int_equal(sp_stmt_step(sts[i]), SP_ROW);
        assert_int_equal(sp_stmt_column_int(sts[i], 0), i);
        sp_stmt_reset(sts[i]);
    }

    /* syntax errors: NULL, counted as an error */
    uint64_t q0, e0, n0, q1, e1, n1;
    sp_db_stats(&q0, &e0, &n0);
    assert_null(sp_db_prepare(f->db, "SELEC nonsense"));
    assert_null(sp_db_prepare_once(f->db, "SELEC nonsense"));
    sp_db_stats(&q1, &e1, &n1);
    assert_true(e1 >= e0 + 2);

    /* uncached statements */
    struct sp_stmt *once = sp_db_prepare_once(f->db, "SELECT 40 + 2");
    assert_non_null(once);
    assert_int_equal(sp_stmt_step(once), SP_ROW);
    assert_int_equal(sp_stmt_column_int(once, 0), 42);
    sp_stmt_finalize(once);
}

static void stats_count_queries(void **state)
{
    struct fixture *f = *state;
    uint64_t q0, e0, n0, q1, e1, n1;
    sp_db_stats(&q0, &e0, &n0);
    for (int i = 0; i < 10; i++) {
        struct sp_stmt *st = sp_db_prepare(f->db, "SELECT 1");
        assert_int_equal(sp_stmt_step(st), SP_ROW);
        sp_stmt_reset(st);
    }
    sp_db_stats(&q1, &e1, &n1);
    assert_true(q1 >= q0 + 10);
    assert_true(n1 >= n0);
}

static void constraint_is_conflict(void **state)
{
    struct fixture *f = *state;
    struct sp_stmt *st = sp_db_prepare(f->db, INSERT_SQL);
    sp_stmt_bind_text(st, 1, "dup");
    assert_int_equal(sp_stmt_exec(st), SP_OK);
    st = sp_db_prepare(f->db, INSERT_SQL);
    sp_stmt_bind_text(st, 1, "dup");
    assert_int_equal(sp_stmt_exec(st), SP_CONFLICT);
    assert_non_null(strstr(sp_db_errmsg(f->db), "UNIQUE"));
    /* the statement is usable again afterwards */
    st = sp_db_prepare(f->db, INSERT_SQL);
    sp_stmt_bind_text(st, 1, "dup2");
    assert_int_equal(sp_stmt_exec(st), SP_OK);
    /* NOT NULL and CHECK and foreign keys are constraints too */
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_db_exec(f->db,
                                "CREATE TABLE p (id INTEGER PRIMARY KEY);"
                                "CREATE TABLE c (id INTEGER PRIMARY KEY,"
                                " p INTEGER NOT NULL REFERENCES p(id));",
                                &e),
                     SP_OK);
    assert_int_equal(sp_db_exec(f->db, "INSERT INTO c(p) VALUES (12345)", &e), SP_CONFLICT);
    assert_int_equal(sp_db_exec(f->db, "INSERT INTO c(p) VALUES (NULL)", &e), SP_CONFLICT);
}

static void busy_is_again(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    struct sp_db *other = sp_db_open(f->url, &e);
    assert_non_null(other);
    assert_int_equal(sp_db_begin(other), SP_OK); /* holds the write lock */
    struct sp_stmt *st = sp_db_prepare(other, INSERT_SQL);
    sp_stmt_bind_text(st, 1, "held");
    assert_int_equal(sp_stmt_exec(st), SP_OK);

    sp_db_set_busy_timeout(f->db, 20);
    assert_int_equal(sp_db_begin(f->db), SP_AGAIN);
    assert_false(sp_db_in_transaction(f->db));
    st = sp_db_prepare(f->db, INSERT_SQL);
    sp_stmt_bind_text(st, 1, "blocked");
    assert_int_equal(sp_stmt_exec(st), SP_AGAIN);
    /* readers are not blocked by a writer in WAL mode, and do not see its uncommitted row */
    int64_t before = count_rows(f->db);

    assert_int_equal(sp_db_commit(other), SP_OK);
    sp_db_close(other);
    assert_int_equal(count_rows(f->db), before + 1);
    st = sp_db_prepare(f->db, INSERT_SQL);
    sp_stmt_bind_text(st, 1, "blocked");
    assert_int_equal(sp_stmt_exec(st), SP_OK);
    sp_db_set_busy_timeout(f->db, 5000);
}

static void transactions(void **state)
{
    struct fixture *f = *state;
    int64_t n0 = count_rows(f->db);
    assert_false(sp_db_in_transaction(f->db));
    assert_int_equal(sp_db_begin(f->db), SP_OK);
    assert_true(sp_db_in_transaction(f->db));
    struct sp_stmt *st = sp_db_prepare(f->db, INSERT_SQL);
    sp_stmt_bind_text(st, 1, "rolled-back");
    assert_int_equal(sp_stmt_exec(st), SP_OK);
    sp_db_rollback(f->db);
    assert_false(sp_db_in_transaction(f->db));
    assert_int_equal(count_rows(f->db), n0);

    assert_int_equal(sp_db_begin(f->db), SP_OK);
    st = sp_db_prepare(f->db, INSERT_SQL);
    sp_stmt_bind_text(st, 1, "committed");
    assert_int_equal(sp_stmt_exec(st), SP_OK);
    assert_int_equal(sp_db_commit(f->db), SP_OK);
    assert_int_equal(count_rows(f->db), n0 + 1);

    /* rollback with nothing open is harmless; a nested begin is an error, not a crash */
    sp_db_rollback(f->db);
    assert_int_equal(sp_db_begin(f->db), SP_OK);
    assert_int_equal(sp_db_begin(f->db), SP_ERR);
    sp_db_rollback(f->db);
    assert_false(sp_db_in_transaction(f->db));

    /* several statements in one exec; an error in the middle reports SP_ERR */
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_db_exec(f->db,
                                "INSERT INTO t(name) VALUES ('m1'); INSERT INTO t(name) VALUES"
                                " ('m2');",
                                &e),
                     SP_OK);
    assert_int_equal(count_rows(f->db), n0 + 3);
    assert_int_equal(sp_db_exec(f->db, "SELECT * FROM no_such_table", &e), SP_ERR);
    assert_non_null(strstr(e.message, "no_such_table"));
}

static void idle_releases_snapshots(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_db_exec(f->db, "INSERT INTO t(name) VALUES ('a'), ('b')", &e), SP_OK);
    assert_int_equal(sp_db_idle(f->db), 0);
    /* a SELECT stepped once and forgotten holds a read snapshot */
    struct sp_stmt *st = sp_db_prepare(f->db, "SELECT id FROM t ORDER BY id");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    int64_t before = count_rows(f->db);

    struct sp_db *other = sp_db_open(f->url, &e);
    assert_non_null(other);
    assert_int_equal(sp_db_exec(other, "INSERT INTO t(name) VALUES ('c')", &e), SP_OK);
    sp_db_close(other);
    assert_int_equal(count_rows(f->db), before); /* stale: still the old snapshot */

    assert_int_equal(sp_db_idle(f->db), 1);
    assert_int_equal(count_rows(f->db), before + 1); /* fresh again */
    assert_int_equal(sp_db_idle(f->db), 0);
    /* inside a transaction nothing is touched: the transaction is the caller's */
    assert_int_equal(sp_db_begin(f->db), SP_OK);
    st = sp_db_prepare(f->db, "SELECT id FROM t ORDER BY id");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    assert_int_equal(sp_db_idle(f->db), 0);
    sp_db_rollback(f->db);
}

struct thread_arg {
    struct sp_db *seen;
    struct sp_db *again;
    int64_t rows;
};

static void *thread_main(void *p)
{
    struct thread_arg *a = p;
    a->seen = sp_db_thread();
    a->again = sp_db_thread();
    if (a->seen) {
        struct sp_stmt *st = sp_db_prepare(a->seen, "SELECT COUNT(*) FROM t");
        if (st && sp_stmt_step(st) == SP_ROW)
            a->rows = sp_stmt_column_int(st, 0);
        sp_stmt_reset(st);
    }
    return NULL; /* the connection is closed by the thread-exit destructor */
}

static void per_thread_connections(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_db_global_init(f->url, &e), SP_OK);
    struct sp_db *mine = sp_db_thread();
    assert_non_null(mine);
    assert_ptr_equal(sp_db_thread(), mine);
    struct thread_arg a = {0};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, thread_main, &a), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    assert_non_null(a.seen);
    assert_ptr_equal(a.seen, a.again);
    assert_ptr_not_equal(a.seen, mine);
    assert_int_equal(a.rows, count_rows(mine));
    sp_db_thread_close();
    sp_db_global_shutdown();
    assert_int_equal(sp_db_global_init("ftp://nope", &e), SP_ERR);
}

static void migrations_idempotent(void **state)
{
    struct fixture *f = *state;
    struct sp_err e = {{0}, {0}};
    int expected = 0;
    for (const struct sp_migration *m = sp_migrations_sqlite; m->version; m++)
        expected++;
    assert_true(expected >= 1);
    int version = -1;
    assert_int_equal(sp_store_schema_version(f->db, &version), SP_OK);
    assert_int_equal(version, 0);

    int applied = -1;
    assert_int_equal(sp_store_migrate(f->db, &applied, &e), SP_OK);
    assert_int_equal(applied, expected);
    assert_int_equal(sp_store_schema_version(f->db, &version), SP_OK);
    int last = 0;
    for (const struct sp_migration *m = sp_migrations_sqlite; m->version; m++) {
        assert_true(m->version > last); /* sorted, unique */
        last = m->version;
    }
    assert_int_equal(version, last);

    /* the second run applies nothing and changes nothing */
    assert_int_equal(sp_store_migrate(f->db, &applied, &e), SP_OK);
    assert_int_equal(applied, 0);
    struct sp_stmt *st = sp_db_prepare(f->db, "SELECT COUNT(*) FROM schema_migrations");
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    assert_int_equal(sp_stmt_column_int(st, 0), expected);
    sp_stmt_reset(st);
    /* the schema is there: the main tables answer */
    st = sp_db_prepare(f->db, "SELECT COUNT(*) FROM users, releases, releases_fts");
    assert_non_null(st);
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    sp_stmt_reset(st);

    /* a migration that fails is rolled back and reported; earlier ones stay */
    assert_int_equal(sp_db_exec(f->db, "DROP TABLE schema_migrations", &e), SP_OK);
    assert_int_equal(sp_store_migrate(f->db, &applied, &e), SP_ERR); /* tables already exist */
    assert_non_null(strstr(e.message, "0001"));
    assert_false(sp_db_in_transaction(f->db));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(url_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(pragmas_applied, setup, teardown),
        cmocka_unit_test_setup_teardown(bind_step_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(statement_cache, setup, teardown),
        cmocka_unit_test_setup_teardown(stats_count_queries, setup, teardown),
        cmocka_unit_test_setup_teardown(constraint_is_conflict, setup, teardown),
        cmocka_unit_test_setup_teardown(busy_is_again, setup, teardown),
        cmocka_unit_test_setup_teardown(transactions, setup, teardown),
        cmocka_unit_test_setup_teardown(idle_releases_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(per_thread_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(migrations_idempotent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
