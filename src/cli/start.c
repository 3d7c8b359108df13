/* start.c — what every configuration-reading subcommand does first (see cli.h). */
#include "cli/cli.h"

#include <string.h>

#include "config.h"

int sp_cli_start(int *argc, char **argv, void (*usage)(FILE *out), struct sp_config *cfg)
{
    for (int i = 1; i < *argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        }
    }
    return sp_config_load(cfg, argc, argv, stderr) < 0 ? 2 : -1;
}
