/* test_pool.c — util/pool.c: every accepted task runs once, a full queue refuses with SP_AGAIN,
 * depth counts queued + running, freeing runs what was queued. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "util/common.h"
#include "util/pool.h"

static atomic_int ran;

static void count_task(void *arg)
{
    atomic_fetch_add((atomic_int *)arg, 1);
}

/* A gate a task waits on until the test opens it. */
struct gate {
    pthread_mutex_t m;
    pthread_cond_t c;
    int open;
    int entered;
};

static void gate_task(void *arg)
{
    struct gate *g = arg;
    pthread_mutex_lock(&g->m);
    g->entered++;
    pthread_cond_broadcast(&g->c);
    while (!g->open)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
    atomic_fetch_add(&ran, 1);
}

static void wait_entered(struct gate *g, int n)
{
    pthread_mutex_lock(&g->m);
    while (g->entered < n)
        pthread_cond_wait(&g->c, &g->m);
    pthread_mutex_unlock(&g->m);
}

static void open_gate(struct gate *g)
{
    pthread_mutex_lock(&g->m);
    g->open = 1;
    pthread_cond_broadcast(&g->c);
    pthread_mutex_unlock(&g->m);
}

static void test_all_tasks_run(void **state)
{
    atomic_int counter = 0;
    struct sp_pool *p = sp_pool_new("test", 4, 1000);
    for (int i = 0; i < 1000; i++)
        assert_int_equal(sp_pool_submit(p, count_task, &counter), SP_OK);
    sp_pool_free(p); /* runs what is queued, then joins */
    assert_int_equal(atomic_load(&counter), 1000);
}

static void test_full_queue_refuses(void **state)
{
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    atomic_store(&ran, 0);
    struct sp_pool *p = sp_pool_new("busy", 1, 2);
    /* the only thread is held inside the first task... */
    assert_int_equal(sp_pool_submit(p, gate_task, &g), SP_OK);
    wait_entered(&g, 1);
    /* ...so two more fill the queue and the next is refused at once */
    assert_int_equal(sp_pool_submit(p, gate_task, &g), SP_OK);
    assert_int_equal(sp_pool_submit(p, gate_task, &g), SP_OK);
    assert_int_equal(sp_pool_depth(p), 3);
    assert_int_equal(sp_pool_submit(p, gate_task, &g), SP_AGAIN);
    assert_int_equal(sp_pool_submit(p, gate_task, &g), SP_AGAIN);
    assert_int_equal(sp_pool_depth(p), 3);

    open_gate(&g);
    sp_pool_free(p);
    /* exactly the three accepted tasks ran */
    assert_int_equal(atomic_load(&ran), 3);
}

static void test_queue_frees_up_again(void **state)
{
    struct gate g = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0};
    atomic_store(&ran, 0);
    struct sp_pool *p = sp_pool_new("again", 2, 1);
    assert_int_equal(sp_pool_submit(p, gate_task, &g), SP_OK);
    wait_entered(&g, 1);
    assert_int_equal(sp_pool_submit(p, gate_task, &g), SP_OK);
    wait_entered(&g, 2);
    assert_int_equal(sp_pool_submit(p, gate_task, &g), SP_OK);
    assert_int_equal(sp_pool_submit(p, gate_task, &g), SP_AGAIN);
    open_gate(&g);
    /* once the work is done the pool accepts again */
    while (sp_pool_depth(p) > 0)
        sched_yield();
    atomic_int counter = 0;
    assert_int_equal(sp_pool_submit(p, count_task, &counter), SP_OK);
    sp_pool_free(p);
    assert_int_equal(atomic_load(&ran), 3);
    assert_int_equal(atomic_load(&counter), 1);
}

static void test_idle_pool(void **state)
{
    struct sp_pool *p = sp_pool_new("idle", 3, 8);
    assert_int_equal(sp_pool_depth(p), 0);
    sp_pool_free(p);
    sp_pool_free(NULL);
}

/* The idle hook: runs on a worker that ran a task and then had nothing to do, and again when
 * that worker ends; never on a worker that ran nothing; visible to tasks through
 * sp_pool_current_idle(). */
static atomic_int idle_calls;
static void idle_hook(void)
{
    atomic_fetch_add(&idle_calls, 1);
}

static void seen_hook_task(void *arg)
{
    *(sp_idle_fn *)arg = sp_pool_current_idle();
}

static void test_idle_hook(void **state)
{
    atomic_store(&idle_calls, 0);
    assert_null(sp_pool_current_idle()); /* not a pool thread */

    struct sp_pool *quiet = sp_pool_new("quiet", 2, 4);
    sp_pool_set_idle(quiet, idle_hook, 10);
    sp_pool_free(quiet);
    assert_int_equal(atomic_load(&idle_calls), 0); /* no task ran: nothing to free */

    struct sp_pool *p = sp_pool_new("hook", 1, 4);
    sp_pool_set_idle(p, idle_hook, 10);
    sp_idle_fn seen = NULL;
    assert_int_equal(sp_pool_submit(p, seen_hook_task, &seen), SP_OK);
    while (atomic_load(&idle_calls) == 0) /* 10 ms after the task the hook runs */
        sched_yield();
    assert_ptr_equal(seen, idle_hook);
    assert_int_equal(atomic_load(&idle_calls), 1);
    sp_pool_free(p);
    /* the worker had already gone idle and ran nothing since: no second call at exit */
    assert_int_equal(atomic_load(&idle_calls), 1);

    struct sp_pool *busy = sp_pool_new("busy", 1, 4);
    sp_pool_set_idle(busy, idle_hook, 60000);
    atomic_int counter = 0;
    assert_int_equal(sp_pool_submit(busy, count_task, &counter), SP_OK);
    sp_pool_free(busy); /* ends before the minute: the hook runs as the worker ends */
    assert_int_equal(atomic_load(&counter), 1);
    assert_int_equal(atomic_load(&idle_calls), 2);
}

/* sp_pool_each: every worker runs the function once, each on its own thread. */
static atomic_int each_calls;
static _Thread_local int each_seen_here;
static atomic_int each_distinct;
static void each_fn(void)
{
    atomic_fetch_add(&each_calls, 1);
    if (each_seen_here++ == 0)
        atomic_fetch_add(&each_distinct, 1);
}

static void test_each_worker(void **state)
{
    struct sp_pool *p = sp_pool_new("each", 3, 8);
    sp_pool_each(p, each_fn);
    while (atomic_load(&each_calls) < 3)
        sched_yield();
    atomic_int counter = 0;
    assert_int_equal(sp_pool_submit(p, count_task, &counter), SP_OK); /* tasks still run */
    sp_pool_free(p);
    assert_int_equal(atomic_load(&counter), 1);
    assert_int_equal(atomic_load(&each_calls), 3);
    assert_int_equal(atomic_load(&each_distinct), 3);
    sp_pool_each(NULL, each_fn); /* harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_tasks_run),
        cmocka_unit_test(test_full_queue_refuses),
        cmocka_unit_test(test_queue_frees_up_again),
        cmocka_unit_test(test_idle_pool),
        cmocka_unit_test(test_idle_hook),
        cmocka_unit_test(test_each_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
