/*
 * cli/seed.c — `scenepacker seed --releases N --user NAME:PASSWORD`: load-test data.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app.h"
#include "auth/auth.h"
#include "cli/cli.h"
#include "config.h"
#include "store/db.h"
#include "store/seed.h"
#include "store/users.h"
#include "util/json.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: scenepacker seed --releases N --user NAME:PASSWORD [--groups G] [--seed S]\n"
            "                        [--bulk | --no-bulk] [--data DIR]\n\n"
            "Creates (or updates) a load-test account NAME with the operator role and adds N\n"
            "realistic releases owned by it, spread over G groups (default 200), six book\n"
            "kinds, every status, several languages, sources and years, with packaging jobs\n"
            "for the finished ones. Names follow the scene dirname rules and are unique, also\n"
            "across repeated runs. A password shorter than 10 characters is accepted here\n"
            "(load tests use fixed credentials) with a warning.\n"
            "Large loads (N >= %d and at least half the stored releases, or --bulk) rebuild\n"
            "indexes, counters and the search table once at the end, in one transaction.\n\n",
            SP_SEED_BULK_THRESHOLD);
    sp_config_help(out);
}

static void progress(void *arg, int64_t done, int64_t total)
{
    (void)arg;
    int pct = total ? (int)(done * 100 / total) : 100;
    fprintf(stderr, "\rseeding releases: %lld/%lld (%d%%)%s", (long long)done, (long long)total,
            pct, done == total ? "\n" : "");
    fflush(stderr);
}

static void stage(void *arg, const char *what)
{
    (void)arg;
    fprintf(stderr, "\rseeding releases: %s...%-20s", what, "");
    fflush(stderr);
}

int sp_cli_seed(int argc, char **argv)
{
    struct sp_config cfg;
    int st = sp_cli_start(&argc, argv, usage, &cfg);
    if (st >= 0)
        return st;
    struct sp_err e = {{0}, {0}};
    const char *releases_s = NULL, *user_s = NULL, *groups_s = NULL, *seed_s = NULL;
    int bulk = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = !strcmp(a, "--releases") ? &releases_s
                            : !strcmp(a, "--user")   ? &user_s
                            : !strcmp(a, "--groups") ? &groups_s
                            : !strcmp(a, "--seed")   ? &seed_s
                                                     : NULL;
        if (slot) {
            if (i + 1 >= argc) {
                fprintf(stderr, "scenepacker seed: %s needs a value\n", a);
                return 2;
            }
            *slot = argv[++i];
        } else if (!strcmp(a, "--bulk")) {
            bulk = 1;
        } else if (!strcmp(a, "--no-bulk")) {
            bulk = 0;
        } else {
            fprintf(stderr, "scenepacker seed: unexpected argument '%s' (see --help)\n", a);
            return 2;
        }
    }
    if (!releases_s || !user_s) {
        fprintf(stderr, "scenepacker seed: --releases N and --user NAME:PASSWORD are required\n");
        return 2;
    }
    int64_t nrel = 0, ngroups = 200, seed = 0;
    if (sp_parse_int(releases_s, "releases", 0, 100000000, &nrel, &e) != SP_OK ||
        (groups_s && sp_parse_int(groups_s, "groups", 1, 240, &ngroups, &e) != SP_OK) ||
        (seed_s && sp_parse_int(seed_s, "seed", 0, INT64_MAX, &seed, &e) != SP_OK)) {
        fprintf(stderr, "scenepacker seed: --%s: %s\n", e.field, e.message);
        return 2;
    }
    const char *colon = strchr(user_s, ':');
    if (!colon || colon == user_s || !colon[1]) {
        fprintf(stderr, "scenepacker seed: --user must be NAME:PASSWORD\n");
        return 2;
    }
    char name[SP_USERNAME_MAX + 1];
    size_t nlen = (size_t)(colon - user_s);
    if (nlen > SP_USERNAME_MAX) {
        fprintf(stderr, "scenepacker seed: username longer than %d characters\n", SP_USERNAME_MAX);
        return 2;
    }
    memcpy(name, user_s, nlen);
    name[nlen] = '\0';
    const char *password = colon + 1;
    if (!sp_username_valid(name)) {
        fprintf(stderr,
                "scenepacker seed: invalid username '%s': 3-64 characters of "
                "A-Z a-z 0-9 _ . -\n",
                name);
        return 2;
    }
    if (strlen(password) > 1024) {
        fprintf(stderr, "scenepacker seed: password too long\n");
        return 2;
    }
    if (strlen(password) < 10)
        fprintf(stderr,
                "warning: the password of '%s' is shorter than 10 characters; accepted "
                "for load testing only, never use this account in production\n",
                name);

    if (sp_app_init_store(&cfg, false, &e) != SP_OK) {
        fprintf(stderr, "scenepacker seed: %s\n", e.message);
        return 1;
    }
    char hash[SP_PASSWORD_HASH_MAX];
    if (sp_password_hash(password, hash, sizeof hash) != SP_OK) {
        fprintf(stderr, "scenepacker seed: cannot hash the password\n");
        sp_db_global_shutdown();
        return 1;
    }
    struct sp_seed_opts o = {
        .releases = nrel,
        .username = name,
        .password_hash = hash,
        .groups = (int)ngroups,
        .rng_seed = (uint64_t)seed,
        .bulk = bulk,
        .progress = isatty(STDERR_FILENO) ? progress : NULL,
        .stage = isatty(STDERR_FILENO) ? stage : NULL,
    };
    struct sp_seed_result r;
    int rc = sp_store_seed(sp_db_thread(), &o, &r, &e);
    sp_db_global_shutdown();
    if (rc != SP_OK) {
        fprintf(stderr, "scenepacker seed: %s\n", e.message);
        return rc == SP_INVALID ? 2 : 1;
    }
    printf("%s user %s (id %lld, role operator)\n", r.user_created ? "created" : "updated", name,
           (long long)r.user_id);
    printf("seeded %lld releases and %lld jobs over %d groups in %.2f s (%.0f releases/s%s)\n",
           (long long)r.releases, (long long)r.jobs, r.groups, r.seconds,
           r.seconds > 0 ? (double)r.releases / r.seconds : 0.0, r.bulk ? ", bulk load" : "");
    return 0;
}
