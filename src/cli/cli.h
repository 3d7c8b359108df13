/*
 * cli.h — subcommands. Each takes (argc, argv) where argv[0] is the subcommand name, parses
 * its own flags (config.h for the shared ones), prints --help, and returns the exit code.
 */
#ifndef SP_CLI_H
#define SP_CLI_H

int sp_cli_serve(int argc, char **argv);
int sp_cli_migrate(int argc, char **argv);
int sp_cli_user(int argc, char **argv);
int sp_cli_seed(int argc, char **argv);
int sp_cli_pack(int argc, char **argv);
int sp_cli_check(int argc, char **argv);
int sp_cli_inspect(int argc, char **argv);
/* cli/secrets.c: `secrets check|rotate` (the key of secret configuration values) */
int sp_cli_secrets(int argc, char **argv);

#endif
