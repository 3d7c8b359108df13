/*
 * test_permissions.c — names, parsing and the implications mod ⇒ write ⇒ read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "auth/permissions.h"

static void test_names_round_trip(void **state)
{
    (void)state;
    for (int r = 0; r < SP_RES_COUNT; r++)
        assert_int_equal(sp_resource_parse(sp_resource_name(r)), r);
    for (int a = 0; a < SP_ACT_COUNT; a++)
        assert_int_equal(sp_action_parse(sp_action_name(a)), a);
    assert_string_equal(sp_resource_name(SP_RES_RELEASES), "releases");
    assert_string_equal(sp_resource_name(SP_RES_AUDIT), "audit");
    assert_string_equal(sp_action_name(SP_ACT_MOD), "mod");
    assert_null(sp_resource_name(-1));
    assert_null(sp_resource_name(SP_RES_COUNT));
    assert_null(sp_action_name(SP_ACT_COUNT));
    assert_int_equal(sp_resource_parse("Releases"), -1);
    assert_int_equal(sp_resource_parse(""), -1);
    assert_int_equal(sp_resource_parse(NULL), -1);
    assert_int_equal(sp_action_parse("admin"), -1);
}

static void test_perm_parse(void **state)
{
    (void)state;
    int r = -1, a = -1;
    assert_int_equal(sp_perm_parse("releases:read", &r, &a), 0);
    assert_int_equal(r, SP_RES_RELEASES);
    assert_int_equal(a, SP_ACT_READ);
    assert_int_equal(sp_perm_parse("jobs:mod", &r, &a), 0);
    assert_int_equal(r, SP_RES_JOBS);
    assert_int_equal(a, SP_ACT_MOD);
    const char *bad[] = {"releases",  "releases:",     ":read", "releases:read:x",
                         "nope:read", "releases:nope", "",      "releasesreleasesreleases:read",
                         "RULES:read"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(sp_perm_parse(bad[i], &r, &a), -1);
    assert_int_equal(sp_perm_parse(NULL, &r, &a), -1);
}

static void test_implications(void **state)
{
    (void)state;
    uint64_t mod = SP_PERM_BIT(SP_RES_RULES, SP_ACT_MOD);
    assert_true(sp_perms_has(mod, SP_RES_RULES, SP_ACT_MOD));
    assert_true(sp_perms_has(mod, SP_RES_RULES, SP_ACT_WRITE));
    assert_true(sp_perms_has(mod, SP_RES_RULES, SP_ACT_READ));
    assert_false(sp_perms_has(mod, SP_RES_RULES, SP_ACT_DELETE));
    /* other resources untouched */
    assert_false(sp_perms_has(mod, SP_RES_RELEASES, SP_ACT_READ));

    uint64_t write = SP_PERM_BIT(SP_RES_RELEASES, SP_ACT_WRITE);
    assert_true(sp_perms_has(write, SP_RES_RELEASES, SP_ACT_READ));
    assert_false(sp_perms_has(write, SP_RES_RELEASES, SP_ACT_MOD));
    assert_false(sp_perms_has(write, SP_RES_RELEASES, SP_ACT_DELETE));

    /* delete stands alone: it implies nothing and nothing implies it */
    uint64_t del = SP_PERM_BIT(SP_RES_USERS, SP_ACT_DELETE);
    assert_true(sp_perms_has(del, SP_RES_USERS, SP_ACT_DELETE));
    assert_false(sp_perms_has(del, SP_RES_USERS, SP_ACT_READ));
    assert_false(sp_perms_has(del, SP_RES_USERS, SP_ACT_MOD));

    assert_int_equal(sp_perms_expand(mod), mod | SP_PERM_BIT(SP_RES_RULES, SP_ACT_WRITE) |
                                               SP_PERM_BIT(SP_RES_RULES, SP_ACT_READ));
    assert_int_equal(sp_perms_expand(del), del);
    assert_int_equal(sp_perms_expand(0), 0);
    uint64_t all = 0;
    for (int r = 0; r < SP_RES_COUNT; r++)
        all |= SP_PERM_BIT(r, SP_ACT_MOD) | SP_PERM_BIT(r, SP_ACT_DELETE);
    uint64_t full = sp_perms_expand(all);
    for (int r = 0; r < SP_RES_COUNT; r++)
        for (int a = 0; a < SP_ACT_COUNT; a++)
            assert_true(sp_perms_has(full, r, a));
    /* expansion is idempotent and never invents bits beyond the known resources */
    assert_int_equal(sp_perms_expand(full), full);
    assert_int_equal(sp_perms_expand(UINT64_MAX), full);
    assert_false(sp_perms_has(full, SP_RES_COUNT, SP_ACT_READ));
    assert_false(sp_perms_has(full, SP_RES_RULES, -1));
}

static void count_bit(void *arg, int res, int act)
{
    int *n = arg;
    assert_true(res >= 0 && res < SP_RES_COUNT && act >= 0 && act < SP_ACT_COUNT);
    (*n)++;
}

static void test_foreach(void **state)
{
    (void)state;
    int n = 0;
    sp_perms_foreach(sp_perms_expand(SP_PERM_BIT(SP_RES_JOBS, SP_ACT_MOD)), count_bit, &n);
    assert_int_equal(n, 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_perm_parse),
        cmocka_unit_test(test_implications),
        cmocka_unit_test(test_foreach),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
