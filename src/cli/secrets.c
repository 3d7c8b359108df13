/*
 * cli/secrets.c — `scenepacker secrets check|rotate`: the key that encrypts secret
 * configuration values at rest (see auth/secrets.h and docs/SECURITY.md).
 *
 * The key is SP_SECRET_KEY (64 hex characters) when set, else DATA_DIR/secret.key (32 raw
 * bytes, mode 0600). Rotation re-seals every secret under the new key in ONE transaction: it
 * either all happens or nothing does. With a key file, the new key is first written to
 * secret.key.new (0600, fsync), the database is committed, then the file is renamed over
 * secret.key; if the command is interrupted between the commit and the rename, secret.key.new
 * holds the key the database now uses (the command says so when run again). Servers hold the
 * key in memory: stop every instance before rotating, start them after.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#include "auth/secrets.h"
#include "cli/cli.h"
#include "config.h"
#include "store/configs.h"
#include "store/db.h"
#include "util/alloc.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: scenepacker secrets <command> [options]\n\n"
            "commands:\n"
            "  check          open every secret configuration value with the current key\n"
            "                 (exit 1 naming the entries that do not open)\n"
            "  rotate [--new-key HEX]\n"
            "                 re-encrypt every secret under a new key, in one transaction.\n"
            "                 With a key file (DATA_DIR/secret.key) the new key is generated\n"
            "                 (or taken from --new-key) and replaces the file. With\n"
            "                 SP_SECRET_KEY, --new-key is required: set SP_SECRET_KEY to it on\n"
            "                 every instance afterwards.\n\n"
            "Stop every server instance before rotating (they hold the key in memory), and\n"
            "start them again afterwards. A new key: `openssl rand -hex 32`.\n\n");
    sp_config_help(out);
}

/* The current key: from cfg.secret_key, else the key file. SP_OK, SP_NOTFOUND (no key file:
 * nothing was ever sealed), SP_INVALID/SP_ERR after printing why. */
static int current_key(const struct sp_config *cfg, unsigned char key[SP_SECRET_KEY_BYTES],
                       char *path, size_t pathlen)
{
    path[0] = '\0';
    if (cfg->secret_key[0]) {
        if (sp_secret_key_parse(cfg->secret_key, key) != SP_OK) {
            fprintf(stderr, "scenepacker secrets: SP_SECRET_KEY must be 64 hexadecimal "
                            "characters\n");
            return SP_INVALID;
        }
        return SP_OK;
    }
    snprintf(path, pathlen, "%s/secret.key", cfg->data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return SP_NOTFOUND;
        fprintf(stderr, "scenepacker secrets: cannot read %s: %s\n", path, strerror(errno));
        return SP_ERR;
    }
    unsigned char buf[64];
    ssize_t got = read(fd, buf, sizeof buf);
    close(fd);
    if (got != SP_SECRET_KEY_BYTES) {
        fprintf(stderr, "scenepacker secrets: %s must hold exactly %d bytes\n", path,
                SP_SECRET_KEY_BYTES);
        sodium_memzero(buf, sizeof buf);
        return SP_INVALID;
    }
    memcpy(key, buf, SP_SECRET_KEY_BYTES);
    sodium_memzero(buf, sizeof buf);
    return SP_OK;
}

struct walk {
    struct sp_db *db;
    const unsigned char *old_key;
    const unsigned char *new_key; /* NULL: check only */
    int ok, bad;
};

static int each(void *arg, int64_t id, const char *key, const unsigned char *blob, size_t len)
{
    struct walk *w = arg;
    char *plain = NULL;
    size_t n = 0;
    if (sp_secret_open(w->old_key, blob, len, &plain, &n) != SP_OK) {
        fprintf(stderr, "  %s (id %lld): does not open with the current key\n", key, (long long)id);
        w->bad++;
        return w->new_key ? SP_INVALID : SP_OK;
    }
    int rc = SP_OK;
    if (w->new_key) {
        unsigned char *nb = NULL;
        size_t nlen = 0;
        sp_secret_seal(w->new_key, plain, n, &nb, &nlen);
        rc = sp_store_config_set_blob(w->db, id, nb, nlen);
        sp_free(nb);
        if (rc != SP_OK)
            fprintf(stderr, "  %s (id %lld): cannot store the re-sealed value\n", key,
                    (long long)id);
    }
    sp_secret_free(plain, n);
    if (rc == SP_OK)
        w->ok++;
    return rc;
}

static int count_one(void *arg, int64_t id, const char *key, const unsigned char *blob, size_t len)
{
    (void)id;
    (void)key;
    (void)blob;
    (void)len;
    ++*(int *)arg;
    return SP_OK;
}

static int cmd_check(struct sp_db *db, const unsigned char key[SP_SECRET_KEY_BYTES])
{
    struct walk w = {db, key, NULL, 0, 0};
    int rc = sp_store_config_each_secret(db, each, &w);
    if (rc != SP_OK) {
        fprintf(stderr, "scenepacker secrets: database error: %s\n", sp_db_errmsg(db));
        return 1;
    }
    printf("%d secret value%s open%s with the current key", w.ok, w.ok == 1 ? "" : "s",
           w.ok == 1 ? "s" : "");
    if (w.bad)
        printf("; %d do%s NOT (wrong key, or altered)", w.bad, w.bad == 1 ? "es" : "");
    printf("\n");
    return w.bad ? 1 : 0;
}

/* Write key to path (mode 0600, must not exist), fsync'd. 0 or -1 after printing why. */
static int write_key_file(const char *path, const unsigned char key[SP_SECRET_KEY_BYTES])
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            fprintf(stderr,
                    "scenepacker secrets: %s exists: an earlier rotation was interrupted.\n"
                    "  Run `scenepacker secrets check`: if the secrets open, the database still "
                    "uses secret.key and\n  %s can be removed; if not, it holds the key the "
                    "database uses now: move it over secret.key.\n",
                    path, path);
        else
            fprintf(stderr, "scenepacker secrets: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    ssize_t w = write(fd, key, SP_SECRET_KEY_BYTES);
    int ok = w == SP_SECRET_KEY_BYTES && fsync(fd) == 0;
    int err = errno;
    close(fd);
    if (!ok) {
        unlink(path);
        fprintf(stderr, "scenepacker secrets: cannot write %s: %s\n", path, strerror(err));
        return -1;
    }
    return 0;
}

/* fsync the directory holding path, so a rename in it is durable. */
static void sync_dir_of(const char *path)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    int fd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static int cmd_rotate(struct sp_db *db, const struct sp_config *cfg,
                      const unsigned char old_key[SP_SECRET_KEY_BYTES], const char *key_path,
                      const char *new_hex)
{
    unsigned char new_key[SP_SECRET_KEY_BYTES];
    if (new_hex) {
        if (sp_secret_key_parse(new_hex, new_key) != SP_OK) {
            fprintf(stderr, "scenepacker secrets: --new-key must be 64 hexadecimal characters\n");
            return 2;
        }
    } else if (cfg->secret_key[0]) {
        fprintf(stderr, "scenepacker secrets: the key comes from SP_SECRET_KEY: give the new "
                        "one with --new-key HEX (e.g. from `openssl rand -hex 32`)\n");
        return 2;
    } else {
        randombytes_buf(new_key, sizeof new_key);
    }
    if (sodium_memcmp(new_key, old_key, SP_SECRET_KEY_BYTES) == 0) {
        fprintf(stderr, "scenepacker secrets: the new key is the current key\n");
        return 2;
    }
    char new_path[PATH_MAX + 8];
    int rc = 1;
    if (key_path[0]) {
        snprintf(new_path, sizeof new_path, "%s.new", key_path);
        if (write_key_file(new_path, new_key) != 0)
            goto out;
    }
    struct walk w = {db, old_key, new_key, 0, 0};
    int src = sp_db_begin(db);
    if (src == SP_OK)
        src = sp_store_config_each_secret(db, each, &w);
    if (src == SP_OK)
        src = sp_db_commit(db);
    else if (sp_db_in_transaction(db))
        sp_db_rollback(db);
    if (src != SP_OK) {
        if (key_path[0])
            unlink(new_path);
        fprintf(stderr, "scenepacker secrets: rotation abandoned, nothing changed%s\n",
                w.bad ? " (a secret does not open with the current key)" : "");
        goto out;
    }
    if (key_path[0]) {
        if (rename(new_path, key_path) != 0) {
            fprintf(stderr,
                    "scenepacker secrets: the database now uses the key in %s but it could not "
                    "be moved over %s: %s. Move it by hand before starting the server.\n",
                    new_path, key_path, strerror(errno));
            goto out;
        }
        sync_dir_of(key_path);
        printf("re-encrypted %d secret value%s; the new key is in %s\n", w.ok, w.ok == 1 ? "" : "s",
               key_path);
    } else {
        printf("re-encrypted %d secret value%s; now set SP_SECRET_KEY to the new key on every "
               "instance before starting it\n",
               w.ok, w.ok == 1 ? "" : "s");
    }
    rc = 0;
out:
    sodium_memzero(new_key, sizeof new_key);
    return rc;
}

int sp_cli_secrets(int argc, char **argv)
{
    struct sp_config cfg;
    int st = sp_cli_start(&argc, argv, usage, &cfg);
    if (st >= 0)
        return st;
    const char *cmd = argc > 1 ? argv[1] : NULL;
    const char *new_hex = NULL;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--new-key") && i + 1 < argc) {
            new_hex = argv[++i];
        } else {
            fprintf(stderr, "scenepacker secrets: unexpected argument '%s' (see --help)\n",
                    argv[i]);
            return 2;
        }
    }
    if (!cmd || (strcmp(cmd, "check") && strcmp(cmd, "rotate"))) {
        usage(stderr);
        return 2;
    }
    if (new_hex && strcmp(cmd, "rotate")) {
        fprintf(stderr, "scenepacker secrets: --new-key goes with rotate\n");
        return 2;
    }
    if (sodium_init() < 0) {
        fprintf(stderr, "scenepacker secrets: libsodium failed to initialise\n");
        return 1;
    }
    struct sp_err e = {{0}, {0}};
    if (sp_app_init_store(&cfg, false, &e) != SP_OK) {
        fprintf(stderr, "scenepacker secrets: %s\n", e.message);
        return 1;
    }
    struct sp_db *db = sp_db_thread();
    unsigned char key[SP_SECRET_KEY_BYTES];
    char path[PATH_MAX];
    int rc = 1;
    int krc = current_key(&cfg, key, path, sizeof path);
    if (krc == SP_NOTFOUND) {
        int n = 0;
        if (sp_store_config_each_secret(db, count_one, &n) != SP_OK) {
            fprintf(stderr, "scenepacker secrets: database error: %s\n", sp_db_errmsg(db));
        } else if (n) {
            fprintf(stderr,
                    "scenepacker secrets: no key file %s, yet %d secret value%s stored: "
                    "they cannot be opened without the key they were sealed with\n",
                    path, n, n == 1 ? " is" : "s are");
        } else {
            printf("no key file %s and no secret value stored: nothing to do (the server "
                   "creates the key at its first start)\n",
                   path);
            rc = 0;
        }
    } else if (krc == SP_OK) {
        rc = !strcmp(cmd, "check") ? cmd_check(db, key) : cmd_rotate(db, &cfg, key, path, new_hex);
    }
    sp_db_global_shutdown();
    sodium_memzero(key, sizeof key);
    return rc;
}
