/*
 * app.c — process start-up: data directories, database (migrations + first-start content),
 * keys, worker pools and the response cache.
 */
#include "app.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/auth.h"
#include "cache/cache.h"
#include "jobs/runner.h"
#include "store/bootstrap.h"
#include "store/db.h"
#include "store/migrate.h"
#include "util/log.h"
#include "util/pool.h"
#include "util/time.h"

#define CACHE_BYTES (64u * 1024 * 1024)

/* mkdir -p with mode for the missing components; SP_OK or SP_ERR naming the path. */
/* Run once on every kdf worker at start. */
static void kdf_warm(void)
{
    (void)sp_db_thread();
}

/* One argon2id run at start (the dummy hash for unknown usernames), so the first logins find
 * its working memory mapped (see auth/password.c, the spare region). */
static void kdf_warm_hash(void *arg)
{
    (void)arg;
    sp_password_warm();
}

static int make_dirs(const char *path, mode_t mode, struct sp_err *e)
{
    char buf[PATH_MAX];
    int n = snprintf(buf, sizeof buf, "%s", path);
    if (n <= 0 || (size_t)n >= sizeof buf) {
        sp_err_set(e, "data_dir", "path too long: %s", path);
        return SP_ERR;
    }
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST) {
            sp_err_set(e, "data_dir", "cannot create directory %s: %s", buf, strerror(errno));
            return SP_ERR;
        }
        *p = '/';
    }
    if (mkdir(buf, mode) != 0 && errno != EEXIST) {
        sp_err_set(e, "data_dir", "cannot create directory %s: %s", buf, strerror(errno));
        return SP_ERR;
    }
    struct stat st;
    if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
        sp_err_set(e, "data_dir", "%s exists and is not a directory", buf);
        return SP_ERR;
    }
    if (access(buf, W_OK | X_OK) != 0) {
        sp_err_set(e, "data_dir", "directory %s is not writable by this user: %s", buf,
                   strerror(errno));
        return SP_ERR;
    }
    return SP_OK;
}

static int make_data_dirs(const char *data_dir, struct sp_err *e)
{
    static const char *const subdirs[] = {"uploads", "releases"};
    if (make_dirs(data_dir, 0750, e) != SP_OK)
        return SP_ERR;
    for (size_t i = 0; i < SP_ARRAY_LEN(subdirs); i++) {
        char path[PATH_MAX];
        int n = snprintf(path, sizeof path, "%s/%s", data_dir, subdirs[i]);
        if (n <= 0 || (size_t)n >= sizeof path) {
            sp_err_set(e, "data_dir", "path too long: %s", data_dir);
            return SP_ERR;
        }
        if (make_dirs(path, 0750, e) != SP_OK)
            return SP_ERR;
    }
    return SP_OK;
}

static void print_admin_banner(const char *password)
{
    printf("\n"
           "=====================================================================\n"
           "  First start: the administrator account has been created.\n"
           "\n"
           "      username: admin\n"
           "      password: %s\n"
           "\n"
           "  This password is shown ONCE and stored only as a hash.\n"
           "  Log in and change it, or set SP_ADMIN_PASSWORD before a first start.\n"
           "=====================================================================\n\n",
           password);
    fflush(stdout);
}

static void print_migration(void *arg, const struct sp_migration *m)
{
    (void)arg;
    printf("applied migration %s\n", m->name);
}

int sp_app_init_store(const struct sp_config *cfg, bool verbose, struct sp_err *e)
{
    if (make_data_dirs(cfg->data_dir, e) != SP_OK)
        return SP_ERR;
    char url[sizeof cfg->database_url];
    if (cfg->database_url[0])
        snprintf(url, sizeof url, "%s", cfg->database_url);
    else
        snprintf(url, sizeof url, "sqlite://%s/scenepacker.db", cfg->data_dir);
    if (sp_db_global_init(url, e) != SP_OK)
        return SP_ERR;
    struct sp_db *db = sp_db_thread();
    if (!db) {
        sp_err_set(e, "database_url", "cannot open the database %s (is %s writable?)", url,
                   cfg->data_dir);
        goto fail;
    }
    int applied = 0;
    if (sp_store_migrate_cb(db, &applied, verbose ? print_migration : NULL, NULL, e) != SP_OK)
        goto fail;
    if (verbose && applied == 0)
        printf("schema is up to date\n");
    struct sp_bootstrap_result br;
    if (sp_store_bootstrap(db, cfg->admin_password, &br, e) != SP_OK)
        goto fail;
    if (br.admin_created)
        sp_info("admin account created", "username admin%s",
                br.admin_password_generated ? ", generated password printed on stdout"
                                            : ", password from SP_ADMIN_PASSWORD");
    if (br.admin_password_generated)
        print_admin_banner(br.admin_password);
    sodium_memzero(br.admin_password, sizeof br.admin_password);
    return SP_OK;
fail:
    sp_db_global_shutdown();
    return SP_ERR;
}

/* Read exactly `n` bytes of key from path, creating it (mode 0600, random) when absent. */
static int key_file(const char *path, unsigned char *key, size_t n, struct sp_err *e)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            unsigned char buf[64];
            ssize_t got = read(fd, buf, sizeof buf);
            close(fd);
            if (got != (ssize_t)n) {
                sp_err_set(e, "", "key file %s must hold exactly %zu bytes (found %zd)", path, n,
                           got);
                return SP_ERR;
            }
            memcpy(key, buf, n);
            sodium_memzero(buf, sizeof buf);
            return SP_OK;
        }
        if (errno != ENOENT) {
            sp_err_set(e, "", "cannot read key file %s: %s", path, strerror(errno));
            return SP_ERR;
        }
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0) {
            if (errno == EEXIST)
                continue; /* another instance created it just now: read theirs */
            sp_err_set(e, "", "cannot create key file %s: %s", path, strerror(errno));
            return SP_ERR;
        }
        randombytes_buf(key, n);
        ssize_t w = write(fd, key, n);
        int ok = w == (ssize_t)n && fsync(fd) == 0;
        close(fd);
        if (!ok) {
            unlink(path);
            sp_err_set(e, "", "cannot write key file %s: %s", path, strerror(errno));
            return SP_ERR;
        }
        sp_info("key file created", "%s", path);
        return SP_OK;
    }
    sp_err_set(e, "", "cannot read key file %s", path);
    return SP_ERR;
}

static int load_keys(struct sp_app *app, struct sp_err *e)
{
    char path[PATH_MAX];
    if (app->cfg.jwt_secret[0]) {
        /* a configured secret (shared by every instance) is hashed to the 32-byte key */
        crypto_hash_sha256(app->jwt_key, (const unsigned char *)app->cfg.jwt_secret,
                           strlen(app->cfg.jwt_secret));
    } else {
        snprintf(path, sizeof path, "%s/jwt.key", app->cfg.data_dir);
        if (key_file(path, app->jwt_key, sizeof app->jwt_key, e) != SP_OK)
            return SP_ERR;
    }
    if (app->cfg.secret_key[0]) {
        size_t len = 0;
        if (sodium_hex2bin(app->secret_key, sizeof app->secret_key, app->cfg.secret_key,
                           strlen(app->cfg.secret_key), NULL, &len, NULL) != 0 ||
            len != sizeof app->secret_key) {
            sp_err_set(e, "secret_key", "SP_SECRET_KEY must be 64 hexadecimal characters");
            return SP_ERR;
        }
    } else {
        snprintf(path, sizeof path, "%s/secret.key", app->cfg.data_dir);
        if (key_file(path, app->secret_key, sizeof app->secret_key, e) != SP_OK)
            return SP_ERR;
    }
    return SP_OK;
}

int sp_app_init(struct sp_app *app, struct sp_err *e)
{
    if (sodium_init() < 0) {
        sp_err_set(e, "", "libsodium failed to initialise");
        return SP_ERR;
    }
    app->kdf_pool = NULL;
    app->cache = NULL;
    app->jobs = NULL;
    atomic_store(&app->draining, 0);
    if (sp_app_init_store(&app->cfg, false, e) != SP_OK)
        return SP_ERR;
    if (load_keys(app, e) != SP_OK)
        goto fail;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int kdf_threads = app->cfg.kdf_threads > 0 ? app->cfg.kdf_threads : (int)(cpus > 0 ? cpus : 1);
    int kdf_queue = app->cfg.kdf_queue > 0 ? app->cfg.kdf_queue : 1024;
    app->kdf_pool = sp_pool_new("kdf", kdf_threads, kdf_queue);
    /* argon2's 19 MiB per worker is kept through a burst of logins, freed after 1 s idle */
    sp_pool_set_idle(app->kdf_pool, sp_password_trim, 1000);
    sp_password_cache_init(app->cfg.login_cache_ttl);
    /* open each kdf worker's database connection now, not during the first logins */
    sp_pool_each(app->kdf_pool, kdf_warm);
    (void)sp_pool_submit(app->kdf_pool, kdf_warm_hash, NULL);
    app->cache = sp_cache_new(CACHE_BYTES);
    app->started_at = sp_time_now();
    if (sp_jobs_start(app, e) != SP_OK) {
        sp_app_shutdown(app);
        return SP_ERR;
    }
    return SP_OK;
fail:
    sp_db_global_shutdown();
    sodium_memzero(app->jwt_key, sizeof app->jwt_key);
    sodium_memzero(app->secret_key, sizeof app->secret_key);
    return SP_ERR;
}

void sp_app_shutdown(struct sp_app *app)
{
    sp_jobs_stop(app); /* before the pools and the database it uses */
    if (app->kdf_pool) {
        sp_pool_free(app->kdf_pool);
        app->kdf_pool = NULL;
        sp_password_spare_free(); /* after the workers, which hand their memory to it */
    }
    if (app->cache) {
        sp_cache_free(app->cache);
        app->cache = NULL;
    }
    sp_db_global_shutdown();
    sodium_memzero(app->jwt_key, sizeof app->jwt_key);
    sodium_memzero(app->secret_key, sizeof app->secret_key);
}
