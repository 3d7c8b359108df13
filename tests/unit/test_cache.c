/*
 * test_cache.c — the in-process response cache: get/put, TTL expiry on an injected clock,
 * replacement, LRU eviction within the byte budget, oversized entries, generation counters,
 * hit/miss counters, references that outlive eviction, and concurrent use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache/cache.h"
#include "http/http.h"

struct clock {
    int64_t now_ms;
};

static int64_t fake_now(void *arg)
{
    return ((struct clock *)arg)->now_ms;
}

static struct sp_shared_bytes *bytes(const char *s)
{
    return sp_shared_new("application/json", s, strlen(s));
}

/* put and drop our own reference (the cache keeps one) */
static void put(struct sp_cache *c, const char *key, const char *val, int ttl)
{
    struct sp_shared_bytes *b = bytes(val);
    sp_cache_put(c, key, b, ttl);
    sp_shared_unref(b);
}

static int has(struct sp_cache *c, const char *key)
{
    struct sp_shared_bytes *b = sp_cache_get(c, key);
    if (!b)
        return 0;
    sp_shared_unref(b);
    return 1;
}

static void get_put(void **state)
{
    (void)state;
    struct sp_cache *c = sp_cache_new(1 << 20);
    assert_null(sp_cache_get(c, "k"));
    put(c, "k", "{\"a\":1}", 30);
    struct sp_shared_bytes *b = sp_cache_get(c, "k");
    assert_non_null(b);
    assert_int_equal(b->len, 7);
    assert_memory_equal(b->data, "{\"a\":1}", 7);
    assert_string_equal(b->ctype, "application/json");
    sp_shared_unref(b);

    /* replacing a key serves the new bytes */
    put(c, "k", "{\"a\":2}", 30);
    b = sp_cache_get(c, "k");
    assert_memory_equal(b->data, "{\"a\":2}", 7);
    sp_shared_unref(b);
    size_t entries = 0, used = 0;
    sp_cache_usage(c, &entries, &used);
    assert_int_equal(entries, 1);
    assert_true(used >= 8);

    /* ttl <= 0 and NULL inputs store nothing and never crash */
    put(c, "zero", "x", 0);
    assert_false(has(c, "zero"));
    sp_cache_put(c, NULL, NULL, 10);
    assert_null(sp_cache_get(c, NULL));
    assert_null(sp_cache_get(NULL, "k"));

    uint64_t hits = 0, misses = 0;
    sp_cache_stats(c, &hits, &misses);
    assert_int_equal(hits, 2);
    assert_int_equal(misses, 2); /* "k" before the put, "zero" */
    sp_cache_free(c);
}

static void ttl_expiry(void **state)
{
    (void)state;
    struct clock clk = {1000000};
    struct sp_cache *c = sp_cache_new(1 << 20);
    sp_cache_set_clock(c, fake_now, &clk);
    put(c, "short", "s", 5);
    put(c, "long", "l", 60);
    clk.now_ms += 4999;
    assert_true(has(c, "short"));
    clk.now_ms += 1;
    assert_false(has(c, "short")); /* exactly at the deadline it is gone */
    assert_true(has(c, "long"));
    clk.now_ms += 55000;
    assert_false(has(c, "long"));
    size_t entries = 9;
    sp_cache_usage(c, &entries, NULL);
    assert_int_equal(entries, 0); /* expired entries are removed when met */
    sp_cache_free(c);
}

/* Entries nobody reads again (an older generation's answers) do not stay until the budget is
 * full: once expired they leave as new entries are put. */
static void expired_entries_leave_on_put(void **state)
{
    (void)state;
    struct clock clk = {1000000};
    struct sp_cache *c = sp_cache_new(64u << 20);
    sp_cache_set_clock(c, fake_now, &clk);
    char key[64];
    for (int i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "releases:p1:g%d", i); /* each generation's key, read once */
        put(c, key, "a list page", 30);
        clk.now_ms += 100; /* ten puts a second */
    }
    size_t entries = 0, used = 0;
    sp_cache_usage(c, &entries, &used);
    /* 30 s at ten puts a second: ~300 live entries (a shard sweeps when a put lands in it, so a
     * few expired ones may wait for the next), not the 1,000 put. These keys differ only in
     * their last characters: this also fails when they do not spread over the shards. */
    assert_true(entries >= 290 && entries <= 330);
    assert_true(has(c, "releases:p1:g999"));
    assert_false(has(c, "releases:p1:g0"));

    /* an entry still read stays while it lives, wherever it sits */
    put(c, "hot", "read often", 60);
    for (int i = 0; i < 500; i++) {
        snprintf(key, sizeof key, "search:%d", i);
        put(c, key, "results", 30);
        clk.now_ms += 100;
        if (i % 10 == 0)
            assert_true(has(c, "hot"));
    }
    clk.now_ms += 60000; /* everything has expired; nothing is put: nothing is swept */
    size_t before = 0;
    sp_cache_usage(c, &before, NULL);
    assert_true(before > 200);
    put(c, "new", "x", 30); /* sweeps its shard's expired entries, up to 16 */
    sp_cache_usage(c, &entries, NULL);
    assert_true(entries < before && entries + 15 >= before);
    sp_cache_free(c);
}

static void lru_eviction(void **state)
{
    (void)state;
    const size_t budget = 64 * 1024;
    struct sp_cache *c = sp_cache_new(budget);
    char val[1024];
    memset(val, 'v', sizeof val - 1);
    val[sizeof val - 1] = '\0';
    put(c, "hot", "kept because it is used", 60);
    put(c, "cold", "never read again", 60);
    char key[32];
    for (int i = 0; i < 2000; i++) {
        snprintf(key, sizeof key, "filler-%d", i);
        put(c, key, val, 60);
        assert_true(has(c, "hot")); /* reading keeps it most recently used */
        size_t used = 0;
        sp_cache_usage(c, NULL, &used);
        assert_true(used <= budget);
    }
    assert_true(has(c, "hot"));
    assert_false(has(c, "cold"));
    assert_true(has(c, "filler-1999")); /* the newest entry is there */
    assert_false(has(c, "filler-0"));

    /* an entry larger than a shard's share of the budget is not stored */
    static char big[40000];
    memset(big, 'b', sizeof big - 1);
    put(c, "big", big, 60);
    assert_false(has(c, "big"));
    sp_cache_free(c);
}

static void reference_outlives_eviction(void **state)
{
    (void)state;
    struct clock clk = {0};
    struct sp_cache *c = sp_cache_new(1 << 20);
    sp_cache_set_clock(c, fake_now, &clk);
    put(c, "k", "payload", 1);
    struct sp_shared_bytes *b = sp_cache_get(c, "k");
    assert_non_null(b);
    clk.now_ms += 2000;
    assert_false(has(c, "k")); /* expired and dropped from the cache */
    put(c, "k", "other", 10);  /* and replaced */
    assert_memory_equal(b->data, "payload", 7); /* our reference is still valid */
    sp_shared_unref(b);
    sp_cache_free(c); /* frees what it still holds; ASan checks no leak */
}

static void generations(void **state)
{
    (void)state;
    struct sp_cache *c = sp_cache_new(1 << 20);
    uint64_t r0 = sp_cache_gen(c, SP_GEN_RELEASES), u0 = sp_cache_gen(c, SP_GEN_USERS);
    sp_cache_bump(c, SP_GEN_RELEASES);
    sp_cache_bump(c, SP_GEN_RELEASES);
    assert_int_equal(sp_cache_gen(c, SP_GEN_RELEASES), r0 + 2);
    assert_int_equal(sp_cache_gen(c, SP_GEN_USERS), u0);
    /* out-of-range generations are ignored */
    sp_cache_bump(c, SP_GEN_COUNT);
    sp_cache_bump(c, -1);
    assert_int_equal(sp_cache_gen(c, SP_GEN_COUNT), 0);

    /* the way handlers use it: the key embeds the generation */
    char key[64];
    snprintf(key, sizeof key, "releases:p1:g%llu",
             (unsigned long long)sp_cache_gen(c, SP_GEN_RELEASES));
    put(c, key, "page one", 30);
    assert_true(has(c, key));
    sp_cache_bump(c, SP_GEN_RELEASES);
    snprintf(key, sizeof key, "releases:p1:g%llu",
             (unsigned long long)sp_cache_gen(c, SP_GEN_RELEASES));
    assert_false(has(c, key)); /* a write made the old entry unreachable */
    sp_cache_free(c);
}

struct worker {
    struct sp_cache *c;
    int id;
    uint64_t gets;
};

static void *hammer(void *p)
{
    struct worker *w = p;
    char key[32], val[64];
    for (int i = 0; i < 20000; i++) {
        snprintf(key, sizeof key, "k%d", (i * 7 + w->id) % 500);
        if (i % 3 == 0) {
            snprintf(val, sizeof val, "value %d from %d", i, w->id);
            put(w->c, key, val, 60);
        } else {
            struct sp_shared_bytes *b = sp_cache_get(w->c, key);
            w->gets++;
            if (b) {
                if (strncmp(b->data, "value ", 6) != 0)
                    abort();
                sp_shared_unref(b);
            }
        }
        if (i % 1000 == 0)
            sp_cache_bump(w->c, SP_GEN_JOBS);
    }
    return NULL;
}

static void concurrent_use(void **state)
{
    (void)state;
    struct sp_cache *c = sp_cache_new(32 * 1024);
    uint64_t g0 = sp_cache_gen(c, SP_GEN_JOBS);
    pthread_t t[4];
    struct worker w[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){c, i, 0};
        assert_int_equal(pthread_create(&t[i], NULL, hammer, &w[i]), 0);
    }
    uint64_t gets = 0;
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        gets += w[i].gets;
    }
    uint64_t hits, misses;
    sp_cache_stats(c, &hits, &misses);
    assert_int_equal(hits + misses, gets);
    assert_int_equal(sp_cache_gen(c, SP_GEN_JOBS), g0 + 4 * 20);
    size_t used = 0;
    sp_cache_usage(c, NULL, &used);
    assert_true(used <= 32 * 1024);
    sp_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get_put),
        cmocka_unit_test(ttl_expiry),
        cmocka_unit_test(expired_entries_leave_on_put),
        cmocka_unit_test(lru_eviction),
        cmocka_unit_test(reference_outlives_eviction),
        cmocka_unit_test(generations),
        cmocka_unit_test(concurrent_use),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
