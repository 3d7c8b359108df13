/*
 * test_secrets.c — auth/secrets.c: a sealed value opens with its key and only with it, carries
 * no plaintext, uses a fresh nonce each time, refuses altered or truncated blobs; key parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <string.h>

#include "auth/secrets.h"
#include "util/alloc.h"

static const unsigned char KEY[SP_SECRET_KEY_BYTES] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                                                       12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22,
                                                       23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void seal_open_round_trip(void **state)
{
    (void)state;
    const char *msg = "smtp password: hunter2-hunter2";
    unsigned char *blob = NULL;
    size_t len = 0;
    assert_int_equal(sp_secret_seal(KEY, msg, strlen(msg), &blob, &len), SP_OK);
    assert_int_equal(len, strlen(msg) + SP_SECRET_OVERHEAD);
    assert_null(memmem(blob, len, "hunter2", 7));
    char *plain = NULL;
    size_t n = 0;
    assert_int_equal(sp_secret_open(KEY, blob, len, &plain, &n), SP_OK);
    assert_int_equal(n, strlen(msg));
    assert_string_equal(plain, msg);
    sp_secret_free(plain, n);
    sp_free(blob);
}

static void empty_value(void **state)
{
    (void)state;
    unsigned char *blob = NULL;
    size_t len = 0;
    assert_int_equal(sp_secret_seal(KEY, "", 0, &blob, &len), SP_OK);
    assert_int_equal(len, SP_SECRET_OVERHEAD);
    char *plain = NULL;
    size_t n = 1;
    assert_int_equal(sp_secret_open(KEY, blob, len, &plain, &n), SP_OK);
    assert_int_equal(n, 0);
    assert_string_equal(plain, "");
    sp_secret_free(plain, n);
    sp_free(blob);
}

static void fresh_nonce_each_time(void **state)
{
    (void)state;
    unsigned char *a = NULL, *b = NULL;
    size_t la = 0, lb = 0;
    sp_secret_seal(KEY, "same", 4, &a, &la);
    sp_secret_seal(KEY, "same", 4, &b, &lb);
    assert_int_equal(la, lb);
    assert_memory_not_equal(a, b, la);
    sp_free(a);
    sp_free(b);
}

static void wrong_key_altered_or_short_blobs_do_not_open(void **state)
{
    (void)state;
    unsigned char *blob = NULL;
    size_t len = 0;
    sp_secret_seal(KEY, "value", 5, &blob, &len);
    unsigned char other[SP_SECRET_KEY_BYTES];
    memcpy(other, KEY, sizeof other);
    other[0] ^= 1;
    char *plain = (char *)"untouched";
    size_t n = 99;
    assert_int_equal(sp_secret_open(other, blob, len, &plain, &n), SP_INVALID);
    assert_null(plain);
    assert_int_equal(n, 0);
    for (size_t i = 0; i < len; i++) {
        blob[i] ^= 0x40;
        assert_int_equal(sp_secret_open(KEY, blob, len, &plain, &n), SP_INVALID);
        blob[i] ^= 0x40;
    }
    assert_int_equal(sp_secret_open(KEY, blob, len - 1, &plain, &n), SP_INVALID);
    assert_int_equal(sp_secret_open(KEY, blob, SP_SECRET_OVERHEAD - 1, &plain, &n), SP_INVALID);
    assert_int_equal(sp_secret_open(KEY, NULL, 0, &plain, &n), SP_INVALID);
    assert_int_equal(sp_secret_open(KEY, blob, len, &plain, &n), SP_OK);
    sp_secret_free(plain, n);
    sp_secret_free(NULL, 0);
    sp_free(blob);
}

static void key_parsing(void **state)
{
    (void)state;
    unsigned char k[SP_SECRET_KEY_BYTES];
    assert_int_equal(sp_secret_key_parse("0102030405060708090a0b0c0d0e0f10"
                                         "1112131415161718191A1B1C1D1E1F20",
                                         k),
                     SP_OK);
    assert_memory_equal(k, KEY, sizeof k);
    assert_int_equal(sp_secret_key_parse("", k), SP_INVALID);
    assert_int_equal(sp_secret_key_parse(NULL, k), SP_INVALID);
    assert_int_equal(sp_secret_key_parse("0102", k), SP_INVALID);
    assert_int_equal(sp_secret_key_parse("zz02030405060708090a0b0c0d0e0f10"
                                         "1112131415161718191a1b1c1d1e1f20",
                                         k),
                     SP_INVALID);
    assert_int_equal(sp_secret_key_parse("0102030405060708090a0b0c0d0e0f10"
                                         "1112131415161718191a1b1c1d1e1f2000",
                                         k),
                     SP_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(seal_open_round_trip),
        cmocka_unit_test(empty_value),
        cmocka_unit_test(fresh_nonce_each_time),
        cmocka_unit_test(wrong_key_altered_or_short_blobs_do_not_open),
        cmocka_unit_test(key_parsing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
