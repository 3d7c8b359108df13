/*
 * test_password.c — argon2id hashes: parameters never weaker than t=2, m=19 MiB; verification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "auth/auth.h"

static void test_hash_format(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(sp_password_hash("correct horse battery staple", hash, sizeof hash), SP_OK);
    /* argon2id, version 0x13, 19456 KiB, 2 passes, 1 lane */
    assert_int_equal(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    assert_true(strlen(hash) < sizeof hash);

    /* Salted: the same password never hashes to the same string twice. */
    char hash2[128];
    assert_int_equal(sp_password_hash("correct horse battery staple", hash2, sizeof hash2), SP_OK);
    assert_string_not_equal(hash, hash2);

    /* A buffer too small for the encoded hash is refused, not overrun. */
    char tiny[16];
    assert_int_equal(sp_password_hash("x", tiny, sizeof tiny), SP_ERR);
}

static void test_verify(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(sp_password_hash("s3cret-passw0rd", hash, sizeof hash), SP_OK);
    assert_int_equal(sp_password_verify(hash, "s3cret-passw0rd"), 1);
    assert_int_equal(sp_password_verify(hash, "s3cret-passw0rD"), 0);
    assert_int_equal(sp_password_verify(hash, "s3cret-passw0rd "), 0);
    assert_int_equal(sp_password_verify(hash, ""), 0);

    /* Unicode and empty passwords work too. */
    assert_int_equal(sp_password_hash("mot de passe \xc3\xa9t\xc3\xa9", hash, sizeof hash), SP_OK);
    assert_int_equal(sp_password_verify(hash, "mot de passe \xc3\xa9t\xc3\xa9"), 1);
    assert_int_equal(sp_password_verify(hash, "mot de passe ete"), 0);
}

static void test_garbage_hash(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(sp_password_hash("pw1234567890", hash, sizeof hash), SP_OK);
    const char *garbage[] = {
        "",
        "pw1234567890",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
        "$2b$12$abcdefghijklmnopqrstuuYbVl7nHdx0/8hQhE4rXqp9Pp3k4e7e2",
        "$argon2id$v=19$m=19456,t=2,p=1$!!!!$????",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        assert_int_equal(sp_password_verify(garbage[i], "pw1234567890"), 0);
    assert_int_equal(sp_password_verify(NULL, "pw1234567890"), 0);
    assert_int_equal(sp_password_verify(hash, NULL), 0);

    /* A truncated real hash fails instead of crashing. */
    hash[strlen(hash) - 5] = '\0';
    assert_int_equal(sp_password_verify(hash, "pw1234567890"), 0);

    /* The dummy verification used for unknown users never succeeds. */
    assert_int_equal(sp_password_verify_dummy("pw1234567890"), 0);
    assert_int_equal(sp_password_verify_dummy(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_format),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_garbage_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
