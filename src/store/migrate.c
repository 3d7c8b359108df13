/*
 * migrate.c — schema migrations: one transaction per numbered SQL file.
 */
#include "store/migrate.h"

#include "store/db.h"
#include "util/log.h"
#include "util/time.h"

static int ensure_table(struct sp_db *db, struct sp_err *e)
{
    return sp_db_exec(db,
                      "CREATE TABLE IF NOT EXISTS schema_migrations ("
                      " version INTEGER PRIMARY KEY,"
                      " name TEXT NOT NULL,"
                      " applied_at INTEGER NOT NULL)",
                      e);
}

/* 1 when `version` is recorded, 0 when not, -1 on error. */
static int is_applied(struct sp_db *db, int version)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT 1 FROM schema_migrations WHERE version = ?");
    if (!st)
        return -1;
    sp_stmt_bind_int(st, 1, version);
    int rc = sp_stmt_step(st);
    sp_stmt_reset(st);
    if (rc == SP_ROW)
        return 1;
    return rc == SP_DONE ? 0 : -1;
}

int sp_store_schema_version(struct sp_db *db, int *version)
{
    *version = 0;
    if (ensure_table(db, NULL) != SP_OK)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (!st)
        return SP_ERR;
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        *version = (int)sp_stmt_column_int(st, 0);
    sp_stmt_reset(st);
    return rc == SP_ROW ? SP_OK : SP_ERR;
}

/* Apply one migration unless another process did it first. 1 applied, 0 skipped, -1 failed. */
static int apply_one(struct sp_db *db, const struct sp_migration *m, struct sp_err *e)
{
    int rc = sp_db_begin(db);
    if (rc != SP_OK) {
        sp_err_set(e, "", "migration %04d_%s: cannot start a transaction: %s", m->version,
                   m->name, sp_db_errmsg(db));
        return -1;
    }
    int done = is_applied(db, m->version);
    if (done != 0) {
        sp_db_rollback(db);
        if (done < 0)
            sp_err_set(e, "", "migration %d: cannot read schema_migrations: %s", m->version,
                       sp_db_errmsg(db));
        return done < 0 ? -1 : 0;
    }
    struct sp_err xe = {{0}, {0}};
    if (sp_db_exec(db, m->sql, &xe) != SP_OK) {
        sp_db_rollback(db);
        sp_err_set(e, "", "migration %s failed: %s", m->name, xe.message);
        return -1;
    }
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)");
    if (st) {
        sp_stmt_bind_int(st, 1, m->version);
        sp_stmt_bind_text(st, 2, m->name);
        sp_stmt_bind_int(st, 3, sp_time_now());
    }
    if (!st || sp_stmt_exec(st) != SP_OK) {
        sp_db_rollback(db);
        sp_err_set(e, "", "migration %s: cannot record it: %s", m->name, sp_db_errmsg(db));
        return -1;
    }
    if (sp_db_commit(db) != SP_OK) {
        sp_err_set(e, "", "migration %s: commit failed: %s", m->name, sp_db_errmsg(db));
        return -1;
    }
    sp_info("migration applied", "%s", m->name);
    return 1;
}

int sp_store_migrate_cb(struct sp_db *db, int *applied, sp_migrate_cb cb, void *arg,
                        struct sp_err *e)
{
    if (applied)
        *applied = 0;
    if (!db) {
        sp_err_set(e, "", "no database connection");
        return SP_ERR;
    }
    struct sp_err xe = {{0}, {0}};
    if (ensure_table(db, &xe) != SP_OK) {
        sp_err_set(e, "", "cannot create schema_migrations: %s", xe.message);
        return SP_ERR;
    }
    for (const struct sp_migration *m = sp_migrations_sqlite; m->version; m++) {
        int done = is_applied(db, m->version);
        if (done < 0) {
            sp_err_set(e, "", "cannot read schema_migrations: %s", sp_db_errmsg(db));
            return SP_ERR;
        }
        if (done)
            continue;
        int r = apply_one(db, m, e);
        if (r < 0)
            return SP_ERR;
        if (r > 0) {
            if (applied)
                (*applied)++;
            if (cb)
                cb(arg, m);
        }
    }
    return SP_OK;
}

int sp_store_migrate(struct sp_db *db, int *applied, struct sp_err *e)
{
    return sp_store_migrate_cb(db, applied, NULL, NULL, e);
}
