/*
 * secrets.c — libsodium secretbox for values stored encrypted (see secrets.h).
 */
#include "auth/secrets.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/log.h"

_Static_assert(crypto_secretbox_KEYBYTES == SP_SECRET_KEY_BYTES, "secretbox key size");
_Static_assert(crypto_secretbox_NONCEBYTES + crypto_secretbox_MACBYTES == SP_SECRET_OVERHEAD,
               "secretbox overhead");

/* sodium_init is idempotent and thread-safe; the server calls it at start, tests may not. */
static void ensure_sodium(void)
{
    if (sodium_init() < 0) {
        sp_error("libsodium failed to initialise", "no source of randomness");
        abort();
    }
}

int sp_secret_seal(const unsigned char key[SP_SECRET_KEY_BYTES], const char *plain, size_t n,
                   unsigned char **blob, size_t *bloblen)
{
    ensure_sodium();
    size_t len = n + SP_SECRET_OVERHEAD;
    unsigned char *b = sp_malloc(len);
    randombytes_buf(b, crypto_secretbox_NONCEBYTES);
    crypto_secretbox_easy(b + crypto_secretbox_NONCEBYTES, (const unsigned char *)plain, n, b, key);
    *blob = b;
    *bloblen = len;
    return SP_OK;
}

int sp_secret_open(const unsigned char key[SP_SECRET_KEY_BYTES], const void *blob, size_t bloblen,
                   char **plain, size_t *n)
{
    ensure_sodium();
    *plain = NULL;
    *n = 0;
    if (!blob || bloblen < SP_SECRET_OVERHEAD)
        return SP_INVALID;
    const unsigned char *b = blob;
    size_t len = bloblen - SP_SECRET_OVERHEAD;
    char *out = sp_malloc(len + 1);
    if (crypto_secretbox_open_easy((unsigned char *)out, b + crypto_secretbox_NONCEBYTES,
                                   bloblen - crypto_secretbox_NONCEBYTES, b, key) != 0) {
        sodium_memzero(out, len + 1);
        sp_free(out);
        return SP_INVALID;
    }
    out[len] = '\0';
    *plain = out;
    *n = len;
    return SP_OK;
}

void sp_secret_free(char *plain, size_t n)
{
    if (!plain)
        return;
    sodium_memzero(plain, n);
    sp_free(plain);
}

int sp_secret_key_parse(const char *hex, unsigned char key[SP_SECRET_KEY_BYTES])
{
    size_t len = 0;
    const char *end = NULL;
    if (!hex || strlen(hex) != 2 * SP_SECRET_KEY_BYTES ||
        sodium_hex2bin(key, SP_SECRET_KEY_BYTES, hex, strlen(hex), NULL, &len, &end) != 0 ||
        len != SP_SECRET_KEY_BYTES || (end && *end))
        return SP_INVALID;
    return SP_OK;
}
