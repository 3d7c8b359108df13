/*
 * fuzz_jwt.c — auth/jwt.c: sp_jwt_verify on arbitrary tokens.
 *
 * Input: first byte selects the mode, the rest is:
 *   even  a raw token (NUL cuts it): header/base64url/signature checks;
 *   odd   "header JSON \0 payload JSON": the driver encodes both and signs them with the key,
 *         so the strict base64url decoding, header rules and claim checks behind a valid
 *         signature are reached. An empty header field stands for our own header.
 * Invariants: an accepted token yields an object holding the claims the contract promises
 * (sub/jti/type non-empty strings, iat/exp integers, exp in the future); its claims re-signed
 * with sp_jwt_sign verify again; a token whose last signature character is changed is refused.
 */
#include "fuzz_common.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth/auth.h"
#include "util/buf.h"

static const unsigned char key[32] = FZ_JWT_KEY;
#define NOW 1700000000LL

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

static void b64url(struct sp_buf *b, const unsigned char *in, size_t n)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        sp_buf_putc(b, a[v >> 18 & 63]);
        sp_buf_putc(b, a[v >> 12 & 63]);
        if (i + 1 < n)
            sp_buf_putc(b, a[v >> 6 & 63]);
        if (i + 2 < n)
            sp_buf_putc(b, a[v & 63]);
    }
}

static void check_claims(const json_t *c, const char *token)
{
    static const char *const strs[] = {"sub", "jti", "type"};
    if (!json_is_object(c))
        fz_fail("sp_jwt_verify accepted %s without a claims object", token);
    for (size_t i = 0; i < SP_ARRAY_LEN(strs); i++) {
        const json_t *v = json_object_get(c, strs[i]);
        if (!json_is_string(v) || json_string_length(v) == 0)
            fz_fail("sp_jwt_verify accepted %s with claim %s not a non-empty string", token,
                    strs[i]);
    }
    if (!json_is_integer(json_object_get(c, "iat")) ||
        !json_is_integer(json_object_get(c, "exp")) ||
        json_integer_value(json_object_get(c, "exp")) <= NOW)
        fz_fail("sp_jwt_verify accepted %s with bad iat/exp", token);
}

static void verify(const char *token)
{
    json_t *claims = NULL;
    struct sp_err e = {{0}, {0}};
    int rc = sp_jwt_verify(key, sizeof key, token, NOW, &claims, &e);
    if (rc != SP_OK) {
        if (claims)
            fz_fail("sp_jwt_verify refused %s but set claims", token);
        if (!e.message[0])
            fz_fail("sp_jwt_verify refused %s without a reason", token);
        return;
    }
    check_claims(claims, token);
    /* our own signature over the same claims verifies too */
    char *again = sp_jwt_sign(key, sizeof key, claims);
    json_t *c2 = NULL;
    if (!again)
        fz_fail("sp_jwt_sign failed on the claims of %s", token);
    if (strlen(again) <= SP_JWT_MAX_LEN) { /* compact JSON may still spell numbers longer */
        if (sp_jwt_verify(key, sizeof key, again, NOW, &c2, &e) != SP_OK)
            fz_fail("claims of %s re-signed as %s do not verify: %s", token, again, e.message);
        if (!json_equal(claims, c2))
            fz_fail("claims of %s changed through sign/verify", token);
    }
    /* a different signature is refused */
    size_t n = strlen(token);
    char *bad = sp_strdup(token);
    bad[n - 1] = bad[n - 1] == 'A' ? 'B' : 'A';
    json_t *c3 = NULL;
    if (sp_jwt_verify(key, sizeof key, bad, NOW, &c3, &e) == SP_OK)
        fz_fail("a token with a changed signature verifies: %s", bad);
    sp_free(bad);
    json_decref(c2);
    sp_free(again);
    json_decref(claims);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 8192)
        return 0;
    if (!(data[0] & 1)) {
        char *token = fz_cstr(data + 1, size - 1);
        verify(token);
        sp_free(token);
        return 0;
    }
    char *f[2], *buf;
    fz_fields(data + 1, size - 1, f, 2, &buf);
    struct sp_buf t = SP_BUF_INIT;
    if (*f[0])
        b64url(&t, (const unsigned char *)f[0], strlen(f[0]));
    else
        sp_buf_puts(&t, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9");
    sp_buf_putc(&t, '.');
    b64url(&t, (const unsigned char *)f[1], strlen(f[1]));
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int maclen = 0;
    if (!HMAC(EVP_sha256(), key, sizeof key, (const unsigned char *)t.data, t.len, mac, &maclen))
        fz_fail("HMAC failed");
    sp_buf_putc(&t, '.');
    b64url(&t, mac, maclen);
    verify(t.data);
    sp_buf_free(&t);
    sp_free(buf);
    return 0;
}
