/*
 * password.c — argon2id password hashes (libsodium crypto_pwhash_str).
 *
 * Parameters are fixed at t=2, m=19 MiB (the OWASP minimum for argon2id): the encoded string
 * records them, so verification follows whatever a stored hash says, and hashes are never
 * produced weaker than this. Each call costs ~15-30 ms of one core and 19 MiB: run it on the
 * kdf pool, never on an I/O thread.
 *
 * Working memory kept between hashes. libsodium maps argon2's 19 MiB with mmap(MAP_POPULATE)
 * and unmaps it after every hash; on this project's virtual machines faulting in and freeing
 * those 4,864 pages was about half of a verification (31 ms -> 16 ms without it, measured with
 * the same libsodium). libsodium offers no way to pass memory in, so the binary links libsodium
 * statically with `--wrap=mmap --wrap=munmap` (CMakeLists.txt): the wrappers below see only
 * the calls made by statically linked code, act only on a thread that is inside one of the
 * hashing calls of this file ("armed"), and otherwise pass straight through. On such a thread
 * the munmap of argon2's region wipes it (sodium_memzero) and keeps it; the next hash on the
 * same thread gets it back from mmap (a new region is mapped with huge pages, see kdf_map).
 * sp_password_trim() gives it up: the kdf pool calls it when a worker has been idle for a
 * second, so the memory is held per worker through a burst of logins and not beyond. One region,
 * wiped, is then kept for the whole process (the "spare") and the next hash on any worker takes
 * it instead of mapping a new one: a login after a quiet spell otherwise paid for mapping and
 * faulting in 19 MiB again (a verification measured ~7 ms slower right after a trim than with kept
 * memory). At most one spare exists; other workers' regions are unmapped. The server maps it at
 * start (sp_password_warm on a kdf worker) and frees it at shutdown (sp_password_spare_free).
 * Threads outside the kdf pool (the CLI, bootstrap, tests) keep nothing. Hashing parameters and
 * results are unchanged.
 */
#include "auth/auth.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/time.h"

#include <pthread.h>
#include <sodium.h>
#include <stdbool.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define SP_PWHASH_OPSLIMIT 2ULL
#define SP_PWHASH_MEMLIMIT ((size_t)19 * 1024 * 1024)

/* Smallest region worth keeping: argon2 at our parameters maps 19 MiB; nothing else does this
 * much inside a hashing call. */
#define KDF_KEEP_MIN ((size_t)8 * 1024 * 1024)

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __real_munmap(void *addr, size_t len);
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);
int __wrap_munmap(void *addr, size_t len);

static _Thread_local bool kdf_armed;   /* inside a libsodium hashing call of this file */
static _Thread_local void *kdf_kept;   /* argon2's region, wiped, kept for the next hash */
static _Thread_local size_t kdf_len;   /* its length */
static _Thread_local bool kdf_in_use;  /* handed out to the hash running now */

static pthread_mutex_t spare_mu = PTHREAD_MUTEX_INITIALIZER;
static void *spare;      /* one wiped region kept between bursts for any kdf worker */
static size_t spare_len; /* its length (0 = none) */

/* The spare region when it has this length (then no longer the spare), else NULL. */
static void *spare_take(size_t len)
{
    void *p = NULL;
    pthread_mutex_lock(&spare_mu);
    if (spare && spare_len == len) {
        p = spare;
        spare = NULL;
        spare_len = 0;
    }
    pthread_mutex_unlock(&spare_mu);
    return p;
}

/* Keep a wiped region as the spare when there is none; false when there is one already. */
static bool spare_put(void *p, size_t len)
{
    bool kept = false;
    pthread_mutex_lock(&spare_mu);
    if (!spare) {
        spare = p;
        spare_len = len;
        kept = true;
    }
    pthread_mutex_unlock(&spare_mu);
    return kept;
}

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14; older kernels refuse it and we touch the pages */
#endif

/* A fresh region for argon2: aligned to 2 MiB and advised for transparent huge pages, then
 * populated (what libsodium's MAP_POPULATE asked for). With huge pages the first hash faults
 * in ~10 pages instead of 4,864 and the hashing itself takes fewer TLB misses: a verification
 * measured 13.1-13.8 ms with libsodium's own mapping, 9.8-10.0 ms with this one. */
static void *kdf_map(size_t len, int prot, int flags)
{
    const size_t huge = (size_t)2 << 20;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t plen = (len + page - 1) / page * page;
    size_t span = plen + huge;
    char *raw = __real_mmap(NULL, span, prot, flags & ~MAP_POPULATE, -1, 0);
    if (raw == MAP_FAILED)
        return MAP_FAILED;
    char *start = (char *)(((uintptr_t)raw + huge - 1) & ~(uintptr_t)(huge - 1));
    size_t head = (size_t)(start - raw), tail = span - head - plen;
    if (head)
        (void)__real_munmap(raw, head);
    if (tail)
        (void)__real_munmap(start + plen, tail);
    (void)madvise(start, plen, MADV_HUGEPAGE);
    if (madvise(start, plen, MADV_POPULATE_WRITE) != 0)
        memset(start, 0, plen);
    (void)madvise(start, plen, MADV_DONTDUMP); /* never in a core file */
    return start;
}

void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (kdf_armed && !addr && fd == -1 && prot == (PROT_READ | PROT_WRITE) &&
        (flags & MAP_ANONYMOUS) && (flags & MAP_PRIVATE) && len >= KDF_KEEP_MIN) {
        if (kdf_kept && !kdf_in_use && len == kdf_len) {
            kdf_in_use = true;
            return kdf_kept;
        }
        if (!kdf_kept) {
            void *p = sp_pool_current_idle() == sp_password_trim ? spare_take(len) : NULL;
            return p ? p : kdf_map(len, prot, flags);
        }
    }
    return __real_mmap(addr, len, prot, flags, fd, off);
}

int __wrap_munmap(void *addr, size_t len)
{
    if (kdf_armed && len >= KDF_KEEP_MIN) {
        if (kdf_kept && addr == kdf_kept && len == kdf_len) {
            sodium_memzero(addr, len);
            kdf_in_use = false;
            return 0;
        }
        if (!kdf_kept) {
            sodium_memzero(addr, len);
            kdf_kept = addr;
            kdf_len = len;
            kdf_in_use = false;
            return 0;
        }
    }
    return __real_munmap(addr, len);
}

/* Unmap this thread's kept region, or with to_spare make it the spare when there is none. */
static void kdf_release(bool to_spare)
{
    if (kdf_kept && !kdf_in_use) {
        if (!to_spare || !spare_put(kdf_kept, kdf_len))
            (void)__real_munmap(kdf_kept, kdf_len);
        kdf_kept = NULL;
        kdf_len = 0;
    }
}

void sp_password_trim(void)
{
    kdf_release(true);
}

void sp_password_spare_free(void)
{
    pthread_mutex_lock(&spare_mu);
    void *p = spare;
    size_t len = spare_len;
    spare = NULL;
    spare_len = 0;
    pthread_mutex_unlock(&spare_mu);
    if (p)
        (void)__real_munmap(p, len);
}

size_t sp_password_spare_bytes(void)
{
    pthread_mutex_lock(&spare_mu);
    size_t len = spare ? spare_len : 0;
    pthread_mutex_unlock(&spare_mu);
    return len;
}

/* Called after every hash: a thread that no pool idle hook will trim (the CLI, bootstrap, tests)
 * gives the memory back at once. */
static void kdf_done(void)
{
    if (sp_pool_current_idle() != sp_password_trim)
        kdf_release(false);
}

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
    kdf_armed = true;
    int rc = crypto_pwhash_str_alg(out, password, n, SP_PWHASH_OPSLIMIT, SP_PWHASH_MEMLIMIT,
                                   crypto_pwhash_ALG_ARGON2ID13);
    kdf_armed = false;
    kdf_done();
    if (rc != 0) {
        sp_error("password hash failed", "crypto_pwhash_str_alg: out of memory?");
        return SP_ERR;
    }
    memcpy(hash, out, strlen(out) + 1);
    sodium_memzero(out, sizeof out);
    return SP_OK;
}

/* ---- recently verified credentials ------------------------------------------------------- */
/*
 * A login that repeats credentials verified a moment ago (scripts, operators, every tab of a
 * browser, a load test's users sharing one account) need not pay for argon2id again; this is
 * the model of Apache's mod_authn_socache (same default lifetime, 300 s). Each successful
 * verification stores HMAC-SHA256(k, stored hash || 0 || password), k being 32 random bytes made
 * at start and never written anywhere. A lookup recomputes the HMAC and compares in constant time.
 * Failures are never stored, so every wrong guess still costs a full argon2id verification; a
 * changed password changes the stored hash (new salt), so an old entry can no longer match; the
 * caller still checks that the account is active. The table is fixed (CACHE_SLOTS entries,
 * direct-mapped by the HMAC), so memory is bounded and a flood of logins only evicts entries.
 * SP_LOGIN_CACHE_TTL=0 switches it off.
 */
#define CACHE_SLOTS 4096

struct cred_slot {
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    int64_t expires; /* 0 = empty */
};

static pthread_mutex_t cred_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cred_slot *cred_table; /* CACHE_SLOTS entries, allocated by sp_password_cache_init */
static unsigned char cred_key[crypto_auth_hmacsha256_KEYBYTES];
static int cred_ttl;

static void cred_mac(const char *hash, const char *password, unsigned char *mac)
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, cred_key, sizeof cred_key);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)hash, strlen(hash) + 1);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)password, strlen(password));
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

static size_t cred_index(const unsigned char *mac)
{
    return ((size_t)mac[0] | (size_t)mac[1] << 8) % CACHE_SLOTS;
}

void sp_password_cache_init(int ttl_seconds)
{
    pthread_once(&sodium_once, sodium_setup);
    pthread_mutex_lock(&cred_lock);
    if (!cred_table) {
        cred_table = sp_calloc(CACHE_SLOTS, sizeof *cred_table);
        randombytes_buf(cred_key, sizeof cred_key);
    }
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        cred_table[i].expires = 0;
    cred_ttl = sodium_ok && ttl_seconds > 0 ? ttl_seconds : 0;
    pthread_mutex_unlock(&cred_lock);
}

int sp_password_recent(const char *hash, const char *password, int64_t now)
{
    if (!hash || !password || strlen(password) > SP_PASSWORD_MAX)
        return 0;
    pthread_mutex_lock(&cred_lock);
    int on = cred_ttl > 0;
    pthread_mutex_unlock(&cred_lock);
    if (!on)
        return 0;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    cred_mac(hash, password, mac);
    pthread_mutex_lock(&cred_lock);
    const struct cred_slot *s = &cred_table[cred_index(mac)];
    int hit = cred_ttl > 0 && s->expires > now && sodium_memcmp(s->mac, mac, sizeof mac) == 0;
    pthread_mutex_unlock(&cred_lock);
    sodium_memzero(mac, sizeof mac);
    return hit;
}

/* Verifications running right now, by HMAC, so that identical logins arriving together cost one
 * argon2id run: the later ones wait for the first and take its result if it succeeded. */
#define INFLIGHT_MAX 64
static unsigned char inflight[INFLIGHT_MAX][crypto_auth_hmacsha256_BYTES];
static int ninflight;
static pthread_cond_t inflight_done = PTHREAD_COND_INITIALIZER;

static int inflight_find(const unsigned char *mac)
{
    for (int i = 0; i < ninflight; i++)
        if (sodium_memcmp(inflight[i], mac, crypto_auth_hmacsha256_BYTES) == 0)
            return i;
    return -1;
}

static void cred_remember(const char *hash, const char *password)
{
    pthread_mutex_lock(&cred_lock);
    int ttl = cred_ttl;
    pthread_mutex_unlock(&cred_lock);
    if (ttl <= 0)
        return;
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    cred_mac(hash, password, mac);
    pthread_mutex_lock(&cred_lock);
    struct cred_slot *s = &cred_table[cred_index(mac)];
    memcpy(s->mac, mac, sizeof mac);
    s->expires = sp_time_now() + cred_ttl;
    pthread_mutex_unlock(&cred_lock);
    sodium_memzero(mac, sizeof mac);
}

int sp_password_verify_shared(const char *hash, const char *password)
{
    if (!hash || !password)
        return 0;
    pthread_mutex_lock(&cred_lock);
    int on = cred_ttl > 0;
    pthread_mutex_unlock(&cred_lock);
    if (!on || strlen(password) > SP_PASSWORD_MAX)
        return sp_password_verify(hash, password);

    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    cred_mac(hash, password, mac);
    pthread_mutex_lock(&cred_lock);
    while (inflight_find(mac) >= 0)
        pthread_cond_wait(&inflight_done, &cred_lock);
    const struct cred_slot *slot = &cred_table[cred_index(mac)];
    if (slot->expires > sp_time_now() && sodium_memcmp(slot->mac, mac, sizeof mac) == 0) {
        pthread_mutex_unlock(&cred_lock);
        sodium_memzero(mac, sizeof mac);
        return 1;
    }
    int mine = -1;
    if (ninflight < INFLIGHT_MAX) {
        mine = ninflight++;
        memcpy(inflight[mine], mac, sizeof mac);
    }
    pthread_mutex_unlock(&cred_lock);

    int ok = sp_password_verify(hash, password);

    if (mine >= 0) {
        pthread_mutex_lock(&cred_lock);
        int at = inflight_find(mac);
        if (at >= 0) {
            memcpy(inflight[at], inflight[ninflight - 1], sizeof mac);
            ninflight--;
        }
        pthread_cond_broadcast(&inflight_done);
        pthread_mutex_unlock(&cred_lock);
    }
    sodium_memzero(mac, sizeof mac);
    return ok;
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
    kdf_armed = true;
    int rc = crypto_pwhash_str_verify(hash, password, n);
    kdf_armed = false;
    kdf_done();
    if (rc == 0)
        cred_remember(hash, password);
    return rc == 0;
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

void sp_password_warm(void)
{
    pthread_once(&dummy_once, dummy_setup);
}

int sp_password_verify_dummy(const char *password)
{
    pthread_once(&dummy_once, dummy_setup);
    if (dummy_hash[0])
        (void)sp_password_verify(dummy_hash, password ? password : "");
    return 0;
}
