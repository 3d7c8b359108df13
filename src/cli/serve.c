/*
 * cli/serve.c — `scenepacker serve`: run the HTTP API and the UI until SIGTERM/SIGINT, then
 * drain (stop accepting, finish in-flight requests, answer parked ones) and exit 0.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "app.h"
#include "auth/auth.h"
#include "cli/cli.h"
#include "config.h"
#include "http/server.h"
#include "obs/metrics.h"
#include "util/alloc.h"
#include "util/log.h"

/* How long a drain waits for in-flight requests: under the 10 s most supervisors (docker,
 * Kubernetes) give between SIGTERM and SIGKILL. */
#define DRAIN_TIMEOUT_MS 8000

static void usage(FILE *out)
{
    fprintf(out,
            "usage: scenepacker serve [options]\n\n"
            "Runs the HTTP API and the web UI (default http://127.0.0.1:5000/).\n"
            "SIGTERM or SIGINT stops it gracefully: no new connections, in-flight\n"
            "requests finish (up to %d s), then the process exits 0.\n\n",
            DRAIN_TIMEOUT_MS / 1000);
    sp_config_help(out);
}

/* Every connection is a descriptor: lift the soft limit (often 1024) towards what
 * max_connections needs, within the hard limit. */
static void raise_fd_limit(int max_connections)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t want = (rlim_t)(max_connections > 0 ? max_connections : 1024) + 256;
    if (rl.rlim_max != RLIM_INFINITY && want > rl.rlim_max)
        want = rl.rlim_max;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
        rlim_t had = rl.rlim_cur;
        rl.rlim_cur = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            sp_warn("open files limit", "cannot raise it from %llu to %llu",
                    (unsigned long long)had, (unsigned long long)want);
    }
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < (rlim_t)max_connections + 64)
        sp_warn("open files limit", "%llu descriptors for %d connections: raise `ulimit -n`",
                (unsigned long long)rl.rlim_cur, max_connections);
}

int sp_cli_serve(int argc, char **argv)
{
    int rc = 1;
    struct sp_err e = {{0}, {0}};
    struct sp_app *app = sp_calloc(1, sizeof *app);
    int st = sp_cli_start(&argc, argv, usage, &app->cfg);
    if (st >= 0) {
        sp_free(app);
        return st;
    }
    if (argc > 1) {
        fprintf(stderr, "scenepacker serve: unexpected argument '%s' (see --help)\n", argv[1]);
        sp_free(app);
        return 2;
    }
    sp_log_set_level(app->cfg.log_level);

    /* Block the stop signals before any thread exists, so every thread inherits the mask and
     * only sigwait() below receives them. */
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);
    signal(SIGPIPE, SIG_IGN);

    raise_fd_limit(app->cfg.max_connections);
    sp_metrics_init();
    if (sp_app_init(app, &e) != SP_OK) {
        sp_error("start failed", "%s", e.message);
        sp_free(app);
        return 1;
    }
    if (sp_auth_init(app, &e) != SP_OK) {
        sp_error("start failed", "%s", e.message);
        goto out_app;
    }
    if (sp_server_start(app, &e) != SP_OK) {
        sp_error("start failed", "%s", e.message);
        goto out_auth;
    }
    const char *host = app->cfg.listen_host;
    int v6 = strchr(host, ':') != NULL;
    char url[320];
    snprintf(url, sizeof url, "http://%s%s%s:%d/", v6 ? "[" : "", *host ? host : "0.0.0.0",
             v6 ? "]" : "", sp_server_port());
    sp_log_j(SP_LOG_INFO, "listening",
             json_pack("{s:s, s:s, s:i}", "url", url, "version", SP_VERSION, "pid", (int)getpid()));

    int sig = 0;
    while (sigwait(&stop, &sig) != 0)
        ;
    sp_info("stopping", "signal %d: draining in-flight requests", sig);
    sp_server_drain_and_stop(DRAIN_TIMEOUT_MS);
    rc = 0;
out_auth:
    sp_auth_shutdown();
out_app:
    sp_app_shutdown(app);
    sp_free(app);
    if (rc == 0)
        sp_info("stopped", "clean exit");
    return rc;
}
