/* main.c — subcommand dispatch only. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
};

static int cmd_version(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("scenepacker %s\n", SP_VERSION);
    return 0;
}

static const struct command commands[] = {
    {"serve", sp_cli_serve, "run the HTTP API and UI"},
    {"migrate", sp_cli_migrate, "create or upgrade the database schema"},
    {"user", sp_cli_user, "add, list, disable accounts; set passwords"},
    {"seed", sp_cli_seed, "add a load-test account and N realistic releases"},
    {"pack", sp_cli_pack, "pack an e-book into a release directory (no server)"},
    {"check", sp_cli_check, "verify release directories against the eBOOK rules"},
    {"inspect", sp_cli_inspect, "show an e-book's format, DRM and metadata"},
    {"secrets", sp_cli_secrets, "check or rotate the key of secret configuration values"},
    {"version", cmd_version, "print the version"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: scenepacker <command> [options]   (scenepacker <command> --help)\n\n"
                 "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version"))
        return cmd_version(0, NULL);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "scenepacker: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
