/*
 * test_store_configs.c — store/configs.c: create, read by id and key, duplicates → SP_CONFLICT
 * naming "key", partial updates, plain ↔ secret (a secret keeps no plain value), list filters and
 * pagination, the secret walk and blob replacement used by key rotation, delete.
 */
#include "support.h"

#include <string.h>

#include "store/configs.h"
#include "util/alloc.h"

struct fixture {
    char dir[512];
    struct sp_db *db;
};

static int setup(void **state)
{
    struct fixture *f = sp_calloc(1, sizeof *f);
    *state = f;
    return ts_db_setup(f->dir, sizeof f->dir, "test_store_configs", TS_DB_MIGRATED, &f->db);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    int rc = ts_db_teardown(f->db, f->dir);
    sp_free(f);
    return rc;
}

static const unsigned char BLOB[] = {0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0x02};

static int64_t create(struct sp_db *db, const char *key, const char *value, const char *cat)
{
    struct sp_config_input in = {.key = key, .value = value, .category = cat};
    struct sp_err e = {{0}, {0}};
    int64_t id = 0;
    assert_int_equal(sp_store_config_create(db, &in, &id, &e), SP_OK);
    return id;
}

static void create_get_duplicate(void **state)
{
    struct fixture *f = *state;
    int64_t id = create(f->db, "SITE_NAME", "Scene Packer", NULL);
    struct sp_config_entry c;
    assert_int_equal(sp_store_config_get(f->db, id, &c), SP_OK);
    assert_string_equal(c.key, "SITE_NAME");
    assert_string_equal(c.value, "Scene Packer");
    assert_false(c.secret);
    assert_null(c.blob);
    assert_string_equal(c.category, "general");
    assert_string_equal(c.description, "");
    assert_true(c.created_at > 0 && c.updated_at == c.created_at);
    sp_config_entry_free(&c);
    assert_int_equal(sp_store_config_get_by_key(f->db, "SITE_NAME", &c), SP_OK);
    assert_int_equal(c.id, id);
    sp_config_entry_free(&c);
    assert_int_equal(sp_store_config_get_by_key(f->db, "NOPE", &c), SP_NOTFOUND);
    sp_config_entry_free(&c); /* safe after a miss */
    assert_int_equal(sp_store_config_get(f->db, id + 100, &c), SP_NOTFOUND);

    struct sp_config_input dup = {.key = "SITE_NAME", .value = "again"};
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_store_config_create(f->db, &dup, NULL, &e), SP_CONFLICT);
    assert_string_equal(e.field, "key");
}

static void secrets_keep_no_plain_value(void **state)
{
    struct fixture *f = *state;
    struct sp_config_input in = {.key = "API_TOKEN",
                                 .blob = BLOB,
                                 .bloblen = sizeof BLOB,
                                 .secret = true,
                                 .category = "remote",
                                 .description = "d"};
    struct sp_err e = {{0}, {0}};
    int64_t id = 0;
    assert_int_equal(sp_store_config_create(f->db, &in, &id, &e), SP_OK);
    struct sp_config_entry c;
    assert_int_equal(sp_store_config_get(f->db, id, &c), SP_OK);
    assert_true(c.secret);
    assert_null(c.value);
    assert_int_equal(c.bloblen, sizeof BLOB);
    assert_memory_equal(c.blob, BLOB, sizeof BLOB);
    sp_config_entry_free(&c);

    /* secret → plain */
    struct sp_config_patch p = {.has_value = true, .value = "visible", .secret = false};
    assert_int_equal(sp_store_config_update(f->db, id, &p, &e), SP_OK);
    assert_int_equal(sp_store_config_get(f->db, id, &c), SP_OK);
    assert_false(c.secret);
    assert_null(c.blob);
    assert_string_equal(c.value, "visible");
    assert_string_equal(c.category, "remote");
    sp_config_entry_free(&c);

    /* plain → secret */
    struct sp_config_patch q = {.has_value = true, .blob = BLOB, .bloblen = 4, .secret = true};
    assert_int_equal(sp_store_config_update(f->db, id, &q, &e), SP_OK);
    assert_int_equal(sp_store_config_get(f->db, id, &c), SP_OK);
    assert_true(c.secret);
    assert_null(c.value);
    assert_int_equal(c.bloblen, 4);
    sp_config_entry_free(&c);
}

static void partial_updates_and_conflicts(void **state)
{
    struct fixture *f = *state;
    int64_t a = create(f->db, "A_KEY", "1", "x");
    create(f->db, "B_KEY", "2", "x");
    struct sp_err e = {{0}, {0}};
    struct sp_config_patch p = {.description = "described"};
    assert_int_equal(sp_store_config_update(f->db, a, &p, &e), SP_OK);
    struct sp_config_entry c;
    assert_int_equal(sp_store_config_get(f->db, a, &c), SP_OK);
    assert_string_equal(c.description, "described");
    assert_string_equal(c.value, "1");
    assert_string_equal(c.category, "x");
    sp_config_entry_free(&c);

    struct sp_config_patch r = {.key = "B_KEY", .description = "not applied"};
    assert_int_equal(sp_store_config_update(f->db, a, &r, &e), SP_CONFLICT);
    assert_string_equal(e.field, "key");
    assert_int_equal(sp_store_config_get(f->db, a, &c), SP_OK);
    assert_string_equal(c.key, "A_KEY");
    assert_string_equal(c.description, "described"); /* rolled back together */
    sp_config_entry_free(&c);

    struct sp_config_patch none = {.category = "y"};
    assert_int_equal(sp_store_config_update(f->db, a + 100, &none, &e), SP_NOTFOUND);
    assert_int_equal(sp_store_config_delete(f->db, a), SP_OK);
    assert_int_equal(sp_store_config_delete(f->db, a), SP_NOTFOUND);
}

static void list_filters_and_pages(void **state)
{
    struct fixture *f = *state;
    create(f->db, "MAIL_HOST", "h", "mail");
    create(f->db, "MAIL_PORT", "25", "mail");
    create(f->db, "MAILBOX", "m", "other");
    create(f->db, "ZIP_SIZE", "5", "packing");
    struct sp_config_entry *rows = NULL;
    int n = 0;
    int64_t total = 0;
    assert_int_equal(sp_store_config_list(f->db, NULL, NULL, 1, 100, &rows, &n, &total), SP_OK);
    assert_int_equal(n, 4);
    assert_int_equal(total, 4);
    /* ordered by category, key */
    assert_string_equal(rows[0].key, "MAIL_HOST");
    assert_string_equal(rows[1].key, "MAIL_PORT");
    assert_string_equal(rows[2].key, "MAILBOX");
    assert_string_equal(rows[3].key, "ZIP_SIZE");
    for (int i = 0; i < n; i++)
        sp_config_entry_free(&rows[i]);
    sp_free(rows);

    assert_int_equal(sp_store_config_list(f->db, "mail", NULL, 1, 100, &rows, &n, &total), SP_OK);
    assert_int_equal(total, 2);
    for (int i = 0; i < n; i++)
        sp_config_entry_free(&rows[i]);
    sp_free(rows);
    assert_int_equal(sp_store_config_list(f->db, NULL, "mail", 1, 100, &rows, &n, &total), SP_OK);
    assert_int_equal(total, 3); /* key prefix, case-insensitive */
    for (int i = 0; i < n; i++)
        sp_config_entry_free(&rows[i]);
    sp_free(rows);
    assert_int_equal(sp_store_config_list(f->db, NULL, "MAIL_", 1, 100, &rows, &n, &total), SP_OK);
    assert_int_equal(total, 2);
    for (int i = 0; i < n; i++)
        sp_config_entry_free(&rows[i]);
    sp_free(rows);
    assert_int_equal(sp_store_config_list(f->db, NULL, NULL, 2, 3, &rows, &n, &total), SP_OK);
    assert_int_equal(n, 1);
    assert_int_equal(total, 4);
    assert_string_equal(rows[0].key, "ZIP_SIZE");
    sp_config_entry_free(&rows[0]);
    sp_free(rows);
    assert_int_equal(sp_store_config_list(f->db, NULL, NULL, 3, 3, &rows, &n, &total), SP_OK);
    assert_int_equal(n, 0);
    assert_null(rows);
}

struct seen {
    int n;
    struct sp_db *db;
};

static int visit(void *arg, int64_t id, const char *key, const unsigned char *blob, size_t len)
{
    struct seen *s = arg;
    assert_non_null(key);
    assert_int_equal(len, sizeof BLOB);
    assert_memory_equal(blob, BLOB, len);
    s->n++;
    static const unsigned char other[] = {9, 9, 9};
    return sp_store_config_set_blob(s->db, id, other, sizeof other);
}

static void secret_walk_for_rotation(void **state)
{
    struct fixture *f = *state;
    create(f->db, "PLAIN_ONE", "p", NULL);
    struct sp_err e = {{0}, {0}};
    for (int i = 0; i < 3; i++) {
        char key[16];
        snprintf(key, sizeof key, "SECRET_%d", i);
        struct sp_config_input in = {
            .key = key, .blob = BLOB, .bloblen = sizeof BLOB, .secret = true};
        assert_int_equal(sp_store_config_create(f->db, &in, NULL, &e), SP_OK);
    }
    struct seen s = {0, f->db};
    assert_int_equal(sp_store_config_each_secret(f->db, visit, &s), SP_OK);
    assert_int_equal(s.n, 3);
    struct sp_config_entry c;
    assert_int_equal(sp_store_config_get_by_key(f->db, "SECRET_1", &c), SP_OK);
    assert_int_equal(c.bloblen, 3);
    sp_config_entry_free(&c);
    /* a plain entry has no blob to replace */
    assert_int_equal(sp_store_config_get_by_key(f->db, "PLAIN_ONE", &c), SP_OK);
    assert_int_equal(sp_store_config_set_blob(f->db, c.id, BLOB, sizeof BLOB), SP_NOTFOUND);
    sp_config_entry_free(&c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(create_get_duplicate, setup, teardown),
        cmocka_unit_test_setup_teardown(secrets_keep_no_plain_value, setup, teardown),
        cmocka_unit_test_setup_teardown(partial_updates_and_conflicts, setup, teardown),
        cmocka_unit_test_setup_teardown(list_filters_and_pages, setup, teardown),
        cmocka_unit_test_setup_teardown(secret_walk_for_rotation, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
