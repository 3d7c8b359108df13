/*
 * test_ratelimit.c — http/ratelimit.c: the per-user budget allows exactly `limit` requests in a
 * fresh minute, then refuses with a Retry-After after which a request is allowed again; users
 * are independent; the window slides (the previous minute weighs less as time passes); idle
 * users give their slot up; more users than slots are let through rather than evicted; many
 * threads hammering one user never get much more than the budget; 0 turns it off.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "http/ratelimit.h"

#define MIN_MS 60000LL
/* an arbitrary minute boundary */
#define T0 (29000000LL * MIN_MS)

static int allowed(int64_t user, int64_t now, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += sp_ratelimit_check(user, now) == 0;
    return ok;
}

static void off_means_unlimited(void **state)
{
    (void)state;
    sp_ratelimit_init(0);
    assert_int_equal(sp_ratelimit_limit(), 0);
    assert_int_equal(allowed(1, T0, 5000), 5000);
    sp_ratelimit_init(-3);
    assert_int_equal(sp_ratelimit_limit(), 0);
    assert_int_equal(allowed(1, T0, 100), 100);
}

static void budget_then_refusal_then_retry(void **state)
{
    (void)state;
    sp_ratelimit_init(20);
    assert_int_equal(sp_ratelimit_limit(), 20);
    int64_t now = T0 + 10 * 1000;
    assert_int_equal(allowed(7, now, 20), 20);
    int wait = sp_ratelimit_check(7, now);
    assert_true(wait >= 1 && wait <= 120);
    /* refused requests are not counted: still refused, same wait */
    assert_int_equal(sp_ratelimit_check(7, now), wait);
    /* other users and anonymous requests are not affected */
    assert_int_equal(allowed(8, now, 20), 20);
    assert_int_equal(sp_ratelimit_check(0, now), 0);
    assert_int_equal(sp_ratelimit_check(-1, now), 0);
    /* Retry-After is honest: one second early is still refused, at the time it is allowed */
    assert_true(sp_ratelimit_check(7, now + (int64_t)(wait - 1) * 1000 - 1) > 0);
    assert_int_equal(sp_ratelimit_check(7, now + (int64_t)wait * 1000), 0);
}

static void window_slides(void **state)
{
    (void)state;
    sp_ratelimit_init(10);
    /* 10 requests late in minute 0 */
    assert_int_equal(allowed(42, T0 + 59 * 1000, 10), 10);
    /* 6 s into minute 1 the old minute still weighs 0.9 * 10 = 9: one more fits */
    assert_int_equal(allowed(42, T0 + MIN_MS + 6000, 5), 1);
    /* half way, 0.5 * 10 + 1 = 6: four more */
    assert_int_equal(allowed(42, T0 + MIN_MS + 30000, 10), 4);
    /* two idle minutes later everything is forgotten */
    assert_int_equal(allowed(42, T0 + 4 * MIN_MS, 20), 10);
}

static void idle_slots_are_reused(void **state)
{
    (void)state;
    sp_ratelimit_init(1);
    /* fill every slot, and more: users without a slot are let through */
    int through = 0;
    for (int64_t u = 1; u <= SP_RATELIMIT_SLOTS + 2000; u++)
        through += sp_ratelimit_check(u, T0) == 0;
    assert_int_equal(through, SP_RATELIMIT_SLOTS + 2000);
    /* two minutes later new users get the old users' slots and are limited again */
    int64_t later = T0 + 3 * MIN_MS;
    int limited = 0;
    for (int64_t u = 1000000; u < 1000000 + 5000; u++) {
        assert_int_equal(sp_ratelimit_check(u, later), 0);
        limited += sp_ratelimit_check(u, later) > 0;
    }
    assert_int_equal(limited, 5000);
}

struct hammer {
    int64_t now;
    atomic_int ok;
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    for (int i = 0; i < 20000; i++)
        if (sp_ratelimit_check(99, h->now) == 0)
            atomic_fetch_add(&h->ok, 1);
    return NULL;
}

static void threads_share_one_budget(void **state)
{
    (void)state;
    sp_ratelimit_init(1000);
    struct hammer h = {.now = T0 + 1000};
    atomic_init(&h.ok, 0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    int ok = atomic_load(&h.ok);
    /* approximate by at most the requests checked at the same instant */
    assert_true(ok >= 1000 && ok <= 1000 + 4);
}

static void init_forgets_counts(void **state)
{
    (void)state;
    sp_ratelimit_init(2);
    assert_int_equal(allowed(5, T0, 3), 2);
    sp_ratelimit_init(2);
    assert_int_equal(allowed(5, T0, 3), 2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(off_means_unlimited),
        cmocka_unit_test(budget_then_refusal_then_retry),
        cmocka_unit_test(window_slides),
        cmocka_unit_test(idle_slots_are_reused),
        cmocka_unit_test(threads_share_one_budget),
        cmocka_unit_test(init_forgets_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
