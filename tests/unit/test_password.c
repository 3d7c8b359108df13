/*
 * test_password.c — argon2id hashes: parameters never weaker than t=2, m=19 MiB; verification.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "util/common.h"
#include "util/pool.h"
#include "util/time.h"

static void test_hash_format(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(sp_password_hash("correct horse battery staple", hash, sizeof hash), SP_OK);
    /* argon2id, version 0x13, 19456 KiB, 2 passes, 1 lane */
    assert_int_equal(strncmp(hash, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    assert_true(strlen(hash) < sizeof hash);

    /* Salted: the same password never hashes to the same string twice. */
    char hash2[128];
    assert_int_equal(sp_password_hash("correct horse battery staple", hash2, sizeof hash2), SP_OK);
    assert_string_not_equal(hash, hash2);

    /* A buffer too small for the encoded hash is refused, not overrun. */
    char tiny[16];
    assert_int_equal(sp_password_hash("x", tiny, sizeof tiny), SP_ERR);
}

static void test_verify(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(sp_password_hash("s3cret-passw0rd", hash, sizeof hash), SP_OK);
    assert_int_equal(sp_password_verify(hash, "s3cret-passw0rd"), 1);
    assert_int_equal(sp_password_verify(hash, "s3cret-passw0rD"), 0);
    assert_int_equal(sp_password_verify(hash, "s3cret-passw0rd "), 0);
    assert_int_equal(sp_password_verify(hash, ""), 0);

    /* Unicode and empty passwords work too. */
    assert_int_equal(sp_password_hash("mot de passe \xc3\xa9t\xc3\xa9", hash, sizeof hash), SP_OK);
    assert_int_equal(sp_password_verify(hash, "mot de passe \xc3\xa9t\xc3\xa9"), 1);
    assert_int_equal(sp_password_verify(hash, "mot de passe ete"), 0);
}

static void test_garbage_hash(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(sp_password_hash("pw1234567890", hash, sizeof hash), SP_OK);
    const char *garbage[] = {
        "",
        "pw1234567890",
        "$argon2id$",
        "$argon2id$v=19$m=19456,t=2,p=1$",
        "$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA",
        "$2b$12$abcdefghijklmnopqrstuuYbVl7nHdx0/8hQhE4rXqp9Pp3k4e7e2",
        "$argon2id$v=19$m=19456,t=2,p=1$!!!!$????",
    };
    for (size_t i = 0; i < sizeof garbage / sizeof garbage[0]; i++)
        assert_int_equal(sp_password_verify(garbage[i], "pw1234567890"), 0);
    assert_int_equal(sp_password_verify(NULL, "pw1234567890"), 0);
    assert_int_equal(sp_password_verify(hash, NULL), 0);

    /* A truncated real hash fails instead of crashing. */
    hash[strlen(hash) - 5] = '\0';
    assert_int_equal(sp_password_verify(hash, "pw1234567890"), 0);

    /* The dummy verification used for unknown users never succeeds. */
    assert_int_equal(sp_password_verify_dummy("pw1234567890"), 0);
    assert_int_equal(sp_password_verify_dummy(NULL), 0);
}

/* Mappings of exactly argon2's working memory at our parameters (19456 KiB) in this process. */
static int argon2_regions(void)
{
    FILE *f = fopen("/proc/self/maps", "r");
    assert_non_null(f);
    char line[512];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx", &lo, &hi) == 2 && hi - lo == 19456UL * 1024)
            n++;
    }
    fclose(f);
    return n;
}

struct pool_check {
    const char *hash;
    int ok, wrong, regions_after;
    char made[128];
    int made_rc;
};

static void verify_task(void *arg)
{
    struct pool_check *c = arg;
    c->ok += sp_password_verify(c->hash, "kept-memory-pw");
    c->wrong += sp_password_verify(c->hash, "kept-memory-pX");
    c->regions_after = argon2_regions();
}

static void hash_task(void *arg)
{
    struct pool_check *c = arg;
    c->made_rc = sp_password_hash("made-on-a-worker", c->made, sizeof c->made);
}

/* On a kdf worker (a pool whose idle hook is sp_password_trim) argon2's memory is kept between
 * hashes and handed back when the worker ends; results are exactly those of fresh memory. Off
 * such a worker nothing is kept. */
static void test_kept_memory(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(sp_password_hash("kept-memory-pw", hash, sizeof hash), SP_OK);
    assert_int_equal(argon2_regions(), 0); /* the main thread keeps nothing */

    struct sp_pool *p = sp_pool_new("kdf-test", 1, 16);
    sp_pool_set_idle(p, sp_password_trim, 60000);
    struct pool_check c = {.hash = hash};
    for (int i = 0; i < 3; i++)
        assert_int_equal(sp_pool_submit(p, verify_task, &c), SP_OK);
    assert_int_equal(sp_pool_submit(p, hash_task, &c), SP_OK);
    while (sp_pool_depth(p) > 0)
        sched_yield();
    assert_int_equal(c.ok, 3);
    assert_int_equal(c.wrong, 0);
    assert_int_equal(c.regions_after, 1); /* kept, not one per hash */
    assert_int_equal(argon2_regions(), 1);
    assert_int_equal(sp_password_spare_bytes(), 0);
    sp_pool_free(p);
    /* the ending worker handed it on as the process's spare, wiped; freeing that unmaps it */
    assert_int_equal(argon2_regions(), 1);
    assert_int_equal(sp_password_spare_bytes(), 19456UL * 1024);
    sp_password_spare_free();
    assert_int_equal(argon2_regions(), 0);
    assert_int_equal(sp_password_spare_bytes(), 0);

    /* a hash made with reused memory verifies anywhere */
    assert_int_equal(c.made_rc, SP_OK);
    assert_int_equal(sp_password_verify(c.made, "made-on-a-worker"), 1);
    assert_int_equal(sp_password_verify(c.made, "made-on-a-workeR"), 0);
}

/* A worker going idle hands its memory on as the spare; the next hash on another worker takes
 * it instead of mapping a new region; only one spare is kept however many workers go idle. */
static void test_spare_region(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(sp_password_hash("kept-memory-pw", hash, sizeof hash), SP_OK);
    assert_int_equal(argon2_regions(), 0);
    struct pool_check c = {.hash = hash};

    struct sp_pool *a = sp_pool_new("kdf-a", 1, 4);
    sp_pool_set_idle(a, sp_password_trim, 20);
    sp_password_warm(); /* off a kdf worker: computes the dummy hash, keeps nothing */
    assert_int_equal(argon2_regions(), 0);
    assert_int_equal(sp_pool_submit(a, verify_task, &c), SP_OK);
    while (sp_password_spare_bytes() == 0) /* worker a goes idle after 20 ms */
        usleep(1000);
    assert_int_equal(argon2_regions(), 1);

    struct sp_pool *b = sp_pool_new("kdf-b", 1, 4);
    sp_pool_set_idle(b, sp_password_trim, 60000);
    assert_int_equal(sp_pool_submit(b, verify_task, &c), SP_OK);
    while (sp_pool_depth(b) > 0)
        sched_yield();
    assert_int_equal(c.regions_after, 1); /* b took the spare: still one region */
    assert_int_equal(sp_password_spare_bytes(), 0);

    assert_int_equal(sp_pool_submit(a, verify_task, &c), SP_OK); /* a maps a second one */
    while (sp_pool_depth(a) > 0)
        sched_yield();
    assert_int_equal(c.regions_after, 2);
    sp_pool_free(b);
    sp_pool_free(a);
    assert_int_equal(argon2_regions(), 1); /* one became the spare, the other was unmapped */
    sp_password_spare_free();
    assert_int_equal(argon2_regions(), 0);
    assert_int_equal(c.ok, 3);
    assert_int_equal(c.wrong, 0);
}

/* Recently verified credentials: only successes are remembered, only for exactly that stored
 * hash and password, only for the lifetime; off by default and with a lifetime of 0. */
static void test_recent_credentials(void **state)
{
    (void)state;
    char hash[128], other[128];
    assert_int_equal(sp_password_hash("remember me", hash, sizeof hash), SP_OK);
    assert_int_equal(sp_password_hash("remember me", other, sizeof other), SP_OK);
    int64_t now = sp_time_now();

    /* off until configured */
    assert_int_equal(sp_password_verify(hash, "remember me"), 1);
    assert_int_equal(sp_password_recent(hash, "remember me", now), 0);

    sp_password_cache_init(60);
    assert_int_equal(sp_password_recent(hash, "remember me", now), 0);
    assert_int_equal(sp_password_verify(hash, "remember mE"), 0); /* failures are not kept */
    assert_int_equal(sp_password_recent(hash, "remember mE", now), 0);
    assert_int_equal(sp_password_verify(hash, "remember me"), 1);
    assert_int_equal(sp_password_recent(hash, "remember me", now), 1);
    assert_int_equal(sp_password_recent(hash, "remember me", now + 59), 1);
    assert_int_equal(sp_password_recent(hash, "remember me", now + 61), 0); /* expired */
    assert_int_equal(sp_password_recent(hash, "remember mE", now), 0);
    assert_int_equal(sp_password_recent(hash, "remember me ", now), 0);
    assert_int_equal(sp_password_recent(hash, "", now), 0);
    assert_int_equal(sp_password_recent(hash, NULL, now), 0);
    /* the same password under another stored hash (a changed password: new salt) is unknown */
    assert_int_equal(sp_password_recent(other, "remember me", now), 0);

    /* the shared verification answers exactly as a full one */
    assert_int_equal(sp_password_verify_shared(hash, "remember me"), 1);
    assert_int_equal(sp_password_verify_shared(hash, "remember mE"), 0);
    assert_int_equal(sp_password_verify_shared(other, "remember me"), 1);
    assert_int_equal(sp_password_recent(other, "remember me", now), 1);
    assert_int_equal(sp_password_verify_shared("$argon2id$garbage", "remember me"), 0);

    /* re-configuring forgets everything; 0 switches it off */
    sp_password_cache_init(60);
    assert_int_equal(sp_password_recent(hash, "remember me", now), 0);
    assert_int_equal(sp_password_verify(hash, "remember me"), 1);
    sp_password_cache_init(0);
    assert_int_equal(sp_password_recent(hash, "remember me", now), 0);
    assert_int_equal(sp_password_verify(hash, "remember me"), 1);
    assert_int_equal(sp_password_recent(hash, "remember me", now), 0);
    assert_int_equal(sp_password_verify_shared(hash, "remember mE"), 0);
}

struct shared_arg {
    const char *hash, *password;
    int result;
};

static void *shared_thread(void *arg)
{
    struct shared_arg *a = arg;
    a->result = sp_password_verify_shared(a->hash, a->password);
    return NULL;
}

/* Identical logins at the same moment: every caller gets the right answer, good or bad. */
static void test_shared_concurrent(void **state)
{
    (void)state;
    char hash[128];
    assert_int_equal(sp_password_hash("same time", hash, sizeof hash), SP_OK);
    sp_password_cache_init(60);
    enum { N = 6 };
    pthread_t th[N];
    struct shared_arg args[N];
    for (int i = 0; i < N; i++) {
        args[i] = (struct shared_arg){hash, i % 3 == 2 ? "wrong time" : "same time", -1};
        assert_int_equal(pthread_create(&th[i], NULL, shared_thread, &args[i]), 0);
    }
    for (int i = 0; i < N; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].result, i % 3 == 2 ? 0 : 1);
    }
    assert_int_equal(sp_password_recent(hash, "same time", sp_time_now()), 1);
    assert_int_equal(sp_password_recent(hash, "wrong time", sp_time_now()), 0);
    sp_password_cache_init(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_format),
        cmocka_unit_test(test_kept_memory),
        cmocka_unit_test(test_spare_region),
        cmocka_unit_test(test_recent_credentials),
        cmocka_unit_test(test_shared_concurrent),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_garbage_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
