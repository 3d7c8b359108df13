/*
 * configs.c — configuration entries (see configs.h).
 */
#include "store/configs.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "store/db.h"
#include "store/tx.h"
#include "util/alloc.h"
#include "util/time.h"

#define COLS "id, key, value, secret_blob, secret, category, description, created_at, updated_at"

void sp_config_entry_free(struct sp_config_entry *c)
{
    if (!c)
        return;
    sp_free(c->value);
    if (c->blob) {
        sodium_memzero(c->blob, c->bloblen);
        sp_free(c->blob);
    }
    memset(c, 0, sizeof *c);
}

static void copy_col(char *dst, size_t cap, struct sp_stmt *st, int col)
{
    const char *s = sp_stmt_column_text(st, col);
    snprintf(dst, cap, "%s", s ? s : "");
}

static void read_entry(struct sp_stmt *st, struct sp_config_entry *c)
{
    memset(c, 0, sizeof *c);
    c->id = sp_stmt_column_int(st, 0);
    copy_col(c->key, sizeof c->key, st, 1);
    c->secret = sp_stmt_column_int(st, 4) != 0;
    if (c->secret) {
        size_t len = 0;
        const void *b = sp_stmt_column_blob(st, 3, &len);
        if (b && len) {
            c->blob = sp_malloc(len);
            memcpy(c->blob, b, len);
            c->bloblen = len;
        }
    } else {
        const char *v = sp_stmt_column_text(st, 2);
        c->value = sp_strdup(v ? v : "");
    }
    copy_col(c->category, sizeof c->category, st, 5);
    copy_col(c->description, sizeof c->description, st, 6);
    c->created_at = sp_stmt_column_int(st, 7);
    c->updated_at = sp_stmt_column_int(st, 8);
}

static int get_one(struct sp_stmt *st, struct sp_config_entry *out)
{
    memset(out, 0, sizeof *out);
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        read_entry(st, out);
    sp_stmt_reset(st);
    if (rc == SP_ROW)
        return SP_OK;
    return rc == SP_DONE ? SP_NOTFOUND : rc;
}

int sp_store_config_get(struct sp_db *db, int64_t id, struct sp_config_entry *out)
{
    memset(out, 0, sizeof *out);
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT " COLS " FROM configurations WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    return get_one(st, out);
}

int sp_store_config_get_by_key(struct sp_db *db, const char *key, struct sp_config_entry *out)
{
    memset(out, 0, sizeof *out);
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT " COLS " FROM configurations WHERE key = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, key);
    return get_one(st, out);
}

/* Bind value, secret_blob, secret at idx, idx+1, idx+2. */
static void bind_value(struct sp_stmt *st, int idx, const char *value, const unsigned char *blob,
                       size_t bloblen, bool secret)
{
    if (secret) {
        sp_stmt_bind_null(st, idx);
        sp_stmt_bind_blob(st, idx + 1, blob, bloblen);
    } else {
        sp_stmt_bind_text(st, idx, value ? value : "");
        sp_stmt_bind_null(st, idx + 1);
    }
    sp_stmt_bind_int(st, idx + 2, secret ? 1 : 0);
}

int sp_store_config_create(struct sp_db *db, const struct sp_config_input *in, int64_t *id,
                           struct sp_err *e)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO configurations(key, value, secret_blob, secret, category, description,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return SP_ERR;
    int64_t now = sp_time_now();
    sp_stmt_bind_text(st, 1, in->key);
    bind_value(st, 2, in->value, in->blob, in->bloblen, in->secret);
    sp_stmt_bind_text(st, 5, in->category ? in->category : "general");
    sp_stmt_bind_text(st, 6, in->description ? in->description : "");
    sp_stmt_bind_int(st, 7, now);
    sp_stmt_bind_int(st, 8, now);
    int rc = sp_stmt_exec(st);
    if (rc == SP_CONFLICT)
        sp_err_set(e, "key", "a configuration entry with the key %s already exists", in->key);
    else if (rc == SP_OK && id)
        *id = sp_db_last_insert_id(db);
    return rc;
}

/* Run an UPDATE bound as (…, id): SP_NOTFOUND when no row changed. */
static int changed(struct sp_db *db, struct sp_stmt *st)
{
    int rc = sp_stmt_exec(st);
    if (rc != SP_OK)
        return rc;
    return sp_db_changes(db) > 0 ? SP_OK : SP_NOTFOUND;
}

static int update_text(struct sp_db *db, const char *sql, const char *v, int64_t id, int64_t now)
{
    struct sp_stmt *st = sp_db_prepare(db, sql);
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, v);
    sp_stmt_bind_int(st, 2, now);
    sp_stmt_bind_int(st, 3, id);
    return changed(db, st);
}

int sp_store_config_update(struct sp_db *db, int64_t id, const struct sp_config_patch *p,
                           struct sp_err *e)
{
    if (!db)
        return SP_ERR;
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    int64_t now = sp_time_now();
    struct sp_stmt *st = sp_db_prepare(db, "UPDATE configurations SET updated_at = ? WHERE id = ?");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    sp_stmt_bind_int(st, 1, now);
    sp_stmt_bind_int(st, 2, id);
    rc = changed(db, st);
    if (rc == SP_OK && p->key) {
        rc = update_text(db, "UPDATE configurations SET key = ?, updated_at = ? WHERE id = ?",
                         p->key, id, now);
        if (rc == SP_CONFLICT)
            sp_err_set(e, "key", "a configuration entry with the key %s already exists", p->key);
    }
    if (rc == SP_OK && p->category)
        rc = update_text(db, "UPDATE configurations SET category = ?, updated_at = ? WHERE id = ?",
                         p->category, id, now);
    if (rc == SP_OK && p->description)
        rc = update_text(db,
                         "UPDATE configurations SET description = ?, updated_at = ? WHERE id = ?",
                         p->description, id, now);
    if (rc == SP_OK && p->has_value) {
        st = sp_db_prepare(db, "UPDATE configurations SET value = ?, secret_blob = ?, secret = ?,"
                               " updated_at = ? WHERE id = ?");
        if (!st) {
            rc = SP_ERR;
            goto out;
        }
        bind_value(st, 1, p->value, p->blob, p->bloblen, p->secret);
        sp_stmt_bind_int(st, 4, now);
        sp_stmt_bind_int(st, 5, id);
        rc = changed(db, st);
    }
out:
    if (rc == SP_OK)
        return sp_store_tx_commit(db, own);
    sp_store_tx_rollback(db, own);
    return rc;
}

int sp_store_config_delete(struct sp_db *db, int64_t id)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "DELETE FROM configurations WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    return changed(db, st);
}

/* Upper bound of a case-insensitive key prefix range: keys are [A-Z0-9_], so prefix + "~"
 * (after every key character) ends the range. Returns a heap string. */
static char *prefix_end(const char *prefix)
{
    return sp_asprintf("%s~", prefix);
}

/* Bind (category, category, prefix, prefix, prefix end) as parameters 1..5. */
static void bind_list_filter(struct sp_stmt *st, const char *category, const char *lo,
                             const char *hi)
{
    const char *cat = category && *category ? category : NULL;
    sp_stmt_bind_text(st, 1, cat);
    sp_stmt_bind_text(st, 2, cat);
    sp_stmt_bind_text(st, 3, lo);
    sp_stmt_bind_text(st, 4, lo);
    sp_stmt_bind_text(st, 5, hi);
}

int sp_store_config_list(struct sp_db *db, const char *category, const char *search, int64_t page,
                         int64_t per_page, struct sp_config_entry **out, int *n, int64_t *total)
{
    *out = NULL;
    *n = 0;
    *total = 0;
    if (!db)
        return SP_ERR;
    if (page < 1)
        page = 1;
    if (per_page < 1 || per_page > 100)
        per_page = 20;
    char *upper = NULL, *hi = NULL;
    if (search && *search) {
        upper = sp_strdup(search);
        for (char *c = upper; *c; c++)
            if (*c >= 'a' && *c <= 'z')
                *c = (char)(*c - 'a' + 'A');
        hi = prefix_end(upper);
    }
    /* one statement for every filter combination: NULL parameters do not filter */
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT COUNT(*) FROM configurations WHERE (? IS NULL OR category = ?)"
                          " AND (? IS NULL OR (key >= ? AND key < ?))");
    int rc;
    struct sp_config_entry *rows = NULL;
    int count = 0;
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    bind_list_filter(st, category, upper, hi);
    rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        *total = sp_stmt_column_int(st, 0);
    sp_stmt_reset(st);
    if (rc != SP_ROW)
        goto out;
    st = sp_db_prepare(db, "SELECT " COLS " FROM configurations WHERE (? IS NULL OR category = ?)"
                           " AND (? IS NULL OR (key >= ? AND key < ?))"
                           " ORDER BY category, key LIMIT ? OFFSET ?");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    bind_list_filter(st, category, upper, hi);
    sp_stmt_bind_int(st, 6, per_page);
    sp_stmt_bind_int(st, 7, (page - 1) * per_page);
    rows = sp_calloc((size_t)per_page, sizeof *rows);
    while ((rc = sp_stmt_step(st)) == SP_ROW && count < per_page)
        read_entry(st, &rows[count++]);
    sp_stmt_reset(st);
    if (rc == SP_ROW || rc == SP_DONE)
        rc = SP_OK;
out:
    sp_free(upper);
    sp_free(hi);
    if (rc != SP_OK) {
        for (int i = 0; i < count; i++)
            sp_config_entry_free(&rows[i]);
        sp_free(rows);
        *total = 0;
        return rc == SP_DONE ? SP_ERR : rc;
    }
    if (!count) {
        sp_free(rows);
        rows = NULL;
    }
    *out = rows;
    *n = count;
    return SP_OK;
}

int sp_store_config_each_secret(struct sp_db *db,
                                int (*fn)(void *arg, int64_t id, const char *key,
                                          const unsigned char *blob, size_t bloblen),
                                void *arg)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT " COLS " FROM configurations WHERE secret = 1 ORDER BY id");
    if (!st)
        return SP_ERR;
    /* read everything first: fn may write the same table */
    struct sp_config_entry *rows = NULL;
    int count = 0, cap = 0, rc;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        if (count == cap) {
            cap = cap ? cap * 2 : 16;
            rows = sp_reallocarray(rows, (size_t)cap, sizeof *rows);
        }
        read_entry(st, &rows[count++]);
    }
    sp_stmt_reset(st);
    if (rc == SP_DONE) {
        rc = SP_OK;
        for (int i = 0; i < count && rc == SP_OK; i++)
            rc = fn(arg, rows[i].id, rows[i].key, rows[i].blob, rows[i].bloblen);
    }
    for (int i = 0; i < count; i++)
        sp_config_entry_free(&rows[i]);
    sp_free(rows);
    return rc;
}

int sp_store_config_set_blob(struct sp_db *db, int64_t id, const unsigned char *blob,
                             size_t bloblen)
{
    if (!db)
        return SP_ERR;
    struct sp_stmt *st =
        sp_db_prepare(db, "UPDATE configurations SET secret_blob = ? WHERE id = ? AND secret = 1");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_blob(st, 1, blob, bloblen);
    sp_stmt_bind_int(st, 2, id);
    return changed(db, st);
}
