/* groups.c — release groups. */
#include "store/groups.h"

#include <string.h>

#include "store/db.h"
#include "store/tx.h"
#include "util/alloc.h"

static bool alnum(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool sp_group_name_valid(const char *name)
{
    if (!name)
        return false;
    size_t n = strlen(name);
    if (n < SP_GROUP_NAME_MIN || n > SP_GROUP_NAME_MAX)
        return false;
    if (!alnum(name[0]) || !alnum(name[n - 1]))
        return false;
    for (size_t i = 1; i + 1 < n; i++)
        if (!alnum(name[i]) && name[i] != '_' && name[i] != '-')
            return false;
    return true;
}

/* SP_OK with *id, SP_NOTFOUND, or an error. */
static int select_id(struct sp_db *db, const char *name, int64_t *id)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT id FROM groups WHERE name = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, name);
    int rc = sp_stmt_step(st);
    if (rc == SP_ROW) {
        *id = sp_stmt_column_int(st, 0);
        rc = SP_OK;
    } else if (rc == SP_DONE) {
        rc = SP_NOTFOUND;
    } else {
        rc = sp_store_step_rc(rc);
    }
    sp_stmt_reset(st);
    return rc;
}

int sp_store_group_ensure(struct sp_db *db, const char *name, int64_t now, int64_t *id,
                          bool *created)
{
    if (created)
        *created = false;
    /* Most calls name an existing group: read first, write only when new. */
    int rc = select_id(db, name, id);
    if (rc != SP_NOTFOUND)
        return rc;
    struct sp_stmt *st =
        sp_db_dialect(db) == SP_DIALECT_MARIADB
            ? sp_db_prepare(db, "INSERT IGNORE INTO groups (name, created_at) VALUES (?, ?)")
            : sp_db_prepare(db, "INSERT INTO groups (name, created_at) VALUES (?, ?)"
                                " ON CONFLICT(name) DO NOTHING");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, name);
    sp_stmt_bind_int(st, 2, now);
    rc = sp_stmt_exec(st);
    if (rc == SP_CONFLICT)
        rc = SP_OK; /* lost a race: the winner's row is selected below */
    if (rc != SP_OK)
        return sp_store_step_rc(rc);
    bool inserted = sp_db_changes(db) == 1;
    rc = select_id(db, name, id);
    if (rc == SP_NOTFOUND)
        rc = SP_ERR; /* cannot happen: inserted or already there */
    if (rc == SP_OK && created)
        *created = inserted;
    return rc;
}

void sp_group_list_free(struct sp_group_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        sp_free(l->items[i].name);
    sp_free(l->items);
    memset(l, 0, sizeof *l);
}

static int list_page(struct sp_db *db, const char *like, int64_t page, int64_t per_page,
                     struct sp_group_list *out);

int sp_store_group_list(struct sp_db *db, const char *search, int64_t page, int64_t per_page,
                        struct sp_group_list *out)
{
    char *like = (search && *search) ? sp_store_like_contains(search) : NULL;
    int rc = list_page(db, like, page, per_page, out);
    sp_free(like);
    return rc;
}

static int list_page(struct sp_db *db, const char *like, int64_t page, int64_t per_page,
                     struct sp_group_list *out)
{
    memset(out, 0, sizeof *out);
    if (per_page < 1)
        per_page = 20;
    if (page < 1)
        page = 1;
    if (page > INT64_MAX / 2 / per_page)
        page = INT64_MAX / 2 / per_page; /* far past any table: an empty page, no overflow */
    int64_t offset = (page - 1) * per_page;
    /* The per-group count reads only the (group_id, created_at, id) index. */
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT g.id, g.name, g.created_at,"
                          " (SELECT count(*) FROM releases r WHERE r.group_id = g.id)"
                          " FROM groups g WHERE (? IS NULL OR g.name LIKE ? ESCAPE '!')"
                          " ORDER BY g.name, g.id LIMIT ? OFFSET ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, like);
    sp_stmt_bind_text(st, 2, like);
    sp_stmt_bind_int(st, 3, per_page);
    sp_stmt_bind_int(st, 4, offset);
    int rc;
    size_t cap = 0;
    while ((rc = sp_stmt_step(st)) == SP_ROW) {
        if (out->n == cap) {
            cap = cap ? cap * 2 : (size_t)per_page;
            out->items = sp_reallocarray(out->items, cap, sizeof *out->items);
        }
        struct sp_group *g = &out->items[out->n++];
        g->id = sp_stmt_column_int(st, 0);
        const char *name = sp_stmt_column_text(st, 1);
        g->name = sp_strdup(name ? name : "");
        g->created_at = sp_stmt_column_int(st, 2);
        g->release_count = sp_stmt_column_int(st, 3);
    }
    sp_stmt_reset(st);
    if (rc != SP_DONE) {
        sp_group_list_free(out);
        return sp_store_step_rc(rc);
    }
    if ((int64_t)out->n < per_page && (out->n > 0 || offset == 0)) {
        out->total = offset + (int64_t)out->n;
        return SP_OK;
    }
    st = sp_db_prepare(db, "SELECT count(*) FROM groups g"
                           " WHERE (? IS NULL OR g.name LIKE ? ESCAPE '!')");
    if (!st) {
        sp_group_list_free(out);
        return SP_ERR;
    }
    sp_stmt_bind_text(st, 1, like);
    sp_stmt_bind_text(st, 2, like);
    rc = sp_stmt_step(st);
    if (rc == SP_ROW)
        out->total = sp_stmt_column_int(st, 0);
    sp_stmt_reset(st);
    if (rc != SP_ROW) {
        sp_group_list_free(out);
        return sp_store_step_rc(rc);
    }
    return SP_OK;
}
