/* rules.c — scene rule rows. The table is small (hundreds of rows): the list uses one static
 * statement with optional filters rather than per-combination SQL, and case-insensitive
 * matches use lower() (portable to MariaDB, which has no NOCASE collation). */
#include "store/rules.h"

#include <string.h>

#include "store/db.h"
#include "store/tx.h"
#include "util/alloc.h"

void sp_rule_clear(struct sp_rule *r)
{
    if (!r)
        return;
    sp_free(r->name);
    sp_free(r->scene);
    sp_free(r->section);
    sp_free(r->content);
    memset(r, 0, sizeof *r);
}

void sp_rule_list_free(struct sp_rule_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        sp_rule_clear(&l->items[i]);
    sp_free(l->items);
    memset(l, 0, sizeof *l);
}

static char *col_dup(struct sp_stmt *st, int col)
{
    const char *s = sp_stmt_column_text(st, col);
    return s ? sp_strdup(s) : NULL;
}

#define RULE_COLS_NO_CONTENT                                                                       \
    "id, name, scene, section, year, NULL, builtin, user_id, created_at, updated_at"
#define RULE_COLS                                                                                  \
    "id, name, scene, section, year, content, builtin, user_id, created_at, updated_at"

static void read_rule(struct sp_stmt *st, struct sp_rule *r)
{
    r->id = sp_stmt_column_int(st, 0);
    r->name = col_dup(st, 1);
    r->scene = col_dup(st, 2);
    r->section = col_dup(st, 3);
    r->year = sp_stmt_column_int(st, 4);
    r->content = col_dup(st, 5);
    r->builtin = sp_stmt_column_int(st, 6) != 0;
    r->user_id = sp_stmt_column_int(st, 7);
    r->created_at = sp_stmt_column_int(st, 8);
    r->updated_at = sp_stmt_column_int(st, 9);
    if (!r->name)
        r->name = sp_strdup("");
    if (!r->scene)
        r->scene = sp_strdup("");
    if (!r->section)
        r->section = sp_strdup("");
}

/* The same filters for the page and the count; placeholders bound by bind_filters(). The LIKE
 * escape character is '!' (a backslash would need escaping differently in MariaDB). */
#define RULE_WHERE                                                                                 \
    " WHERE (? IS NULL OR lower(scene) = lower(?))"                                                \
    " AND (? IS NULL OR lower(section) = lower(?))"                                                \
    " AND (? IS NULL OR year = ?)"                                                                 \
    " AND (? IS NULL OR name LIKE ? ESCAPE '!' OR scene LIKE ? ESCAPE '!'"                         \
    " OR section LIKE ? ESCAPE '!')"

static int bind_filters(struct sp_stmt *st, const struct sp_rule_query *q, const char *like)
{
    sp_stmt_bind_text(st, 1, q->scene);
    sp_stmt_bind_text(st, 2, q->scene);
    sp_stmt_bind_text(st, 3, q->section);
    sp_stmt_bind_text(st, 4, q->section);
    if (q->year > 0) {
        sp_stmt_bind_int(st, 5, q->year);
        sp_stmt_bind_int(st, 6, q->year);
    } else {
        sp_stmt_bind_null(st, 5);
        sp_stmt_bind_null(st, 6);
    }
    for (int i = 7; i <= 10; i++)
        sp_stmt_bind_text(st, i, like);
    return 11;
}

int sp_store_rule_list(struct sp_db *db, const struct sp_rule_query *q, struct sp_rule_list *out)
{
    memset(out, 0, sizeof *out);
    char *like = (q->search && *q->search) ? sp_store_like_contains(q->search) : NULL;
    int64_t per_page = q->per_page > 0 ? q->per_page : 1000000;
    int64_t page = q->page > 1 ? q->page : 1;
    if (q->per_page > 0 && page > INT64_MAX / 2 / q->per_page)
        page = INT64_MAX / 2 / q->per_page; /* far past any table: an empty page */
    int64_t offset = q->per_page > 0 ? (page - 1) * q->per_page : 0;
    int rc = SP_OK;
    struct sp_stmt *st =
        q->with_content ? sp_db_prepare(db, "SELECT " RULE_COLS " FROM rules" RULE_WHERE
                                            " ORDER BY year DESC, id DESC LIMIT ? OFFSET ?")
                        : sp_db_prepare(db, "SELECT " RULE_COLS_NO_CONTENT " FROM rules" RULE_WHERE
                                            " ORDER BY year DESC, id DESC LIMIT ? OFFSET ?");
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    int i = bind_filters(st, q, like);
    sp_stmt_bind_int(st, i++, per_page);
    sp_stmt_bind_int(st, i, offset);
    size_t cap = 0;
    int s;
    while ((s = sp_stmt_step(st)) == SP_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : 16;
            out->items = sp_reallocarray(out->items, cap, sizeof *out->items);
        }
        memset(&out->items[out->n], 0, sizeof out->items[0]);
        read_rule(st, &out->items[out->n++]);
    }
    sp_stmt_reset(st);
    if (s != SP_DONE) {
        rc = sp_store_step_rc(s);
        goto out;
    }
    if ((int64_t)out->n < per_page && (out->n > 0 || offset == 0)) {
        out->total = offset + (int64_t)out->n;
        goto out;
    }
    st = sp_db_prepare(db, "SELECT count(*) FROM rules" RULE_WHERE);
    if (!st) {
        rc = SP_ERR;
        goto out;
    }
    bind_filters(st, q, like);
    s = sp_stmt_step(st);
    if (s == SP_ROW)
        out->total = sp_stmt_column_int(st, 0);
    else
        rc = sp_store_step_rc(s);
    sp_stmt_reset(st);
out:
    sp_free(like);
    if (rc != SP_OK)
        sp_rule_list_free(out);
    return rc;
}

int sp_store_rule_get(struct sp_db *db, int64_t id, struct sp_rule *out)
{
    memset(out, 0, sizeof *out);
    struct sp_stmt *st = sp_db_prepare(db, "SELECT " RULE_COLS " FROM rules WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW) {
        read_rule(st, out);
        rc = SP_OK;
    } else {
        rc = rc == SP_DONE ? SP_NOTFOUND : sp_store_step_rc(rc);
    }
    sp_stmt_reset(st);
    return rc;
}

int sp_store_rule_spec(struct sp_db *db, int64_t id, char **spec)
{
    *spec = NULL;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT spec FROM rules WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, id);
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW) {
        *spec = col_dup(st, 0);
        rc = SP_OK;
    } else {
        rc = rc == SP_DONE ? SP_NOTFOUND : sp_store_step_rc(rc);
    }
    sp_stmt_reset(st);
    return rc;
}

int sp_store_rule_set_spec(struct sp_db *db, int64_t id, const char *spec)
{
    int ex = sp_store_rule_exists(db, id);
    if (ex <= 0)
        return ex == 0 ? SP_NOTFOUND : SP_ERR;
    struct sp_stmt *st = sp_db_prepare(db, "UPDATE rules SET spec = ? WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, spec);
    sp_stmt_bind_int(st, 2, id);
    int rc = sp_stmt_exec(st);
    return rc == SP_OK ? SP_OK : sp_store_step_rc(rc);
}

int sp_store_rule_exists(struct sp_db *db, int64_t id)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT 1 FROM rules WHERE id = ?");
    if (!st)
        return -1;
    sp_stmt_bind_int(st, 1, id);
    int rc = sp_stmt_step(st);
    sp_stmt_reset(st);
    return rc == SP_ROW ? 1 : rc == SP_DONE ? 0 : -1;
}

int sp_store_rule_default(struct sp_db *db, const char *section, int64_t *id)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT id FROM rules WHERE lower(section) = lower(?)"
                                           " ORDER BY year DESC, id DESC LIMIT 1");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, section);
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW) {
        *id = sp_stmt_column_int(st, 0);
        rc = SP_OK;
    } else {
        rc = rc == SP_DONE ? SP_NOTFOUND : sp_store_step_rc(rc);
    }
    sp_stmt_reset(st);
    return rc;
}

static void bind_year(struct sp_stmt *st, int idx, bool set, int64_t year)
{
    if (set && year > 0)
        sp_stmt_bind_int(st, idx, year);
    else
        sp_stmt_bind_null(st, idx);
}

int sp_store_rule_create(struct sp_db *db, const struct sp_rule_input *in, int64_t user_id,
                         int64_t now, int64_t *id)
{
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT INTO rules (name, content, scene, section, year, builtin, user_id,"
            " created_at, updated_at) VALUES (?, ?, ?, ?, ?, 0, ?, ?, ?)");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, in->name);
    sp_stmt_bind_text(st, 2, in->content);
    sp_stmt_bind_text(st, 3, in->scene ? in->scene : "English");
    sp_stmt_bind_text(st, 4, in->section ? in->section : "eBOOK");
    bind_year(st, 5, in->set_year, in->year);
    if (user_id > 0)
        sp_stmt_bind_int(st, 6, user_id);
    else
        sp_stmt_bind_null(st, 6);
    sp_stmt_bind_int(st, 7, now);
    sp_stmt_bind_int(st, 8, now);
    int rc = sp_stmt_exec(st);
    if (rc != SP_OK)
        return sp_store_step_rc(rc);
    *id = sp_db_last_insert_id(db);
    return SP_OK;
}

int sp_store_rule_update(struct sp_db *db, int64_t id, const struct sp_rule_input *in, int64_t now)
{
    int ex = sp_store_rule_exists(db, id);
    if (ex <= 0)
        return ex == 0 ? SP_NOTFOUND : SP_ERR;
    /* SET expressions see the old row, so `content` below is the stored text. */
    struct sp_stmt *st = sp_db_prepare(
        db, "UPDATE rules SET name = COALESCE(?, name), content = COALESCE(?, content),"
            " scene = COALESCE(?, scene), section = COALESCE(?, section),"
            " year = CASE WHEN ? THEN ? ELSE year END,"
            " spec = CASE WHEN ? IS NOT NULL AND ? <> content THEN NULL ELSE spec END,"
            " updated_at = ? WHERE id = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, in->name);
    sp_stmt_bind_text(st, 2, in->content);
    sp_stmt_bind_text(st, 3, in->scene);
    sp_stmt_bind_text(st, 4, in->section);
    sp_stmt_bind_int(st, 5, in->set_year ? 1 : 0);
    bind_year(st, 6, in->set_year, in->year);
    sp_stmt_bind_text(st, 7, in->content);
    sp_stmt_bind_text(st, 8, in->content);
    sp_stmt_bind_int(st, 9, now);
    sp_stmt_bind_int(st, 10, id);
    int rc = sp_stmt_exec(st);
    return rc == SP_OK ? SP_OK : sp_store_step_rc(rc);
}

int sp_store_rule_delete(struct sp_db *db, int64_t id, struct sp_err *e)
{
    bool own;
    int rc = sp_store_tx_begin(db, &own);
    if (rc != SP_OK)
        return rc;
    struct sp_stmt *st = sp_db_prepare(db, "SELECT builtin FROM rules WHERE id = ?");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, id);
    int s = sp_stmt_step(st);
    int builtin = s == SP_ROW ? (int)sp_stmt_column_int(st, 0) : 0;
    sp_stmt_reset(st);
    if (s != SP_ROW) {
        rc = s == SP_DONE ? SP_NOTFOUND : sp_store_step_rc(s);
        goto fail;
    }
    if (builtin) {
        sp_err_set(e, "", "the built-in rule cannot be deleted");
        rc = SP_CONFLICT;
        goto fail;
    }
    /* Releases keep existing without a rule (explicit, whatever the foreign-key setting). */
    st = sp_db_prepare(db, "UPDATE releases SET rule_id = NULL WHERE rule_id = ?");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, id);
    rc = sp_stmt_exec(st);
    if (rc != SP_OK) {
        rc = sp_store_step_rc(rc);
        goto fail;
    }
    st = sp_db_prepare(db, "DELETE FROM rules WHERE id = ?");
    if (!st) {
        rc = SP_ERR;
        goto fail;
    }
    sp_stmt_bind_int(st, 1, id);
    rc = sp_stmt_exec(st);
    if (rc != SP_OK) {
        rc = sp_store_step_rc(rc);
        goto fail;
    }
    rc = sp_store_tx_commit(db, own);
    if (rc != SP_OK) {
        goto fail;
    }
    return SP_OK;
fail:
    sp_store_tx_rollback(db, own);
    return rc;
}
