/*
 * support.h — set-up shared by the unit tests (header-only: every test file is its own
 * executable): scratch directories under $SP_TEST_TMP (CTest sets it to build/test-tmp; /tmp
 * otherwise), a fresh SQLite database in one (empty, migrated, or migrated with the first-start
 * content), and the small store helpers several tests assert with.
 */
#ifndef SP_TEST_SUPPORT_H
#define SP_TEST_SUPPORT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "store/bootstrap.h"
#include "store/db.h"
#include "store/migrate.h"
#include "store/users.h"

/* The admin password of the first-start content (TS_DB_BOOTSTRAPPED). */
#define TS_ADMIN_PASSWORD "admin-password-1"

/* How far ts_db_setup() brings the new database. */
enum ts_db_steps {
    TS_DB_EMPTY = 0,        /* opened only */
    TS_DB_MIGRATED = 1,     /* every migration applied */
    TS_DB_BOOTSTRAPPED = 2, /* and the first-start content: permissions, roles, rule, admin */
};

/* mkdir -p: path and its missing parents (mode 0755). 0 or -1 (errno set). */
static inline int ts_mkdirs(const char *path)
{
    char p[512];
    int n = snprintf(p, sizeof p, "%s", path);
    if (n <= 0 || (size_t)n >= sizeof p) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST)
            return -1;
        *s = '/';
    }
    return mkdir(p, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* A fresh directory $SP_TEST_TMP/<tag>.XXXXXX (made with its parents) in dir, cap bytes.
 * 0, or -1 with the reason on stderr. */
static inline int ts_tmpdir(char *dir, size_t cap, const char *tag)
{
    const char *base = getenv("SP_TEST_TMP");
    if (!base || !*base)
        base = "/tmp";
    int n = snprintf(dir, cap, "%s/%s.XXXXXX", base, tag);
    if (n <= 0 || (size_t)n >= cap || ts_mkdirs(base) != 0 || !mkdtemp(dir)) {
        fprintf(stderr, "scratch directory under %s: %s\n", base, strerror(errno));
        return -1;
    }
    return 0;
}

/* Remove dir and everything below it. 0 or -1. */
static inline int ts_rmtree(const char *dir)
{
    char cmd[700];
    int n = snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (n <= 0 || (size_t)n >= sizeof cmd)
        return -1;
    return system(cmd) == 0 ? 0 : -1;
}

/* The URL of <dir>/test.db in url (cap bytes). */
static inline void ts_db_url(char *url, size_t cap, const char *dir)
{
    snprintf(url, cap, "sqlite://%s/test.db", dir);
}

/* Bring an open database to `steps`. 0, or -1 with the reason on stderr. */
static inline int ts_db_prepare(struct sp_db *db, enum ts_db_steps steps)
{
    struct sp_err e = {{0}, {0}};
    if (steps >= TS_DB_MIGRATED && sp_store_migrate(db, NULL, &e) != SP_OK) {
        fprintf(stderr, "migrate: %s\n", e.message);
        return -1;
    }
    struct sp_bootstrap_result br;
    if (steps >= TS_DB_BOOTSTRAPPED &&
        sp_store_bootstrap(db, TS_ADMIN_PASSWORD, &br, &e) != SP_OK) {
        fprintf(stderr, "bootstrap: %s\n", e.message);
        return -1;
    }
    return 0;
}

/* A scratch directory (dir, cap bytes) named after tag, holding test.db opened as a private
 * connection in *db and brought to `steps`. 0, or -1 with the reason on stderr (the caller's
 * teardown is not run then: cmocka fails the test). */
static inline int ts_db_setup(char *dir, size_t cap, const char *tag, enum ts_db_steps steps,
                              struct sp_db **db)
{
    *db = NULL;
    if (ts_tmpdir(dir, cap, tag) != 0)
        return -1;
    char url[700];
    ts_db_url(url, sizeof url, dir);
    struct sp_err e = {{0}, {0}};
    *db = sp_db_open(url, &e);
    if (!*db) {
        fprintf(stderr, "open: %s\n", e.message);
        return -1;
    }
    return ts_db_prepare(*db, steps);
}

/* Close db (NULL allowed) and remove dir. 0 or -1. */
static inline int ts_db_teardown(struct sp_db *db, const char *dir)
{
    sp_db_close(db);
    return ts_rmtree(dir);
}

/* The integer in the first column of the one row `sql` returns (asserted). */
static inline int64_t ts_scalar(struct sp_db *db, const char *sql)
{
    struct sp_stmt *st = sp_db_prepare_once(db, sql);
    assert_non_null(st);
    assert_int_equal(sp_stmt_step(st), SP_ROW);
    int64_t v = sp_stmt_column_int(st, 0);
    sp_stmt_finalize(st);
    return v;
}

/* An active user `name` without roles whose stored hash "unused-hash" matches no password (store
 * tests never log in); creation asserted. Returns its id. */
static inline int64_t ts_user(struct sp_db *db, const char *name)
{
    struct sp_user_new u = {.username = name, .password_hash = "unused-hash", .active = true};
    int64_t id = 0;
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_user_create(db, &u, &id, &e), SP_OK);
    return id;
}

#endif
