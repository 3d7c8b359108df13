/*
 * memory.c — the in-process response cache: 16 shards, each a chained hash table plus an LRU
 * list under its own mutex, with a byte budget per shard and a TTL per entry; expired entries
 * are dropped when met and, from the least recently used end, when new ones are put. Generation
 * counters are plain atomics.
 */
#include "cache/cache.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <string.h>

#include "util/alloc.h"
#include "util/time.h"

#define NSHARDS 16
#define ENTRY_OVERHEAD 96 /* entry struct + key header + shared header, roughly */
#define SWEEP_PER_PUT 16  /* expired entries removed from the LRU end on each put, at most */

struct entry {
    struct entry *hnext;          /* hash chain */
    struct entry *prev, *next;    /* LRU: head = most recent */
    uint64_t hash;
    int64_t expires_ms;
    size_t cost;
    struct sp_shared_bytes *b;
    char key[];                   /* NUL-terminated */
};

struct shard {
    pthread_mutex_t mu;
    struct entry **buckets;
    size_t nbuckets; /* power of two */
    size_t count;
    size_t bytes;
    struct entry *head, *tail;
};

struct sp_cache {
    struct shard shards[NSHARDS];
    size_t shard_budget;
    int64_t (*now_ms)(void *arg);
    void *clock_arg;
    atomic_uint_fast64_t hits, misses;
    atomic_uint_fast64_t gens[SP_GEN_COUNT];
};

static int64_t mono_ms(void *arg)
{
    (void)arg;
    return sp_time_mono_ns() / 1000000;
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = UINT64_C(1469598103934665603);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(1099511628211);
    }
    /* FNV-1a leaves its top bits unmoved by the last characters, and the top bits pick the
     * shard: keys that differ only at the end ("…:g41", "…:g42") all landed in one shard.
     * A final avalanche (MurmurHash3's fmix64) spreads them. */
    h ^= h >> 33;
    h *= UINT64_C(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h *= UINT64_C(0xc4ceb9fe1a85ec53);
    h ^= h >> 33;
    return h;
}

struct sp_cache *sp_cache_new(size_t max_bytes)
{
    struct sp_cache *c = sp_calloc(1, sizeof *c);
    c->shard_budget = max_bytes / NSHARDS;
    c->now_ms = mono_ms;
    for (int i = 0; i < NSHARDS; i++) {
        pthread_mutex_init(&c->shards[i].mu, NULL);
        c->shards[i].nbuckets = 256;
        c->shards[i].buckets = sp_calloc(256, sizeof(struct entry *));
    }
    for (int i = 0; i < SP_GEN_COUNT; i++)
        atomic_init(&c->gens[i], 1);
    return c;
}

void sp_cache_free(struct sp_cache *c)
{
    if (!c)
        return;
    for (int i = 0; i < NSHARDS; i++) {
        struct shard *s = &c->shards[i];
        struct entry *e = s->head;
        while (e) {
            struct entry *n = e->next;
            sp_shared_unref(e->b);
            sp_free(e);
            e = n;
        }
        sp_free(s->buckets);
        pthread_mutex_destroy(&s->mu);
    }
    sp_free(c);
}

void sp_cache_set_clock(struct sp_cache *c, int64_t (*now_ms)(void *arg), void *arg)
{
    c->now_ms = now_ms ? now_ms : mono_ms;
    c->clock_arg = arg;
}

static struct shard *shard_for(struct sp_cache *c, uint64_t h)
{
    return &c->shards[h >> 60]; /* top 4 bits pick the shard, low bits the bucket */
}

static void lru_unlink(struct shard *s, struct entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        s->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        s->tail = e->prev;
    e->prev = e->next = NULL;
}

static void lru_push_front(struct shard *s, struct entry *e)
{
    e->prev = NULL;
    e->next = s->head;
    if (s->head)
        s->head->prev = e;
    s->head = e;
    if (!s->tail)
        s->tail = e;
}

static struct entry **find_slot(struct shard *s, uint64_t h, const char *key)
{
    struct entry **pp = &s->buckets[h & (s->nbuckets - 1)];
    while (*pp && !((*pp)->hash == h && strcmp((*pp)->key, key) == 0))
        pp = &(*pp)->hnext;
    return pp;
}

/* Unlink e from its chain and the LRU, release its bytes, free it. Shard locked. */
static void remove_entry(struct shard *s, struct entry *e)
{
    struct entry **pp = find_slot(s, e->hash, e->key);
    if (*pp == e)
        *pp = e->hnext;
    lru_unlink(s, e);
    s->count--;
    s->bytes -= e->cost;
    sp_shared_unref(e->b);
    sp_free(e);
}

static void grow(struct shard *s)
{
    size_t n = s->nbuckets * 2;
    struct entry **nb = sp_calloc(n, sizeof *nb);
    for (size_t i = 0; i < s->nbuckets; i++) {
        struct entry *e = s->buckets[i];
        while (e) {
            struct entry *next = e->hnext;
            size_t j = e->hash & (n - 1);
            e->hnext = nb[j];
            nb[j] = e;
            e = next;
        }
    }
    sp_free(s->buckets);
    s->buckets = nb;
    s->nbuckets = n;
}

static struct sp_shared_bytes *lookup(struct sp_cache *c, const char *key, bool count)
{
    if (!c || !key)
        return NULL;
    uint64_t h = hash_key(key);
    struct shard *s = shard_for(c, h);
    struct sp_shared_bytes *b = NULL;
    int64_t now = c->now_ms(c->clock_arg);
    pthread_mutex_lock(&s->mu);
    struct entry *e = *find_slot(s, h, key);
    if (e) {
        if (e->expires_ms <= now) {
            remove_entry(s, e);
        } else {
            lru_unlink(s, e);
            lru_push_front(s, e);
            b = e->b;
            sp_shared_ref(b);
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (count)
        atomic_fetch_add_explicit(b ? &c->hits : &c->misses, 1, memory_order_relaxed);
    return b;
}

struct sp_shared_bytes *sp_cache_get(struct sp_cache *c, const char *key)
{
    return lookup(c, key, true);
}

struct sp_shared_bytes *sp_cache_probe(struct sp_cache *c, const char *key)
{
    return lookup(c, key, false);
}

void sp_cache_put(struct sp_cache *c, const char *key, struct sp_shared_bytes *b, int ttl)
{
    if (!c || !key || !b || ttl <= 0)
        return;
    size_t klen = strlen(key);
    size_t cost = klen + b->len + ENTRY_OVERHEAD;
    if (cost > c->shard_budget)
        return; /* would evict a whole shard for one entry */
    uint64_t h = hash_key(key);
    struct shard *s = shard_for(c, h);
    struct entry *ne = sp_malloc(sizeof *ne + klen + 1);
    memset(ne, 0, sizeof *ne);
    memcpy(ne->key, key, klen + 1);
    ne->hash = h;
    ne->cost = cost;
    ne->b = b;
    sp_shared_ref(b);
    int64_t now = c->now_ms(c->clock_arg);
    ne->expires_ms = now + (int64_t)ttl * 1000;

    pthread_mutex_lock(&s->mu);
    struct entry *old = *find_slot(s, h, key);
    if (old)
        remove_entry(s, old);
    /* Expired entries leave as new ones arrive. Answers nobody asks for again (those of an older
     * generation, pages and searches read once) drift to the least recently used end, so
     * without this the cache filled its whole budget: the server's memory grew by that much
     * over an hour of load. A few per put keep up, as each put adds only one. */
    for (int i = 0; i < SWEEP_PER_PUT && s->tail && s->tail->expires_ms <= now; i++)
        remove_entry(s, s->tail);
    /* evict least recently used */
    while (s->tail && s->bytes + cost > c->shard_budget)
        remove_entry(s, s->tail);
    if (s->count + 1 > s->nbuckets)
        grow(s);
    struct entry **slot = &s->buckets[h & (s->nbuckets - 1)];
    ne->hnext = *slot;
    *slot = ne;
    lru_push_front(s, ne);
    s->count++;
    s->bytes += cost;
    pthread_mutex_unlock(&s->mu);
}

uint64_t sp_cache_gen(struct sp_cache *c, int gen)
{
    if (!c || gen < 0 || gen >= SP_GEN_COUNT)
        return 0;
    return atomic_load_explicit(&c->gens[gen], memory_order_acquire);
}

void sp_cache_bump(struct sp_cache *c, int gen)
{
    if (!c || gen < 0 || gen >= SP_GEN_COUNT)
        return;
    atomic_fetch_add_explicit(&c->gens[gen], 1, memory_order_acq_rel);
}

void sp_cache_stats(struct sp_cache *c, uint64_t *hits, uint64_t *misses)
{
    if (hits)
        *hits = c ? atomic_load_explicit(&c->hits, memory_order_relaxed) : 0;
    if (misses)
        *misses = c ? atomic_load_explicit(&c->misses, memory_order_relaxed) : 0;
}

void sp_cache_usage(struct sp_cache *c, size_t *entries, size_t *bytes)
{
    size_t n = 0, by = 0;
    for (int i = 0; c && i < NSHARDS; i++) {
        pthread_mutex_lock(&c->shards[i].mu);
        n += c->shards[i].count;
        by += c->shards[i].bytes;
        pthread_mutex_unlock(&c->shards[i].mu);
    }
    if (entries)
        *entries = n;
    if (bytes)
        *bytes = by;
}
