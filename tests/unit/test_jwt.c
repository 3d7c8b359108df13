/*
 * test_jwt.c — HS256 tokens: what verifies and, above all, what must not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/hmac.h>
#include <string.h>

#include "auth/auth.h"
#include "util/alloc.h"
#include "util/buf.h"

static const unsigned char key[32] = "0123456789abcdef0123456789abcdef";
static const unsigned char other_key[32] = "fedcba9876543210fedcba9876543210";
static const int64_t now = 1800000000;

static void b64url(struct sp_buf *b, const void *data, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *in = data;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        char o[4] = {a[v >> 18 & 63], a[v >> 12 & 63], a[v >> 6 & 63], a[v & 63]};
        sp_buf_append(b, o, 4);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        char o[2] = {a[v >> 18 & 63], a[v >> 12 & 63]};
        sp_buf_append(b, o, 2);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        char o[3] = {a[v >> 18 & 63], a[v >> 12 & 63], a[v >> 6 & 63]};
        sp_buf_append(b, o, 3);
    }
}

/* Build a token from raw header and payload text, signed with HMAC-SHA256 under k (the way an
 * attacker holding the key, or a confused library, would). */
static char *forge(const char *header, const char *payload, const unsigned char *k)
{
    struct sp_buf b = SP_BUF_INIT;
    b64url(&b, header, strlen(header));
    sp_buf_putc(&b, '.');
    b64url(&b, payload, strlen(payload));
    unsigned char mac[32];
    unsigned int maclen = 0;
    HMAC(EVP_sha256(), k, 32, (const unsigned char *)b.data, b.len, mac, &maclen);
    sp_buf_putc(&b, '.');
    b64url(&b, mac, maclen);
    return sp_buf_steal(&b);
}

static json_t *good_claims(void)
{
    return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "sub", "42", "jti",
                     "00112233445566778899aabbccddeeff", "type", "access", "iat",
                     (json_int_t)now - 10, "nbf", (json_int_t)now - 10, "exp",
                     (json_int_t)now + 900, "te", (json_int_t)7);
}

static int verify(const char *tok)
{
    json_t *c = NULL;
    struct sp_err e;
    int rc = sp_jwt_verify(key, sizeof key, tok, now, &c, &e);
    if (rc == SP_OK)
        assert_non_null(c);
    else
        assert_null(c);
    json_decref(c);
    return rc;
}

static const char *valid_payload =
    "{\"sub\":\"42\",\"jti\":\"abc\",\"type\":\"access\",\"iat\":1799999990,"
    "\"nbf\":1799999990,\"exp\":1800000900}";

static void test_round_trip(void **state)
{
    (void)state;
    json_t *claims = good_claims();
    char *tok = sp_jwt_sign(key, sizeof key, claims);
    assert_non_null(tok);
    /* header.payload.signature, no padding anywhere */
    assert_null(strchr(tok, '='));
    assert_int_equal(strncmp(tok, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.", 37), 0);

    json_t *out = NULL;
    struct sp_err e;
    assert_int_equal(sp_jwt_verify(key, sizeof key, tok, now, &out, &e), SP_OK);
    assert_true(json_equal(out, claims));
    assert_string_equal(json_string_value(json_object_get(out, "sub")), "42");
    json_decref(out);
    json_decref(claims);
    sp_free(tok);

    /* The test forger agrees with the signer: a hand-built token verifies too. */
    char *forged = forge("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", valid_payload, key);
    assert_int_equal(verify(forged), SP_OK);
    sp_free(forged);
    forged = forge("{\"alg\":\"HS256\"}", valid_payload, key);
    assert_int_equal(verify(forged), SP_OK);
    sp_free(forged);
}

static void test_wrong_key(void **state)
{
    (void)state;
    json_t *claims = good_claims();
    char *tok = sp_jwt_sign(other_key, sizeof other_key, claims);
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(tok);
    json_decref(claims);
}

static void test_tamper_signature(void **state)
{
    (void)state;
    json_t *claims = good_claims();
    char *tok = sp_jwt_sign(key, sizeof key, claims);
    char *sig = strrchr(tok, '.') + 1;
    sig[0] = sig[0] == 'A' ? 'B' : 'A';
    assert_int_equal(verify(tok), SP_INVALID);
    sig[0] = '\0'; /* empty signature */
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(tok);

    /* Same signature bytes, but a non-canonical last character (trailing bits set). */
    tok = sp_jwt_sign(key, sizeof key, claims);
    char *last = tok + strlen(tok) - 1;
    const char *alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    int v = (int)(strchr(alpha, *last) - alpha);
    *last = alpha[v | 1];
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(tok);

    /* Signature with base64 padding or a truncated one. */
    tok = sp_jwt_sign(key, sizeof key, claims);
    char *padded = sp_asprintf("%s=", tok);
    assert_int_equal(verify(padded), SP_INVALID);
    tok[strlen(tok) - 1] = '\0';
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(padded);
    sp_free(tok);
    json_decref(claims);
}

static void test_tamper_payload(void **state)
{
    (void)state;
    json_t *claims = good_claims();
    char *tok = sp_jwt_sign(key, sizeof key, claims);
    /* Swap in another payload (sub "1") and keep the original signature. */
    json_object_set_new(claims, "sub", json_string("1"));
    char *other = sp_jwt_sign(key, sizeof key, claims);
    char *p1 = strchr(tok, '.'), *s1 = strrchr(tok, '.');
    char *p2 = strchr(other, '.'), *s2 = strrchr(other, '.');
    char *spliced = sp_asprintf("%.*s%.*s%s", (int)(p1 - tok), tok, (int)(s2 - p2), p2, s1);
    assert_int_equal(verify(spliced), SP_INVALID);
    SP_UNUSED(s2);
    sp_free(spliced);
    /* Flip one payload character. */
    p1[5] = p1[5] == 'x' ? 'y' : 'x';
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(tok);
    sp_free(other);
    json_decref(claims);
}

static void test_tamper_header(void **state)
{
    (void)state;
    json_t *claims = good_claims();
    char *tok = sp_jwt_sign(key, sizeof key, claims);
    /* A different (still HS256) header with the original signature. */
    struct sp_buf b = SP_BUF_INIT;
    const char *h = "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"x\"}";
    b64url(&b, h, strlen(h));
    sp_buf_puts(&b, strchr(tok, '.'));
    assert_int_equal(verify(b.data), SP_INVALID);
    sp_buf_free(&b);
    sp_free(tok);
    json_decref(claims);
}

static void test_alg_none_and_others(void **state)
{
    (void)state;
    const char *bad_headers[] = {
        "{\"alg\":\"none\",\"typ\":\"JWT\"}",
        "{\"alg\":\"None\"}",
        "{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
        "{\"alg\":\"HS384\"}",
        "{\"alg\":\"RS256\"}",
        "{\"alg\":\"hs256\"}",
        "{\"typ\":\"JWT\"}",
        "{\"alg\":null}",
        "{\"alg\":[\"HS256\"]}",
        "{\"alg\":\"HS256\",\"crit\":[\"b64\"]}",
        "{\"alg\":\"HS256\",\"typ\":\"JWE\"}",
        "{\"alg\":\"HS256\",\"alg\":\"none\"}",
    };
    for (size_t i = 0; i < SP_ARRAY_LEN(bad_headers); i++) {
        /* even with a correct HMAC-SHA256 over the bytes, the header decides: refused */
        char *tok = forge(bad_headers[i], valid_payload, key);
        assert_int_equal(verify(tok), SP_INVALID);
        sp_free(tok);
    }
    /* The classic "alg":"none" token with an empty signature. */
    struct sp_buf b = SP_BUF_INIT;
    const char *h = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    b64url(&b, h, strlen(h));
    sp_buf_putc(&b, '.');
    b64url(&b, valid_payload, strlen(valid_payload));
    sp_buf_putc(&b, '.');
    assert_int_equal(verify(b.data), SP_INVALID);
    sp_buf_free(&b);
}

static void test_time_claims(void **state)
{
    (void)state;
    json_t *c = good_claims();
    char *tok;

    json_object_set_new(c, "exp", json_integer(now - 1));
    tok = sp_jwt_sign(key, sizeof key, c);
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(tok);

    json_object_set_new(c, "exp", json_integer(now)); /* expiry instant itself is too late */
    tok = sp_jwt_sign(key, sizeof key, c);
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(tok);

    json_object_set_new(c, "exp", json_integer(now + 1));
    tok = sp_jwt_sign(key, sizeof key, c);
    assert_int_equal(verify(tok), SP_OK);
    sp_free(tok);

    json_object_set_new(c, "nbf", json_integer(now + 3600));
    json_object_set_new(c, "exp", json_integer(now + 7200));
    tok = sp_jwt_sign(key, sizeof key, c);
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(tok);

    json_object_set_new(c, "nbf", json_string("0"));
    tok = sp_jwt_sign(key, sizeof key, c);
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(tok);
    json_decref(c);
}

static void test_missing_claims(void **state)
{
    (void)state;
    const char *required[] = {"sub", "jti", "type", "iat", "exp"};
    for (size_t i = 0; i < SP_ARRAY_LEN(required); i++) {
        json_t *c = good_claims();
        json_object_del(c, required[i]);
        char *tok = sp_jwt_sign(key, sizeof key, c);
        assert_int_equal(verify(tok), SP_INVALID);
        sp_free(tok);
        json_decref(c);
    }
    /* wrong types */
    const char *payloads[] = {
        "{\"sub\":42,\"jti\":\"a\",\"type\":\"access\",\"iat\":1,\"exp\":1800000900}",
        "{\"sub\":\"42\",\"jti\":\"\",\"type\":\"access\",\"iat\":1,\"exp\":1800000900}",
        "{\"sub\":\"42\",\"jti\":\"a\",\"type\":\"access\",\"iat\":1,\"exp\":\"1800000900\"}",
        "{\"sub\":\"42\",\"jti\":\"a\",\"type\":\"access\",\"iat\":1.5,\"exp\":1800000900}",
        "{\"sub\":\"42\",\"jti\":\"a\",\"type\":\"access\",\"iat\":1,\"exp\":1800000900.0}",
        "{\"sub\":\"42\",\"jti\":\"a\",\"type\":null,\"iat\":1,\"exp\":1800000900}",
        /* duplicate claim: which one would win is parser-specific, so refuse both */
        "{\"sub\":\"42\",\"sub\":\"1\",\"jti\":\"a\",\"type\":\"access\",\"iat\":1,"
        "\"exp\":1800000900}",
    };
    for (size_t i = 0; i < SP_ARRAY_LEN(payloads); i++) {
        char *tok = forge("{\"alg\":\"HS256\"}", payloads[i], key);
        assert_int_equal(verify(tok), SP_INVALID);
        sp_free(tok);
    }
}

static void test_malformed(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        ".",
        "..",
        "...",
        "abc",
        "a.b",
        "a.b.c.d",
        "eyJhbGciOiJIUzI1NiJ9..x",
        "eyJhbGciOiJIUzI1NiJ9.e30.",
        "!!!.e30.AAAA",
        "eyJhbGciOiJIUzI1NiJ9=.e30.AAAA",
        ".e30.AAAA",
        "eyJhbGciOiJIUzI1NiJ9.e30.AAAA",
    };
    for (size_t i = 0; i < SP_ARRAY_LEN(bad); i++)
        assert_int_equal(verify(bad[i]), SP_INVALID);
    json_t *c = NULL;
    struct sp_err e;
    assert_int_equal(sp_jwt_verify(key, sizeof key, NULL, now, &c, &e), SP_INVALID);

    /* Valid signatures over non-object or non-JSON parts. */
    const char *payloads[] = {"[]", "\"x\"", "42", "null", "{", "", "{\"a\":1} x"};
    for (size_t i = 0; i < SP_ARRAY_LEN(payloads); i++) {
        char *tok = forge("{\"alg\":\"HS256\"}", payloads[i], key);
        assert_int_equal(verify(tok), SP_INVALID);
        sp_free(tok);
        tok = forge(payloads[i], valid_payload, key);
        assert_int_equal(verify(tok), SP_INVALID);
        sp_free(tok);
    }

    /* Oversized token (a huge but validly signed payload). */
    struct sp_buf p = SP_BUF_INIT;
    sp_buf_puts(&p, "{\"sub\":\"42\",\"jti\":\"a\",\"type\":\"access\",\"iat\":1,"
                    "\"exp\":1800000900,\"pad\":\"");
    for (int i = 0; i < 4000; i++)
        sp_buf_putc(&p, 'x');
    sp_buf_puts(&p, "\"}");
    char *tok = forge("{\"alg\":\"HS256\"}", p.data, key);
    assert_true(strlen(tok) > SP_JWT_MAX_LEN);
    assert_int_equal(verify(tok), SP_INVALID);
    sp_free(tok);
    sp_buf_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),       cmocka_unit_test(test_wrong_key),
        cmocka_unit_test(test_tamper_signature), cmocka_unit_test(test_tamper_payload),
        cmocka_unit_test(test_tamper_header),    cmocka_unit_test(test_alg_none_and_others),
        cmocka_unit_test(test_time_claims),      cmocka_unit_test(test_missing_claims),
        cmocka_unit_test(test_malformed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
