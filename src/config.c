/*
 * config.c — the one settings table (as Redis static_configs[]): every row drives defaults, the
 * config file, the environment, the command line, --help and validation.
 */
#include "config.h"
#include "util/log.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

enum kind { K_STR, K_INT, K_I64, K_BOOL, K_LISTEN, K_LOGLEVEL };

struct setting {
    const char *env;  /* SP_* name, also the config-file key */
    const char *flag; /* --name, or NULL when env/file only */
    enum kind kind;
    size_t off;       /* offset in struct sp_config */
    size_t size;      /* for strings: buffer size */
    int64_t min, max; /* for numbers */
    const char *def;
    bool secret;      /* never printed */
    const char *help;
};

#define STR(f) K_STR, offsetof(struct sp_config, f), sizeof(((struct sp_config *)0)->f), 0, 0
#define NUM(k, f, lo, hi) k, offsetof(struct sp_config, f), 0, lo, hi
#define OTHER(k, f) k, offsetof(struct sp_config, f), 0, 0, 0

static const struct setting settings[] = {
    {"SP_LISTEN", "--listen", OTHER(K_LISTEN, listen_port), "127.0.0.1:5000", false,
     "HOST:PORT the HTTP server listens on"},
    {"SP_DATA_DIR", "--data", STR(data_dir), "./data", false,
     "data directory: database, keys, uploads, releases"},
    {"SP_DATABASE_URL", "--database-url", STR(database_url), "", false,
     "sqlite:///path.db (default: sqlite://<data>/scenepacker.db)"},
    {"SP_LOG_LEVEL", "--log-level", OTHER(K_LOGLEVEL, log_level), "info", false,
     "debug, info, warn or error"},
    {"SP_THREADS", "--threads", NUM(K_INT, threads, 0, 256), "0", false,
     "HTTP I/O threads (0 = one per CPU core)"},
    {"SP_MAX_CONNECTIONS", "--max-connections", NUM(K_INT, max_connections, 16, 200000), "4096",
     false, "concurrent connections accepted before new ones are refused"},
    {"SP_IDLE_TIMEOUT", "--idle-timeout", NUM(K_INT, idle_timeout, 1, 86400), "30", false,
     "seconds before an idle or trickling connection is closed"},
    {"SP_MAX_BODY_BYTES", "--max-body-bytes", NUM(K_I64, max_body_bytes, 1024, 64 << 20), "1048576",
     false, "largest JSON request body (bytes)"},
    {"SP_MAX_UPLOAD_BYTES", "--max-upload-bytes",
     NUM(K_I64, max_upload_bytes, 1024, INT64_C(1) << 40), "2147483648", false,
     "largest file upload (bytes), streamed to disk"},
    {"SP_ACCESS_TTL", "--access-ttl", NUM(K_INT, access_ttl, 30, 86400), "900", false,
     "access token lifetime (seconds)"},
    {"SP_REFRESH_TTL", "--refresh-ttl", NUM(K_INT, refresh_ttl, 60, 90 * 86400), "604800", false,
     "refresh token lifetime (seconds)"},
    {"SP_KDF_THREADS", "--kdf-threads", NUM(K_INT, kdf_threads, 0, 64), "0", false,
     "password-hashing threads (0 = one per CPU core)"},
    {"SP_KDF_NICE", "--kdf-nice", NUM(K_INT, kdf_nice, 0, 19), "19", false,
     "nice value of the password-hashing threads (0-19; higher yields more to requests)"},
    {"SP_LOGIN_CACHE_TTL", "--login-cache-ttl", NUM(K_INT, login_cache_ttl, 0, 3600), "300", false,
     "seconds a verified username+password skips argon2id on its next login (0 = off)"},
    {"SP_KDF_QUEUE", "--kdf-queue", NUM(K_INT, kdf_queue, 1, 100000), "1024", false,
     "password checks waiting before logins get 503"},
    {"SP_WORKERS", "--workers", NUM(K_INT, workers, 0, 64), "2", false,
     "packaging job worker threads"},
    {"SP_JWT_SECRET", NULL, STR(jwt_secret), "", true,
     "JWT signing secret (default: random key in <data>/jwt.key)"},
    {"SP_SECRET_KEY", NULL, STR(secret_key), "", true,
     "64 hex chars: key for secrets at rest (default: <data>/secret.key)"},
    {"SP_ADMIN_PASSWORD", NULL, STR(admin_password), "", true,
     "password of the first admin account (default: generated, printed once)"},
    {"SP_FETCH_PRIVATE", "--fetch-private", OTHER(K_BOOL, fetch_private), "0", false,
     "let file_url downloads reach loopback/private/link-local addresses"},
    {"SP_METRICS_PUBLIC", "--metrics-public", OTHER(K_BOOL, metrics_public), "0", false,
     "serve /metrics without a token to non-loopback clients"},
    {"SP_RATE_LIMIT_PER_MIN", "--rate-limit", NUM(K_INT, rate_limit_per_min, 0, 10000000), "1200",
     false, "per-user request budget per minute (0 = off)"},
    {"SP_TRUSTED_PROXIES", "--trusted-proxies", STR(trusted_proxies), "", false,
     "comma-separated proxy IPs/CIDRs whose X-Forwarded-For is honoured"},
    {"SP_CORS_ORIGINS", "--cors-origins", STR(cors_origins), "", false,
     "comma-separated origins allowed by CORS (empty = none)"},
    {"SP_HSTS", "--hsts", OTHER(K_BOOL, hsts), "0", false,
     "send Strict-Transport-Security (behind TLS)"},
    {"SP_CACHE_TTL", "--cache-ttl", NUM(K_INT, cache_ttl, 0, 86400), "30", false,
     "seconds a cached response may live (writes invalidate at once)"},
    {"SP_REDIS_URL", "--redis-url", STR(redis_url), "", false,
     "redis://host:port for a shared cache (empty = in-process)"},
    {"SP_WEB_DIR", "--web-dir", STR(web_dir), "web", false, "directory of the UI assets"},
};

static int set_value(struct sp_config *cfg, const struct setting *s, const char *v, const char *src,
                     FILE *err)
{
    char *base = (char *)cfg + s->off;
    char *end = NULL;
    switch (s->kind) {
    case K_STR:
        if (strlen(v) >= s->size) {
            fprintf(err, "%s (%s): value is too long (max %zu characters)\n", s->env, src,
                    s->size - 1);
            return -1;
        }
        memcpy(base, v, strlen(v) + 1);
        return 0;
    case K_INT:
    case K_I64: {
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (!*v || errno || *end || x < s->min || x > s->max) {
            fprintf(err, "%s (%s): '%s' is not an integer between %lld and %lld\n", s->env, src, v,
                    (long long)s->min, (long long)s->max);
            return -1;
        }
        if (s->kind == K_INT)
            *(int *)base = (int)x;
        else
            *(int64_t *)base = x;
        return 0;
    }
    case K_BOOL:
        if (!strcasecmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") ||
            !strcasecmp(v, "on"))
            *(bool *)base = true;
        else if (!strcasecmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") ||
                 !strcasecmp(v, "off") || !*v)
            *(bool *)base = false;
        else {
            fprintf(err, "%s (%s): '%s' is not a boolean (use 1/0, true/false)\n", s->env, src, v);
            return -1;
        }
        return 0;
    case K_LOGLEVEL: {
        int lv = sp_log_level_parse(v);
        if (lv < 0) {
            fprintf(err, "%s (%s): '%s' is not one of debug, info, warn, error\n", s->env, src, v);
            return -1;
        }
        cfg->log_level = lv;
        return 0;
    }
    case K_LISTEN: {
        const char *colon = strrchr(v, ':');
        if (!colon || colon == v) {
            fprintf(err, "%s (%s): '%s' is not HOST:PORT\n", s->env, src, v);
            return -1;
        }
        size_t hl = (size_t)(colon - v);
        const char *h = v;
        if (h[0] == '[' && hl >= 2 && h[hl - 1] == ']') {
            h++;
            hl -= 2;
        }
        errno = 0;
        long port = strtol(colon + 1, &end, 10);
        if (hl == 0 || hl >= sizeof cfg->listen_host || !colon[1] || *end || errno || port < 0 ||
            port > 65535) {
            fprintf(err, "%s (%s): '%s' is not HOST:PORT with a port 0-65535\n", s->env, src, v);
            return -1;
        }
        memcpy(cfg->listen_host, h, hl);
        cfg->listen_host[hl] = '\0';
        cfg->listen_port = (int)port;
        return 0;
    }
    }
    return -1;
}

static const struct setting *find_env(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (strlen(settings[i].env) == n && !strncmp(settings[i].env, name, n))
            return &settings[i];
    return NULL;
}

static int load_file(struct sp_config *cfg, const char *path, FILE *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(err, "config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    char line[4096];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        size_t n = strlen(p);
        while (n && isspace((unsigned char)p[n - 1]))
            p[--n] = '\0';
        if (!*p || *p == '#')
            continue;
        char *eq = strchr(p, '=');
        if (!eq) {
            fprintf(err, "config file %s:%d: expected KEY=VALUE\n", path, lineno);
            rc = -1;
            break;
        }
        char *k = p, *ke = eq;
        while (ke > k && isspace((unsigned char)ke[-1]))
            ke--;
        char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        size_t vl = strlen(v);
        if (vl >= 2 && (v[0] == '"' || v[0] == '\'') && v[vl - 1] == v[0]) {
            v[vl - 1] = '\0';
            v++;
        }
        const struct setting *s = find_env(k, (size_t)(ke - k));
        if (!s) {
            fprintf(err, "config file %s:%d: unknown setting '%.*s'\n", path, lineno,
                    (int)(ke - k), k);
            rc = -1;
            break;
        }
        char src[1200];
        snprintf(src, sizeof src, "%s:%d", path, lineno);
        if (set_value(cfg, s, v, src, err) < 0) {
            rc = -1;
            break;
        }
    }
    fclose(f);
    return rc;
}

int sp_config_load(struct sp_config *cfg, int *argc, char **argv, FILE *err)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++)
        if (set_value(cfg, &settings[i], settings[i].def, "default", err) < 0)
            return -1;

    /* the config file comes from --config or SP_CONFIG */
    const char *file = getenv("SP_CONFIG");
    for (int i = 1; i < *argc; i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < *argc)
            file = argv[i + 1];
        else if (!strncmp(argv[i], "--config=", 9))
            file = argv[i] + 9;
    }
    if (file && *file && load_file(cfg, file, err) < 0)
        return -1;

    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        const char *v = getenv(settings[i].env);
        if (v && set_value(cfg, &settings[i], v, "environment", err) < 0)
            return -1;
    }

    int out = 1;
    for (int i = 1; i < *argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) { /* the rest is positional */
            while (i < *argc)
                argv[out++] = argv[i++];
            break;
        }
        if (!strcmp(a, "--config") && i + 1 < *argc) {
            i++;
            continue;
        }
        if (!strncmp(a, "--config=", 9))
            continue;
        const struct setting *hit = NULL;
        const char *val = NULL;
        for (size_t k = 0; k < sizeof settings / sizeof settings[0] && !hit; k++) {
            const char *fl = settings[k].flag;
            if (!fl)
                continue;
            size_t fn = strlen(fl);
            if (!strncmp(a, fl, fn) && a[fn] == '=') {
                hit = &settings[k];
                val = a + fn + 1;
            } else if (!strcmp(a, fl)) {
                hit = &settings[k];
                if (hit->kind == K_BOOL && (i + 1 >= *argc || argv[i + 1][0] == '-')) {
                    val = "1";
                } else if (i + 1 < *argc) {
                    val = argv[++i];
                } else {
                    fprintf(err, "%s needs a value\n", fl);
                    return -1;
                }
            }
        }
        if (hit) {
            if (set_value(cfg, hit, val, hit->flag, err) < 0)
                return -1;
            continue;
        }
        argv[out++] = argv[i];
    }
    *argc = out;
    argv[out] = NULL;

    if (!cfg->data_dir[0]) {
        fprintf(err, "SP_DATA_DIR: must not be empty\n");
        return -1;
    }
    if (!cfg->database_url[0]) {
        int n = snprintf(cfg->database_url, sizeof cfg->database_url, "sqlite://%s/scenepacker.db",
                         cfg->data_dir);
        if (n < 0 || (size_t)n >= sizeof cfg->database_url) {
            fprintf(err, "SP_DATA_DIR: path is too long\n");
            return -1;
        }
    } else if (strncmp(cfg->database_url, "sqlite://", 9) != 0) {
        fprintf(err, "SP_DATABASE_URL: only sqlite:// URLs are supported by this build (got '%.40s')\n",
                cfg->database_url);
        return -1;
    }
    if (cfg->secret_key[0]) {
        size_t n = strlen(cfg->secret_key);
        bool hex = n == 64;
        for (size_t i = 0; hex && i < n; i++)
            hex = isxdigit((unsigned char)cfg->secret_key[i]) != 0;
        if (!hex) {
            fprintf(err, "SP_SECRET_KEY: must be 64 hexadecimal characters (32 bytes)\n");
            return -1;
        }
    }
    if (cfg->jwt_secret[0] && strlen(cfg->jwt_secret) < 32) {
        fprintf(err, "SP_JWT_SECRET: must be at least 32 characters\n");
        return -1;
    }
    if (cfg->admin_password[0] && strlen(cfg->admin_password) < 10) {
        fprintf(err, "SP_ADMIN_PASSWORD: must be at least 10 characters\n");
        return -1;
    }
    sp_log_set_level(cfg->log_level);
    return 0;
}

void sp_config_help(FILE *out)
{
    fprintf(out, "settings (flag > environment > config file > default):\n");
    for (size_t i = 0; i < sizeof settings / sizeof settings[0]; i++) {
        const struct setting *s = &settings[i];
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", s->flag ? s->flag : "", s->flag ? ", " : "", s->env);
        fprintf(out, "  %-40s %s", left, s->help);
        if (!s->secret && s->def[0])
            fprintf(out, " [default: %s]", s->def);
        fputc('\n', out);
    }
    fprintf(out, "  %-40s %s\n", "--config FILE, SP_CONFIG", "file of SP_NAME=value lines");
}
