/*
 * jwt.c — JSON Web Tokens, HS256 only (RFC 7519 / RFC 7515 compact form).
 *
 * Why our own: the token's `alg` is never trusted (only "HS256" is accepted, "none" and every
 * other algorithm are refused before the signature is even computed), the signature is compared
 * in constant time (CRYPTO_memcmp), base64url is decoded strictly (no padding, no stray
 * characters, no non-zero trailing bits), and the registered claims we rely on are checked here
 * so no caller can forget to.
 */
#include "auth/auth.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <pthread.h>
#include <string.h>

#define SHA256_LEN 32
/* Seconds a token's nbf may lie in the future (clock skew between instances). */
#define NBF_LEEWAY 5

/* base64url of {"alg":"HS256","typ":"JWT"} — the only header we ever produce. */
static const char jwt_header_b64[] = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9";

static const char b64url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static EVP_MAC *hmac_alg;
static pthread_once_t hmac_once = PTHREAD_ONCE_INIT;
static pthread_key_t hmac_tls;

/* Each thread keeps an HMAC context keyed once: re-initialising it with a NULL key reuses the
 * key schedule, which halves the cost of a verification compared with a fresh context. */
struct hmac_cache {
    EVP_MAC_CTX *ctx;
    size_t keylen;
    unsigned char key[64];
};

static void hmac_cache_free(void *p)
{
    struct hmac_cache *c = p;
    EVP_MAC_CTX_free(c->ctx);
    OPENSSL_cleanse(c->key, sizeof c->key);
    sp_free(c);
}

/* Fetch the HMAC implementation once: fetching per call takes a global lock in OpenSSL 3. */
static void hmac_fetch(void)
{
    hmac_alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    if (pthread_key_create(&hmac_tls, hmac_cache_free) != 0 && hmac_alg) {
        EVP_MAC_free(hmac_alg);
        hmac_alg = NULL;
    }
}

/* This thread's context, initialised with key; NULL on an OpenSSL failure. */
static EVP_MAC_CTX *hmac_ctx(const unsigned char *key, size_t keylen)
{
    struct hmac_cache *c = pthread_getspecific(hmac_tls);
    if (c && c->keylen == keylen && keylen <= sizeof c->key && memcmp(c->key, key, keylen) == 0)
        return EVP_MAC_init(c->ctx, NULL, 0, NULL) == 1 ? c->ctx : NULL;
    if (!c) {
        c = sp_calloc(1, sizeof *c);
        c->ctx = EVP_MAC_CTX_new(hmac_alg);
        if (!c->ctx || pthread_setspecific(hmac_tls, c) != 0) {
            EVP_MAC_CTX_free(c->ctx);
            sp_free(c);
            return NULL;
        }
    }
    OSSL_PARAM params[2];
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0);
    params[1] = OSSL_PARAM_construct_end();
    c->keylen = 0;
    if (EVP_MAC_init(c->ctx, key, keylen, params) != 1)
        return NULL;
    /* Keys longer than the cache are simply re-set on every call. */
    if (keylen <= sizeof c->key) {
        memcpy(c->key, key, keylen);
        c->keylen = keylen;
    }
    return c->ctx;
}

/* HMAC-SHA256(key, data) into out[32]; 0 on success, -1 on an OpenSSL failure. */
static int hmac_sha256(const unsigned char *key, size_t keylen, const char *data, size_t len,
                       unsigned char out[SHA256_LEN])
{
    pthread_once(&hmac_once, hmac_fetch);
    if (!hmac_alg)
        return -1;
    EVP_MAC_CTX *ctx = hmac_ctx(key, keylen);
    if (!ctx)
        return -1;
    size_t outlen = 0;
    int ok = EVP_MAC_update(ctx, (const unsigned char *)data, len) == 1 &&
             EVP_MAC_final(ctx, out, &outlen, SHA256_LEN) == 1 && outlen == SHA256_LEN;
    return ok ? 0 : -1;
}

/* Append base64url (no padding) of in[0..n) to b. */
static void b64url_encode(struct sp_buf *b, const unsigned char *in, size_t n)
{
    sp_buf_reserve(b, (n + 2) / 3 * 4 + 1);
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        sp_buf_putc(b, b64url_alphabet[v >> 18 & 63]);
        sp_buf_putc(b, b64url_alphabet[v >> 12 & 63]);
        sp_buf_putc(b, b64url_alphabet[v >> 6 & 63]);
        sp_buf_putc(b, b64url_alphabet[v & 63]);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        sp_buf_putc(b, b64url_alphabet[v >> 18 & 63]);
        sp_buf_putc(b, b64url_alphabet[v >> 12 & 63]);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        sp_buf_putc(b, b64url_alphabet[v >> 18 & 63]);
        sp_buf_putc(b, b64url_alphabet[v >> 12 & 63]);
        sp_buf_putc(b, b64url_alphabet[v >> 6 & 63]);
    }
}

/* Decoding table: value 0..63, or 64 for a character outside the base64url alphabet. */
static unsigned char b64url_table[256];
static pthread_once_t b64url_once = PTHREAD_ONCE_INIT;

static void b64url_table_init(void)
{
    memset(b64url_table, 64, sizeof b64url_table);
    for (int i = 0; i < 64; i++)
        b64url_table[(unsigned char)b64url_alphabet[i]] = (unsigned char)i;
}

/* Strict base64url decode of in[0..n) into out (capacity n*3/4+1). Returns the decoded length,
 * or -1 on a bad character, an impossible length or non-zero trailing bits. */
static long b64url_decode(const char *in, size_t n, unsigned char *out)
{
    if (n % 4 == 1)
        return -1;
    pthread_once(&b64url_once, b64url_table_init);
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned v = b64url_table[(unsigned char)in[i]];
        if (v > 63)
            return -1;
        acc = (acc << 6 | v) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    /* Leftover bits must be zero, so each token has exactly one encoding. */
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
        return -1;
    return (long)o;
}

char *sp_jwt_sign(const unsigned char *key, size_t keylen, const json_t *claims)
{
    size_t plen = 0;
    char *payload = sp_json_dump(claims, &plen);
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_puts(&b, jwt_header_b64);
    sp_buf_putc(&b, '.');
    b64url_encode(&b, (const unsigned char *)payload, plen);
    sp_free(payload);
    unsigned char mac[SHA256_LEN];
    if (hmac_sha256(key, keylen, b.data, b.len, mac) != 0) {
        sp_buf_free(&b);
        return NULL;
    }
    sp_buf_putc(&b, '.');
    b64url_encode(&b, mac, sizeof mac);
    return sp_buf_steal(&b);
}

/* Decode a base64url segment and parse it as a JSON object (duplicate keys refused). */
static json_t *decode_json_object(const char *seg, size_t n)
{
    unsigned char *raw = sp_malloc(n / 4 * 3 + 3);
    long len = b64url_decode(seg, n, raw);
    json_t *j = NULL;
    if (len > 0)
        j = json_loadb((const char *)raw, (size_t)len, JSON_REJECT_DUPLICATES, NULL);
    sp_free(raw);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* A non-empty string claim. */
static int claim_string(const json_t *claims, const char *name, size_t maxlen)
{
    const json_t *v = json_object_get(claims, name);
    return json_is_string(v) && json_string_length(v) > 0 && json_string_length(v) <= maxlen &&
           strlen(json_string_value(v)) == json_string_length(v);
}

int sp_jwt_verify(const unsigned char *key, size_t keylen, const char *token, int64_t now,
                  json_t **claims, struct sp_err *e)
{
    *claims = NULL;
    if (!token || !*token) {
        sp_err_set(e, "", "missing token");
        return SP_INVALID;
    }
    size_t n = strnlen(token, SP_JWT_MAX_LEN + 1);
    if (n > SP_JWT_MAX_LEN) {
        sp_err_set(e, "", "token too long");
        return SP_INVALID;
    }
    const char *dot1 = memchr(token, '.', n);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', n - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot1 || !dot2 || memchr(dot2 + 1, '.', n - (size_t)(dot2 + 1 - token))) {
        sp_err_set(e, "", "malformed token");
        return SP_INVALID;
    }
    size_t hlen = (size_t)(dot1 - token), plen = (size_t)(dot2 - dot1 - 1);
    size_t slen = n - (size_t)(dot2 + 1 - token);
    if (hlen == 0 || plen == 0 || slen == 0) {
        sp_err_set(e, "", "malformed token");
        return SP_INVALID;
    }

    /* 1. Header: only {"alg":"HS256"} (typ "JWT" optional); nothing we would have to obey. */
    int header_ok = hlen == sizeof jwt_header_b64 - 1 && memcmp(token, jwt_header_b64, hlen) == 0;
    if (!header_ok) {
        /* Not our own header byte for byte (another issuer's key order, say): parse it. */
        json_t *header = decode_json_object(token, hlen);
        if (!header) {
            sp_err_set(e, "", "malformed token header");
            return SP_INVALID;
        }
        const json_t *alg = json_object_get(header, "alg");
        const json_t *typ = json_object_get(header, "typ");
        header_ok = json_is_string(alg) && strcmp(json_string_value(alg), "HS256") == 0 &&
                    json_string_length(alg) == 5 &&
                    (!typ || (json_is_string(typ) && strcmp(json_string_value(typ), "JWT") == 0 &&
                              json_string_length(typ) == 3)) &&
                    !json_object_get(header, "crit");
        json_decref(header);
    }
    if (!header_ok) {
        sp_err_set(e, "", "unsupported token algorithm");
        return SP_INVALID;
    }

    /* 2. Signature over "header.payload", compared in constant time. */
    unsigned char sig[SHA256_LEN + 3];
    if (slen != 43 || b64url_decode(dot2 + 1, slen, sig) != SHA256_LEN) {
        sp_err_set(e, "", "invalid token signature");
        return SP_INVALID;
    }
    unsigned char mac[SHA256_LEN];
    if (hmac_sha256(key, keylen, token, hlen + 1 + plen, mac) != 0) {
        sp_err_set(e, "", "token could not be verified");
        return SP_ERR;
    }
    if (CRYPTO_memcmp(mac, sig, SHA256_LEN) != 0) {
        sp_err_set(e, "", "invalid token signature");
        return SP_INVALID;
    }

    /* 3. Claims. */
    json_t *c = decode_json_object(dot1 + 1, plen);
    if (!c) {
        sp_err_set(e, "", "malformed token payload");
        return SP_INVALID;
    }
    const json_t *iat = json_object_get(c, "iat");
    const json_t *exp = json_object_get(c, "exp");
    const json_t *nbf = json_object_get(c, "nbf");
    if (!claim_string(c, "sub", 32) || !claim_string(c, "jti", SP_JWT_MAX_JTI) ||
        !claim_string(c, "type", 16) || !json_is_integer(iat) || !json_is_integer(exp) ||
        (nbf && !json_is_integer(nbf))) {
        json_decref(c);
        sp_err_set(e, "", "token is missing required claims");
        return SP_INVALID;
    }
    if (json_integer_value(exp) <= now) {
        json_decref(c);
        sp_err_set(e, "", "token has expired");
        return SP_INVALID;
    }
    if (nbf && json_integer_value(nbf) > now + NBF_LEEWAY) {
        json_decref(c);
        sp_err_set(e, "", "token is not valid yet");
        return SP_INVALID;
    }
    *claims = c;
    return SP_OK;
}
