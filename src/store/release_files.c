/* release_files.c — packed files of releases (see release_files.h). */
#include "store/release_files.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "store/tx.h"
#include "util/alloc.h"

static void read_file(struct sp_stmt *st, struct sp_release_file *f)
{
    memset(f, 0, sizeof *f);
    const char *name = sp_stmt_column_text(st, 0);
    const char *crc = sp_stmt_column_text(st, 2);
    snprintf(f->name, sizeof f->name, "%s", name ? name : "");
    f->size = sp_stmt_column_int(st, 1);
    snprintf(f->crc32, sizeof f->crc32, "%s", crc ? crc : "");
}

int sp_store_release_files(struct sp_db *db, int64_t release_id, struct sp_release_file **out,
                           size_t *n)
{
    *out = NULL;
    *n = 0;
    struct sp_stmt *st = sp_db_prepare(
        db, "SELECT name, size, crc32 FROM release_files WHERE release_id = ? ORDER BY id");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, release_id);
    int s;
    size_t cap = 0;
    while ((s = sp_stmt_step(st)) == SP_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 4;
            *out = sp_reallocarray(*out, cap, sizeof **out);
        }
        read_file(st, &(*out)[(*n)++]);
    }
    sp_stmt_reset(st);
    if (s != SP_DONE) {
        sp_free(*out);
        *out = NULL;
        *n = 0;
        return sp_store_step_rc(s);
    }
    return SP_OK;
}

int sp_store_release_file_get(struct sp_db *db, int64_t release_id, const char *name,
                              struct sp_release_file *out)
{
    struct sp_stmt *st = sp_db_prepare(
        db, "SELECT name, size, crc32 FROM release_files WHERE release_id = ? AND name = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, release_id);
    sp_stmt_bind_text(st, 2, name);
    int s = sp_stmt_step(st);
    if (s == SP_ROW)
        read_file(st, out);
    sp_stmt_reset(st);
    return s == SP_ROW ? SP_OK : s == SP_DONE ? SP_NOTFOUND : sp_store_step_rc(s);
}

int sp_store_volume_base_taken(struct sp_db *db, const char *base, int year,
                               int64_t exclude_release_id)
{
    /* Volume names are <base>NN.zip: one index range over (name, year). */
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%s00.zip", base);
    snprintf(hi, sizeof hi, "%s99.zip", base);
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT 1 FROM release_files WHERE name >= ? AND name <= ? AND year = ?"
                          " AND release_id <> ? LIMIT 1");
    if (!st)
        return -1;
    sp_stmt_bind_text(st, 1, lo);
    sp_stmt_bind_text(st, 2, hi);
    sp_stmt_bind_int(st, 3, year);
    sp_stmt_bind_int(st, 4, exclude_release_id);
    int s = sp_stmt_step(st);
    sp_stmt_reset(st);
    return s == SP_ROW ? 1 : s == SP_DONE ? 0 : -1;
}

int sp_store_dirname_taken(struct sp_db *db, const char *dirname, int64_t exclude_release_id)
{
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT 1 FROM releases WHERE name = ? AND id <> ? LIMIT 1");
    if (!st)
        return -1;
    sp_stmt_bind_text(st, 1, dirname);
    sp_stmt_bind_int(st, 2, exclude_release_id);
    int s = sp_stmt_step(st);
    sp_stmt_reset(st);
    return s == SP_ROW ? 1 : s == SP_DONE ? 0 : -1;
}

int sp_store_release_packed(struct sp_db *db, int64_t job_id, const char *owner, int64_t release_id,
                            const char *dirname, int year, const struct sp_release_file *files,
                            size_t n, int64_t now, struct sp_err *e)
{
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    /* still ours? (a cancel in between wins: the caller removes the output) */
    struct sp_stmt *st = sp_db_prepare(
        db, "UPDATE jobs SET status = 'completed', progress = 100, step = 'done', error = NULL,"
            " finished_at = ?, updated_at = ?, lease_owner = NULL, lease_until = NULL"
            " WHERE id = ? AND status = 'running' AND lease_owner = ?");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, now);
    sp_stmt_bind_int(st, 2, now);
    sp_stmt_bind_int(st, 3, job_id);
    sp_stmt_bind_text(st, 4, owner);
    if ((rc = sp_store_exec_guarded(db, st)) != SP_OK) {
        if (rc == SP_CONFLICT)
            sp_err_set(e, "status", "the job was cancelled before it could finish");
        goto fail;
    }
    st = sp_db_prepare(db, "UPDATE releases SET name = ?, status = 'completed', updated_at = ?"
                           " WHERE id = ?");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_text(st, 1, dirname);
    sp_stmt_bind_int(st, 2, now);
    sp_stmt_bind_int(st, 3, release_id);
    if ((rc = sp_store_exec_rc(st)) != SP_OK) {
        if (rc == SP_CONFLICT)
            sp_err_set(e, "name", "another release is already named %s", dirname);
        goto fail;
    }
    if (sp_db_changes(db) != 1) {
        sp_err_set(e, "release_id", "the release was deleted before the job finished");
        rc = SP_CONFLICT;
        goto fail;
    }
    st = sp_db_prepare(db, "DELETE FROM release_files WHERE release_id = ?");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, release_id);
    if ((rc = sp_store_exec_rc(st)) != SP_OK)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        st = sp_db_prepare(db, "INSERT INTO release_files(release_id, name, size, crc32, year)"
                               " VALUES (?, ?, ?, ?, ?)");
        if (!st) {
            rc = SP_ERR;
            goto fail;
        }
        sp_stmt_bind_int(st, 1, release_id);
        sp_stmt_bind_text(st, 2, files[i].name);
        sp_stmt_bind_int(st, 3, files[i].size);
        sp_stmt_bind_text(st, 4, files[i].crc32);
        sp_stmt_bind_int(st, 5, year);
        if ((rc = sp_store_exec_rc(st)) != SP_OK) {
            if (rc == SP_CONFLICT)
                rc = SP_ERR;
            goto fail;
        }
    }
    if ((rc = sp_store_tx_commit(db, own)) != SP_OK)
        goto fail;
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    return rc;
}
