/*
 * config.h — every setting in one table (config.c): name, type, bounds, default, env var,
 * flag, help. Precedence: flags > env (SP_*) > config file (SP_CONFIG / --config, KEY=VALUE
 * lines) > defaults. Validated at start; read-only afterwards.
 */
#ifndef SP_CONFIG_H
#define SP_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct sp_config {
    char listen_host[256];
    int listen_port;
    char data_dir[1024];
    char database_url[1200];   /* default sqlite://<data_dir>/scenepacker.db */
    int log_level;             /* SP_LOG_* */
    int threads;               /* HTTP I/O threads; 0 = CPU count */
    int max_connections;
    int idle_timeout;          /* seconds */
    int64_t max_body_bytes;    /* JSON bodies */
    int64_t max_upload_bytes;
    int access_ttl;            /* seconds */
    int refresh_ttl;           /* seconds */
    int kdf_threads;           /* 0 = CPU count */
    int kdf_queue;             /* queued password hashes before 503 */
    int kdf_nice;              /* nice value of the kdf threads (0-19) */
    int login_cache_ttl;       /* seconds a verified credential skips argon2id (0 = off) */
    int workers;               /* packaging job workers */
    char jwt_secret[256];      /* empty = key file data_dir/jwt.key */
    char secret_key[256];      /* libsodium secretbox key (hex); empty = data_dir/secret.key */
    char admin_password[256];  /* first start only */
    bool metrics_public;       /* /metrics without a token from anywhere */
    bool fetch_private;        /* file_url may reach loopback/private addresses */
    int rate_limit_per_min;    /* per-user request budget; 0 = off */
    char trusted_proxies[512]; /* comma-separated IPs/CIDRs */
    char cors_origins[1024];   /* comma-separated origins */
    bool hsts;
    int cache_ttl;             /* seconds, for cached responses */
    char redis_url[512];
    char web_dir[1024];        /* UI assets; default ./web next to the binary's source */
};

/* Fill `cfg` from defaults, the config file (--config FILE or SP_CONFIG: KEY=VALUE lines using
 * the SP_* names, '#' comments), the environment (SP_*) and the command line, in increasing
 * precedence, then validate. The config flags it knows (--listen X, --listen=X, --data DIR, ...;
 * see sp_config_help) are REMOVED from argv in place and *argc is updated, so the subcommand
 * parses only its own flags and positional arguments afterwards (argv[0] is kept).
 * On a bad value it prints a clear message naming the setting to `err` and returns -1;
 * otherwise 0. It does not handle --help: the subcommand prints its usage and sp_config_help. */
int sp_config_load(struct sp_config *cfg, int *argc, char **argv, FILE *err);
/* Print the settings table (name, env, flag, default, help). */
void sp_config_help(FILE *out);

#endif
