/*
 * cli/migrate.c — `scenepacker migrate`: create or upgrade the database schema and the
 * first-start content, printing each migration applied.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"
#include "cli/cli.h"
#include "config.h"
#include "store/db.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: scenepacker migrate [--data DIR] [--database-url URL]\n\n"
                 "Applies pending schema migrations (each in its own transaction) and the\n"
                 "first-start content (permissions, roles, built-in rule, admin account).\n"
                 "Safe to run any number of times.\n\n");
    sp_config_help(out);
}

int sp_cli_migrate(int argc, char **argv)
{
    struct sp_config cfg;
    int st = sp_cli_start(&argc, argv, usage, &cfg);
    if (st >= 0)
        return st;
    if (argc > 1) {
        fprintf(stderr, "scenepacker migrate: unexpected argument '%s'\n", argv[1]);
        return 2;
    }
    struct sp_err e = {{0}, {0}};
    if (sp_app_init_store(&cfg, true, &e) != SP_OK) {
        fprintf(stderr, "scenepacker migrate: %s\n", e.message);
        return 1;
    }
    sp_db_global_shutdown();
    return 0;
}
