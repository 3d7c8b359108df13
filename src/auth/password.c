/*
 * password.c — argon2id password hashes (libsodium crypto_pwhash_str).
 *
 * Parameters are fixed at t=2, m=19 MiB (the OWASP minimum for argon2id): the encoded string
 * records them, so verification follows whatever a stored hash says, and hashes are never
 * produced weaker than this. Each call costs ~25 ms of one core and 19 MiB: run it on the kdf
 * pool, never on an I/O thread.
 */
#include "auth/auth.h"
#include "util/log.h"

#include <pthread.h>
#include <sodium.h>
#include <string.h>

#define SP_PWHASH_OPSLIMIT 2ULL
#define SP_PWHASH_MEMLIMIT ((size_t)19 * 1024 * 1024)

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void sodium_setup(void)
{
    sodium_ok = sodium_init() >= 0;
    if (!sodium_ok)
        sp_error("sodium_init failed", "password hashing unavailable");
}

int sp_password_hash(const char *password, char *hash, size_t hashlen)
{
    pthread_once(&sodium_once, sodium_setup);
    if (!sodium_ok || !password || !hash || hashlen < crypto_pwhash_STRBYTES)
        return SP_ERR;
    size_t n = strlen(password);
    if (n > SP_PASSWORD_MAX)
        return SP_ERR;
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str_alg(out, password, n, SP_PWHASH_OPSLIMIT, SP_PWHASH_MEMLIMIT,
                              crypto_pwhash_ALG_ARGON2ID13) != 0) {
        sp_error("password hash failed", "crypto_pwhash_str_alg: out of memory?");
        return SP_ERR;
    }
    memcpy(hash, out, strlen(out) + 1);
    sodium_memzero(out, sizeof out);
    return SP_OK;
}

int sp_password_verify(const char *hash, const char *password)
{
    pthread_once(&sodium_once, sodium_setup);
    if (!sodium_ok || !hash || !password)
        return 0;
    size_t n = strlen(password);
    /* Only argon2id hashes of ours; anything else (empty, truncated, other schemes) fails. */
    if (n > SP_PASSWORD_MAX || strnlen(hash, crypto_pwhash_STRBYTES) >= crypto_pwhash_STRBYTES ||
        strncmp(hash, "$argon2id$", 10) != 0)
        return 0;
    return crypto_pwhash_str_verify(hash, password, n) == 0;
}

static char dummy_hash[crypto_pwhash_STRBYTES];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

static void dummy_setup(void)
{
    unsigned char rnd[24];
    char pw[sizeof rnd * 2 + 1];
    pthread_once(&sodium_once, sodium_setup);
    if (!sodium_ok)
        return;
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(pw, sizeof pw, rnd, sizeof rnd);
    if (sp_password_hash(pw, dummy_hash, sizeof dummy_hash) != SP_OK)
        dummy_hash[0] = '\0';
}

int sp_password_verify_dummy(const char *password)
{
    pthread_once(&dummy_once, dummy_setup);
    if (dummy_hash[0])
        (void)sp_password_verify(dummy_hash, password ? password : "");
    return 0;
}
