/*
 * cli.h — subcommands. Each takes (argc, argv) where argv[0] is the subcommand name, parses
 * its own flags (config.h for the shared ones), prints --help, and returns the exit code.
 */
#ifndef SP_CLI_H
#define SP_CLI_H

#include <stdio.h>

struct sp_config;

int sp_cli_serve(int argc, char **argv);
int sp_cli_migrate(int argc, char **argv);
int sp_cli_user(int argc, char **argv);
int sp_cli_seed(int argc, char **argv);
int sp_cli_pack(int argc, char **argv);
int sp_cli_check(int argc, char **argv);
int sp_cli_inspect(int argc, char **argv);
/* cli/secrets.c: `secrets check|rotate` (the key of secret configuration values) */
int sp_cli_secrets(int argc, char **argv);

/* The start the subcommands that read the configuration share: --help or -h anywhere prints
 * `usage` to stdout; otherwise the shared flags, environment and config file are loaded into cfg
 * and removed from argv (sp_config_load). Returns -1 to go on, or the exit status to return:
 * 0 after --help, 2 after a configuration error (already reported on stderr). */
int sp_cli_start(int *argc, char **argv, void (*usage)(FILE *out), struct sp_config *cfg);

#endif
