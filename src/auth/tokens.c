/*
 * tokens.c — access/refresh token pairs, request authentication, revocation, failed-login limits.
 *
 * sp_auth_authenticate() runs on every authenticated request, so its normal path does no SQL:
 *   - the revoked-jti set lives in memory (loaded from token_blocklist at start, written through
 *     on revoke, expired entries purged);
 *   - principals (user id → username, active, token_epoch, permissions) are cached in memory and
 *     tagged with the users/roles generation counters: any write that bumps SP_GEN_USERS or
 *     SP_GEN_ROLES makes every entry stale at once. Entries also expire after PCACHE_TTL seconds
 *     as a safety net for writes made by another process (the `user` CLI command).
 * Both tables are sharded by hash with a mutex per shard, held only to copy a few bytes.
 */
#include "app.h"
#include "auth/auth.h"
#include "cache/cache.h"
#include "store/db.h"
#include "store/tokens.h"
#include "store/users.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/time.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NSHARDS 16
/* Seconds a cached principal is trusted without a generation bump. */
#define PCACHE_TTL 5
/* Cached principals per shard before the shard is emptied (bounds memory). */
#define PCACHE_SHARD_MAX 8192
#define PCACHE_BUCKETS 256
/* Seconds between purges of expired revoked jtis (memory and table). */
#define PURGE_INTERVAL 300

/* ------------------------------------------------------------------------------------------ */
/* principal cache */

struct pentry {
    struct pentry *next;
    int64_t user_id;
    uint64_t gen_users, gen_roles;
    int64_t loaded_at;
    bool exists;
    bool active;
    bool is_admin;
    int64_t epoch;
    uint64_t perms;
    char username[sizeof(((struct sp_principal *)0)->username)];
};

struct pshard {
    pthread_mutex_t lock;
    struct pentry *buckets[PCACHE_BUCKETS];
    int count;
};

/* ------------------------------------------------------------------------------------------ */
/* revoked-jti set */

struct rentry {
    struct rentry *next;
    int64_t exp;
    char jti[SP_JWT_MAX_JTI + 1];
};

struct rshard {
    pthread_mutex_t lock;
    struct rentry **buckets;
    size_t nbuckets;
    size_t count;
};

/* ------------------------------------------------------------------------------------------ */
/* failed-login limiter */

struct lentry {
    struct lentry *next;
    int64_t window_start;
    int failures;
    char key[];
};

#define LIMIT_BUCKETS 1024
#define LIMIT_MAX 100000

static struct {
    pthread_mutex_t init_lock;
    atomic_int ready;
    struct pshard pshards[NSHARDS];
    struct rshard rshards[NSHARDS];
    atomic_llong next_purge;
    pthread_mutex_t limit_lock;
    struct lentry *limit[LIMIT_BUCKETS];
    int nlimit;
} S = {
    .init_lock = PTHREAD_MUTEX_INITIALIZER,
    .limit_lock = PTHREAD_MUTEX_INITIALIZER,
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t hash_id(int64_t id)
{
    uint64_t x = (uint64_t)id;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return x;
}

/* Insert jti into the set unless present. Returns 1 when inserted, 0 when already there.
 * An entry already present gets the later of the two expiry times. */
static int rset_add(const char *jti, int64_t exp)
{
    uint64_t h = hash_str(jti);
    struct rshard *s = &S.rshards[h % NSHARDS];
    pthread_mutex_lock(&s->lock);
    size_t b = (h / NSHARDS) % s->nbuckets;
    for (struct rentry *e = s->buckets[b]; e; e = e->next) {
        if (strcmp(e->jti, jti) == 0) {
            if (exp > e->exp)
                e->exp = exp;
            pthread_mutex_unlock(&s->lock);
            return 0;
        }
    }
    if (s->count >= s->nbuckets * 2) {
        /* Grow: rehash every entry into twice the buckets. */
        size_t nb = s->nbuckets * 2;
        struct rentry **nbk = sp_calloc(nb, sizeof *nbk);
        for (size_t i = 0; i < s->nbuckets; i++) {
            struct rentry *e = s->buckets[i];
            while (e) {
                struct rentry *next = e->next;
                size_t j = (hash_str(e->jti) / NSHARDS) % nb;
                e->next = nbk[j];
                nbk[j] = e;
                e = next;
            }
        }
        sp_free(s->buckets);
        s->buckets = nbk;
        s->nbuckets = nb;
        b = (h / NSHARDS) % nb;
    }
    struct rentry *e = sp_calloc(1, sizeof *e);
    snprintf(e->jti, sizeof e->jti, "%s", jti);
    e->exp = exp;
    e->next = s->buckets[b];
    s->buckets[b] = e;
    s->count++;
    pthread_mutex_unlock(&s->lock);
    return 1;
}

static bool rset_has(const char *jti)
{
    uint64_t h = hash_str(jti);
    struct rshard *s = &S.rshards[h % NSHARDS];
    bool found = false;
    pthread_mutex_lock(&s->lock);
    if (s->buckets) {
        for (struct rentry *e = s->buckets[(h / NSHARDS) % s->nbuckets]; e; e = e->next) {
            if (strcmp(e->jti, jti) == 0) {
                found = true;
                break;
            }
        }
    }
    pthread_mutex_unlock(&s->lock);
    return found;
}

/* Drop entries whose token has expired (they can no longer pass sp_jwt_verify anyway). */
static void rset_purge(int64_t now)
{
    for (int i = 0; i < NSHARDS; i++) {
        struct rshard *s = &S.rshards[i];
        pthread_mutex_lock(&s->lock);
        for (size_t b = 0; b < s->nbuckets; b++) {
            struct rentry **pp = &s->buckets[b];
            while (*pp) {
                struct rentry *e = *pp;
                if (e->exp <= now) {
                    *pp = e->next;
                    sp_free(e);
                    s->count--;
                } else {
                    pp = &e->next;
                }
            }
        }
        pthread_mutex_unlock(&s->lock);
    }
}

static void load_one(void *arg, const char *jti, int64_t exp)
{
    SP_UNUSED(arg);
    if (strlen(jti) <= SP_JWT_MAX_JTI)
        rset_add(jti, exp);
}

int sp_auth_init(struct sp_app *app, struct sp_err *e)
{
    SP_UNUSED(app);
    if (atomic_load_explicit(&S.ready, memory_order_acquire))
        return SP_OK;
    pthread_mutex_lock(&S.init_lock);
    int rc = SP_OK;
    if (atomic_load_explicit(&S.ready, memory_order_relaxed))
        goto out;
    for (int i = 0; i < NSHARDS; i++) {
        pthread_mutex_init(&S.pshards[i].lock, NULL);
        pthread_mutex_init(&S.rshards[i].lock, NULL);
        S.rshards[i].nbuckets = 64;
        S.rshards[i].buckets = sp_calloc(S.rshards[i].nbuckets, sizeof(struct rentry *));
    }
    int64_t now = sp_time_now();
    struct sp_db *db = sp_db_thread();
    if (!db) {
        sp_err_set(e, "", "database unavailable");
        rc = SP_ERR;
        goto fail;
    }
    (void)sp_store_token_purge(db, now, NULL);
    if (sp_store_token_each(db, now, load_one, NULL) != SP_OK) {
        sp_err_set(e, "", "could not load the token blocklist");
        rc = SP_ERR;
        goto fail;
    }
    atomic_store(&S.next_purge, now + PURGE_INTERVAL);
    atomic_store_explicit(&S.ready, 1, memory_order_release);
    goto out;
fail:
    rset_purge(INT64_MAX);
    for (int i = 0; i < NSHARDS; i++) {
        sp_free(S.rshards[i].buckets);
        S.rshards[i].buckets = NULL;
        S.rshards[i].nbuckets = 0;
        S.rshards[i].count = 0;
        pthread_mutex_destroy(&S.pshards[i].lock);
        pthread_mutex_destroy(&S.rshards[i].lock);
    }
out:
    pthread_mutex_unlock(&S.init_lock);
    return rc;
}

void sp_auth_shutdown(void)
{
    pthread_mutex_lock(&S.init_lock);
    if (atomic_load(&S.ready)) {
        rset_purge(INT64_MAX);
        for (int i = 0; i < NSHARDS; i++) {
            struct pshard *ps = &S.pshards[i];
            for (int b = 0; b < PCACHE_BUCKETS; b++) {
                struct pentry *p = ps->buckets[b];
                while (p) {
                    struct pentry *next = p->next;
                    sp_free(p);
                    p = next;
                }
                ps->buckets[b] = NULL;
            }
            ps->count = 0;
            sp_free(S.rshards[i].buckets);
            S.rshards[i].buckets = NULL;
            S.rshards[i].nbuckets = 0;
            S.rshards[i].count = 0;
            pthread_mutex_destroy(&ps->lock);
            pthread_mutex_destroy(&S.rshards[i].lock);
        }
        atomic_store(&S.ready, 0);
    }
    pthread_mutex_unlock(&S.init_lock);

    pthread_mutex_lock(&S.limit_lock);
    for (int b = 0; b < LIMIT_BUCKETS; b++) {
        struct lentry *l = S.limit[b];
        while (l) {
            struct lentry *next = l->next;
            sp_free(l);
            l = next;
        }
        S.limit[b] = NULL;
    }
    S.nlimit = 0;
    pthread_mutex_unlock(&S.limit_lock);
}

/* Make sure the tables exist (lazy start when nobody called sp_auth_init). */
static int ensure_ready(struct sp_app *app, struct sp_err *e)
{
    if (atomic_load_explicit(&S.ready, memory_order_acquire))
        return SP_OK;
    return sp_auth_init(app, e);
}

bool sp_auth_is_revoked(const char *jti)
{
    if (!jti || !atomic_load_explicit(&S.ready, memory_order_acquire))
        return false;
    return rset_has(jti);
}

/* Purge expired revocations from memory and from the table, at most every PURGE_INTERVAL. */
static void maybe_purge(struct sp_db *db, int64_t now)
{
    long long due = atomic_load(&S.next_purge);
    if (now < due || !atomic_compare_exchange_strong(&S.next_purge, &due, now + PURGE_INTERVAL))
        return;
    rset_purge(now);
    int64_t n = 0;
    if (db && sp_store_token_purge(db, now, &n) == SP_OK && n > 0)
        sp_debug("token blocklist purged", "%lld expired entries", (long long)n);
}

int sp_auth_revoke(struct sp_app *app, const char *jti, int64_t exp)
{
    struct sp_err e;
    if (!jti || !*jti || strlen(jti) > SP_JWT_MAX_JTI)
        return SP_INVALID;
    if (ensure_ready(app, &e) != SP_OK)
        return SP_ERR;
    int64_t now = sp_time_now();
    if (exp <= now)
        return SP_OK; /* already dead: nothing to remember */
    int added = rset_add(jti, exp);
    struct sp_db *db = sp_db_thread();
    if (!db)
        return SP_ERR;
    int rc = sp_store_token_revoke(db, jti, exp);
    maybe_purge(db, now);
    if (rc == SP_CONFLICT)
        return SP_CONFLICT; /* listed already (maybe by another instance) */
    if (rc != SP_OK) {
        sp_error("token revoke failed", "jti %s: %s", jti, sp_rc_name(rc));
        return SP_ERR;
    }
    return added ? SP_OK : SP_CONFLICT;
}

/* ------------------------------------------------------------------------------------------ */
/* principals */

static uint64_t gen_of(struct sp_app *app, int g)
{
    return app && app->cache ? sp_cache_gen(app->cache, g) : 0;
}

/* Copy the cached entry for id into *out when fresh for these generations. */
static bool pcache_get(int64_t id, uint64_t gu, uint64_t gr, int64_t now, struct pentry *out)
{
    uint64_t h = hash_id(id);
    struct pshard *s = &S.pshards[h % NSHARDS];
    bool hit = false;
    pthread_mutex_lock(&s->lock);
    for (struct pentry *p = s->buckets[(h / NSHARDS) % PCACHE_BUCKETS]; p; p = p->next) {
        if (p->user_id == id) {
            if (p->gen_users == gu && p->gen_roles == gr && now - p->loaded_at < PCACHE_TTL &&
                now >= p->loaded_at) {
                *out = *p;
                hit = true;
            }
            break;
        }
    }
    pthread_mutex_unlock(&s->lock);
    return hit;
}

static void pcache_put(const struct pentry *in)
{
    uint64_t h = hash_id(in->user_id);
    struct pshard *s = &S.pshards[h % NSHARDS];
    size_t b = (h / NSHARDS) % PCACHE_BUCKETS;
    pthread_mutex_lock(&s->lock);
    for (struct pentry *p = s->buckets[b]; p; p = p->next) {
        if (p->user_id == in->user_id) {
            struct pentry *next = p->next;
            *p = *in;
            p->next = next;
            pthread_mutex_unlock(&s->lock);
            return;
        }
    }
    if (s->count >= PCACHE_SHARD_MAX) {
        for (int i = 0; i < PCACHE_BUCKETS; i++) {
            struct pentry *p = s->buckets[i];
            while (p) {
                struct pentry *next = p->next;
                sp_free(p);
                p = next;
            }
            s->buckets[i] = NULL;
        }
        s->count = 0;
    }
    struct pentry *p = sp_malloc(sizeof *p);
    *p = *in;
    p->next = s->buckets[b];
    s->buckets[b] = p;
    s->count++;
    pthread_mutex_unlock(&s->lock);
}

void sp_auth_forget_user(int64_t user_id)
{
    if (!atomic_load_explicit(&S.ready, memory_order_acquire))
        return;
    uint64_t h = hash_id(user_id);
    struct pshard *s = &S.pshards[h % NSHARDS];
    pthread_mutex_lock(&s->lock);
    struct pentry **pp = &s->buckets[(h / NSHARDS) % PCACHE_BUCKETS];
    while (*pp) {
        if ((*pp)->user_id == user_id) {
            struct pentry *p = *pp;
            *pp = p->next;
            sp_free(p);
            s->count--;
            break;
        }
        pp = &(*pp)->next;
    }
    pthread_mutex_unlock(&s->lock);
}

/* The principal facts of user id: from the cache, or loaded (two short queries) and cached. */
static int principal_lookup(struct sp_app *app, int64_t id, struct pentry *out)
{
    int64_t now = sp_time_now();
    /* Read the generations before loading: a bump during the load leaves the entry stale. */
    uint64_t gu = gen_of(app, SP_GEN_USERS), gr = gen_of(app, SP_GEN_ROLES);
    if (pcache_get(id, gu, gr, now, out))
        return SP_OK;
    struct sp_db *db = sp_db_thread();
    if (!db)
        return SP_ERR;
    struct pentry p;
    memset(&p, 0, sizeof p);
    p.user_id = id;
    p.gen_users = gu;
    p.gen_roles = gr;
    p.loaded_at = now;
    struct sp_user *u = sp_malloc(sizeof *u);
    int rc = sp_store_user_get(db, id, u);
    if (rc == SP_OK) {
        p.exists = true;
        p.active = u->active;
        p.epoch = u->token_epoch;
        snprintf(p.username, sizeof p.username, "%s", u->username);
        rc = sp_store_user_perms(db, id, &p.perms, &p.is_admin);
    } else if (rc == SP_NOTFOUND) {
        rc = SP_OK; /* cached as absent: a deleted user's tokens cost no SQL either */
    }
    sp_free(u);
    if (rc != SP_OK)
        return rc;
    pcache_put(&p);
    *out = p;
    return SP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* issuing */

static void random_jti(char out[33])
{
    unsigned char r[16];
    if (RAND_bytes(r, sizeof r) != 1) {
        /* The CSPRNG failing is not recoverable: a guessable jti is worse than stopping. */
        sp_error("RAND_bytes failed", "cannot create a token id");
        abort();
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[32] = '\0';
}

static char *make_token(struct sp_app *app, int64_t user_id, int64_t epoch, const char *type,
                        int64_t now, int ttl)
{
    char sub[24], jti[33];
    snprintf(sub, sizeof sub, "%lld", (long long)user_id);
    random_jti(jti);
    json_t *c = json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "sub", sub, "jti", jti, "type",
                          type, "iat", (json_int_t)now, "nbf", (json_int_t)now, "exp",
                          (json_int_t)(now + ttl), "te", (json_int_t)epoch);
    if (!c)
        return NULL;
    char *tok = sp_jwt_sign(app->jwt_key, sizeof app->jwt_key, c);
    json_decref(c);
    return tok;
}

int sp_auth_issue(struct sp_app *app, const struct sp_user *u, json_t **out)
{
    *out = NULL;
    int64_t now = sp_time_now();
    char *access = make_token(app, u->id, u->token_epoch, "access", now, app->cfg.access_ttl);
    char *refresh = make_token(app, u->id, u->token_epoch, "refresh", now, app->cfg.refresh_ttl);
    int rc = SP_ERR;
    if (access && refresh) {
        *out = json_pack("{s:s, s:s, s:s, s:i}", "access_token", access, "refresh_token", refresh,
                         "token_type", "Bearer", "expires_in", app->cfg.access_ttl);
        rc = *out ? SP_OK : SP_ERR;
    }
    sp_free(access);
    sp_free(refresh);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* verifying */

/* "123" → 123; only canonical positive decimal ids. */
static int parse_sub(const char *s, int64_t *id)
{
    size_t n = strlen(s);
    if (n == 0 || n > 18 || s[0] == '0')
        return -1;
    int64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *id = v;
    return 0;
}

/* Everything but the principal facts: signature, claims, type, revocation. Fills t. */
static int verify_claims(struct sp_app *app, const char *token, const char *type,
                         struct sp_token_info *t, struct sp_err *e)
{
    json_t *c = NULL;
    int rc = sp_jwt_verify(app->jwt_key, sizeof app->jwt_key, token, sp_time_now(), &c, e);
    if (rc != SP_OK)
        return rc;
    const char *typ = json_string_value(json_object_get(c, "type"));
    const char *sub = json_string_value(json_object_get(c, "sub"));
    const char *jti = json_string_value(json_object_get(c, "jti"));
    const json_t *te = json_object_get(c, "te");
    rc = SP_INVALID;
    if (strcmp(typ, type) != 0) {
        sp_err_set(e, "", "wrong token type: %s token required",
                   strcmp(type, "access") == 0 ? "an access" : "a refresh");
        goto out;
    }
    if (parse_sub(sub, &t->user_id) != 0 || !json_is_integer(te)) {
        sp_err_set(e, "", "token is missing required claims");
        goto out;
    }
    snprintf(t->jti, sizeof t->jti, "%s", jti);
    t->exp = json_integer_value(json_object_get(c, "exp"));
    t->epoch = json_integer_value(te);
    if (rset_has(t->jti)) {
        sp_err_set(e, "", "token has been revoked");
        goto out;
    }
    rc = SP_OK;
out:
    json_decref(c);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* verified-token cache
 * Checking an access token's signature and decoding its claims (HMAC-SHA256, two jansson parses,
 * about twenty mallocs: ~50,000 instructions) was two thirds of the CPU of a cached GET. Each
 * thread keeps the access tokens it verified last with the claims it read from them. A hit skips
 * only what is a pure function of (token, key); expiry and revocation are checked again below,
 * and the user checks (exists, active, token epoch) run on every request as before. (nbf needs no
 * second look: a token valid once stays valid as time goes forward, until exp.) */

#define TCACHE_SLOTS 64
#define TCACHE_TOKEN_MAX 383 /* ours are ~250 characters; longer ones are not cached */

struct tentry {
    size_t len; /* 0 = free */
    unsigned char key[sizeof(((struct sp_app *)0)->jwt_key)];
    struct sp_token_info t;
    char token[TCACHE_TOKEN_MAX + 1];
};

static pthread_key_t tcache_key;
static pthread_once_t tcache_once = PTHREAD_ONCE_INIT;
static _Thread_local struct tentry *tcache;

static void tcache_key_create(void)
{
    pthread_key_create(&tcache_key, sp_free);
}

/* The slot of a token: its last characters are the signature's, evenly spread. */
static struct tentry *tcache_slot(const char *token, size_t len)
{
    if (len > TCACHE_TOKEN_MAX || len < 16)
        return NULL;
    if (!tcache) {
        pthread_once(&tcache_once, tcache_key_create);
        tcache = sp_calloc(TCACHE_SLOTS, sizeof *tcache);
        pthread_setspecific(tcache_key, tcache);
    }
    uint64_t h = 1469598103934665603ULL;
    for (const char *c = token + len - 16; *c; c++) {
        h ^= (unsigned char)*c;
        h *= 1099511628211ULL;
    }
    return &tcache[h % TCACHE_SLOTS];
}

/* Claims of an access token this thread verified under app's key, or false. */
static bool tcache_get(struct sp_app *app, const char *token, size_t len, struct sp_token_info *t)
{
    struct tentry *e = tcache_slot(token, len);
    if (!e || e->len != len || memcmp(e->token, token, len) != 0 ||
        memcmp(e->key, app->jwt_key, sizeof e->key) != 0)
        return false;
    *t = e->t;
    return true;
}

static void tcache_put(struct sp_app *app, const char *token, size_t len,
                       const struct sp_token_info *t)
{
    struct tentry *e = tcache_slot(token, len);
    if (!e)
        return;
    memcpy(e->token, token, len);
    e->token[len] = '\0';
    e->len = len;
    memcpy(e->key, app->jwt_key, sizeof e->key);
    e->t = *t;
}

/* Check the user behind t still exists, is active and has not revoked its tokens since. */
static int check_user(struct sp_app *app, const struct sp_token_info *t, struct pentry *p,
                      struct sp_err *e)
{
    int rc = principal_lookup(app, t->user_id, p);
    if (rc != SP_OK) {
        sp_err_set(e, "", "could not load the user");
        return rc == SP_AGAIN ? SP_AGAIN : SP_ERR;
    }
    if (!p->exists) {
        sp_err_set(e, "", "user no longer exists");
        return SP_INVALID;
    }
    if (!p->active) {
        sp_err_set(e, "", "account is disabled");
        return SP_INVALID;
    }
    if (p->epoch != t->epoch) {
        sp_err_set(e, "", "token has been revoked");
        return SP_INVALID;
    }
    return SP_OK;
}

int sp_auth_verify_token(struct sp_app *app, const char *token, const char *type,
                         struct sp_token_info *t, struct sp_err *e)
{
    memset(t, 0, sizeof *t);
    int rc = ensure_ready(app, e);
    if (rc != SP_OK)
        return rc;
    rc = verify_claims(app, token, type, t, e);
    if (rc != SP_OK)
        return rc;
    struct pentry p;
    return check_user(app, t, &p, e);
}

/* The token of "Bearer <token>" (scheme case-insensitive, surrounding blanks ignored), copied
 * into buf; NULL when the header is absent or of another scheme. */
static const char *bearer_token(const char *h, char *buf, size_t buflen)
{
    if (!h)
        return NULL;
    while (*h == ' ' || *h == '\t')
        h++;
    if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return NULL;
    h += 6;
    while (*h == ' ' || *h == '\t')
        h++;
    size_t n = strlen(h);
    while (n > 0 && (h[n - 1] == ' ' || h[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= buflen)
        return NULL;
    memcpy(buf, h, n);
    buf[n] = '\0';
    return buf;
}

int sp_auth_verify_refresh(struct sp_app *app, const char *authorization, struct sp_token_info *t,
                           struct sp_err *e)
{
    char buf[SP_JWT_MAX_LEN + 1];
    const char *tok = bearer_token(authorization, buf, sizeof buf);
    if (!tok) {
        memset(t, 0, sizeof *t);
        sp_err_set(e, "",
                   authorization ? "Authorization must be \"Bearer <refresh token>\""
                                 : "missing refresh token (Authorization: Bearer ...)");
        return SP_INVALID;
    }
    return sp_auth_verify_token(app, tok, "refresh", t, e);
}

int sp_auth_authenticate(struct sp_app *app, const char *authorization, struct sp_principal *p,
                         struct sp_err *e)
{
    memset(p, 0, sizeof *p);
    char buf[SP_JWT_MAX_LEN + 1];
    const char *tok = bearer_token(authorization, buf, sizeof buf);
    if (!tok) {
        sp_err_set(e, "",
                   authorization ? "Authorization must be \"Bearer <token>\""
                                 : "authentication required");
        return SP_INVALID;
    }
    int rc = ensure_ready(app, e);
    if (rc != SP_OK)
        return rc;
    struct sp_token_info t;
    memset(&t, 0, sizeof t);
    size_t len = strlen(tok);
    if (tcache_get(app, tok, len, &t) && t.exp > sp_time_now()) {
        if (rset_has(t.jti)) {
            sp_err_set(e, "", "token has been revoked");
            return SP_INVALID;
        }
    } else {
        rc = verify_claims(app, tok, "access", &t, e);
        if (rc != SP_OK)
            return rc;
        tcache_put(app, tok, len, &t);
    }
    struct pentry pe;
    rc = check_user(app, &t, &pe, e);
    if (rc != SP_OK)
        return rc;
    p->user_id = t.user_id;
    snprintf(p->username, sizeof p->username, "%s", pe.username);
    p->perms = pe.perms;
    p->is_admin = pe.is_admin;
    snprintf(p->jti, sizeof p->jti, "%s", t.jti);
    p->token_exp = t.exp;
    return SP_OK;
}

/* ------------------------------------------------------------------------------------------ */
/* failed-login limiter */

/* Key "ip\nusername" (username lowercased: names are case-insensitive); ip NULL → per name. */
static char *limit_key(const char *ip, const char *username)
{
    char *k = sp_asprintf("%s\n%s", ip ? ip : "*", username ? username : "");
    for (char *c = k; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    return k;
}

static struct lentry **limit_find(const char *key)
{
    struct lentry **pp = &S.limit[hash_str(key) % LIMIT_BUCKETS];
    while (*pp && strcmp((*pp)->key, key) != 0)
        pp = &(*pp)->next;
    return pp;
}

/* Seconds until key may try again (0 = now). Caller holds limit_lock. */
static int limit_wait(const char *key, int64_t now)
{
    struct lentry *l = *limit_find(key);
    if (!l || now - l->window_start >= SP_LOGIN_WINDOW || l->failures < SP_LOGIN_MAX_FAILURES)
        return 0;
    int64_t w = l->window_start + SP_LOGIN_WINDOW - now;
    return w < 1 ? 1 : (int)w;
}

int sp_auth_login_blocked(const char *ip, const char *username, int64_t now)
{
    char *k1 = limit_key(ip, username), *k2 = limit_key(NULL, username);
    pthread_mutex_lock(&S.limit_lock);
    int a = limit_wait(k1, now), b = limit_wait(k2, now);
    pthread_mutex_unlock(&S.limit_lock);
    sp_free(k1);
    sp_free(k2);
    return a > b ? a : b;
}

/* Drop windows that are over (caller holds limit_lock). */
static void limit_sweep(int64_t now)
{
    for (int b = 0; b < LIMIT_BUCKETS; b++) {
        struct lentry **pp = &S.limit[b];
        while (*pp) {
            struct lentry *l = *pp;
            if (now - l->window_start >= SP_LOGIN_WINDOW) {
                *pp = l->next;
                sp_free(l);
                S.nlimit--;
            } else {
                pp = &l->next;
            }
        }
    }
}

static void limit_count(const char *key, int64_t now)
{
    struct lentry **pp = limit_find(key);
    struct lentry *l = *pp;
    if (!l) {
        if (S.nlimit >= LIMIT_MAX)
            limit_sweep(now);
        if (S.nlimit >= LIMIT_MAX)
            return; /* under a spray of names, stop tracking new ones rather than grow */
        size_t n = strlen(key) + 1;
        l = sp_calloc(1, sizeof *l + n);
        memcpy(l->key, key, n);
        l->window_start = now;
        l->next = S.limit[hash_str(key) % LIMIT_BUCKETS];
        S.limit[hash_str(key) % LIMIT_BUCKETS] = l;
        S.nlimit++;
    } else if (now - l->window_start >= SP_LOGIN_WINDOW) {
        l->window_start = now;
        l->failures = 0;
    }
    l->failures++;
}

void sp_auth_login_failed(const char *ip, const char *username, int64_t now)
{
    char *k1 = limit_key(ip, username), *k2 = limit_key(NULL, username);
    pthread_mutex_lock(&S.limit_lock);
    limit_count(k1, now);
    limit_count(k2, now);
    pthread_mutex_unlock(&S.limit_lock);
    sp_free(k1);
    sp_free(k2);
}

void sp_auth_login_succeeded(const char *ip, const char *username)
{
    char *keys[2] = {limit_key(ip, username), limit_key(NULL, username)};
    pthread_mutex_lock(&S.limit_lock);
    for (int i = 0; i < 2; i++) {
        struct lentry **pp = limit_find(keys[i]);
        if (*pp) {
            struct lentry *l = *pp;
            *pp = l->next;
            sp_free(l);
            S.nlimit--;
        }
    }
    pthread_mutex_unlock(&S.limit_lock);
    sp_free(keys[0]);
    sp_free(keys[1]);
}
