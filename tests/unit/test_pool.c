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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_tasks_run),
        cmocka_unit_test(test_full_queue_refuses),
        cmocka_unit_test(test_queue_frees_up_again),
        cmocka_unit_test(test_idle_pool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
