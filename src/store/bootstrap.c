/*
 * bootstrap.c — the first-start content of a fresh database (see bootstrap.h).
 */
#include "store/bootstrap.h"

#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/auth.h"
#include "auth/permissions.h"
#include "store/db.h"
#include "store/users.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

/* What each action means, per resource (descriptions shown in the admin UI). */
static const char *const resource_desc[SP_RES_COUNT] = {
    "releases", "scene rules", "user accounts", "roles and their permissions",
    "configuration entries", "packaging jobs", "the audit log",
};

static const char *const action_desc[SP_ACT_COUNT][2] = {
    {"View ", ""},
    {"Create and edit ", ""},
    {"Manage everyone's ", " (moderation; implies write and read)"},
    {"Delete ", ""},
};

struct role_def {
    const char *name;
    const char *description;
    uint64_t perms; /* explicit rows (read is listed too, not only implied) */
};

#define B(r, a) SP_PERM_BIT(SP_RES_##r, SP_ACT_##a)

static const struct role_def roles[] = {
    {"admin", "Full access to everything", 0 /* every permission; filled at run time */},
    {"operator", "Creates and edits releases and rules; sees jobs",
     B(RELEASES, READ) | B(RELEASES, WRITE) | B(RULES, READ) | B(RULES, WRITE) | B(JOBS, READ)},
    {"viewer", "Read-only access to releases and rules", B(RELEASES, READ) | B(RULES, READ)},
};

static const char rule_text[] =
    "[2022] eBOOK - English scene standard, summary used by this packer\n"
    "\n"
    "1. Source formats: PDF, EPUB, CBZ, Kindle (AZW, AZW3/KF8), Mobipocket (MOBI, PRC).\n"
    "   The format is detected from the file's bytes; an extension that lies is refused.\n"
    "   Files carrying DRM are refused.\n"
    "2. Mandatory metadata: release date (YYYY-MM-DD), publish date (date or year),\n"
    "   language, source (RETAiL, SCAN or HYBRiD), author or publisher, issue or volume\n"
    "   where the type has one, and a proof/source URL for RETAiL.\n"
    "3. Directory name: words joined by dots, group after a final dash. Allowed\n"
    "   characters A-Z a-z 0-9 . _ - only, at most 243 characters. Order:\n"
    "   name parts, year, language (not for English), source, extra tags (READNFO,\n"
    "   NFOFiX, DiRFiX, iNTERNAL, PROPER, REPACK), type tag (MAGAZiNE, COMiC, MANGA),\n"
    "   format tag when not PDF (ePUB, CBZ, KF8, AZW, MOBI, PRC), then eBOOK-GROUP.\n"
    "   A dirname may exist only once.\n"
    "4. Layout: one NFO, ZIP volumes with 8.3 lowercase names, one SFV of the volumes.\n"
    "   Every ZIP holds FILE_ID.DIZ, the NFO and the payload; at most 99 files per ZIP;\n"
    "   no spaces in archive, DIZ or NFO names; payload names at most 140 characters.\n"
    "5. Volume sizes: 5, 10, 50, 100, 150, 200 or 250 million bytes; the smallest size\n"
    "   that holds the release in one volume is the default.\n"
    "6. FILE_ID.DIZ: plain ASCII, at most 44 columns by 30 lines, with the title, the\n"
    "   group and DISK: [xx/yy].\n"
    "7. NFO: at most 80 columns, CP437 on disk, CRLF line ends, every mandatory field,\n"
    "   disks, total size, ISBN, genre and URL. Fixes (PROPER, REPACK, NFOFiX) name the\n"
    "   release they fix.\n";

const char *sp_bootstrap_rule_text(void)
{
    return rule_text;
}

char *sp_bootstrap_rule_spec(void)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:i,"
        " s:[s,s,s,s,s,s,s,s], s:{s:s, s:s, s:s, s:s, s:s, s:s, s:s}, s:b,"
        " s:[I,I,I,I,I,I,I], s:i, s:b, s:i, s:i,"
        " s:i, s:s, s:s, s:[s,s,s], s:[s,s,s,s,s,s], s:{s:s, s:s, s:s},"
        " s:i, s:s, s:s, s:i, s:i, s:b,"
        " s:[s,s,s,s,s], s:b}",
        "section", "eBOOK", "scene", "English", "year", 2022,
        /* formats */
        "formats", "PDF", "EPUB", "CBZ", "AZW", "AZW3", "KF8", "MOBI", "PRC", "format_tags",
        "EPUB", "ePUB", "CBZ", "CBZ", "AZW", "AZW", "AZW3", "KF8", "KF8", "KF8", "MOBI", "MOBI",
        "PRC", "PRC", "drm_allowed", 0,
        /* archives */
        "zip_sizes", (json_int_t)5000000, (json_int_t)10000000, (json_int_t)50000000,
        (json_int_t)100000000, (json_int_t)150000000, (json_int_t)200000000,
        (json_int_t)250000000, "max_files_per_zip", 99, "zip_names_8_3", 1, "zip_name_max", 8,
        "payload_name_max", 140,
        /* names */
        "name_max_length", 243, "name_allowed_chars", "A-Za-z0-9._-", "name_pattern",
        "^[A-Za-z0-9][A-Za-z0-9._-]*\\.eBOOK-[A-Za-z0-9][A-Za-z0-9_-]*$", "sources", "RETAiL",
        "SCAN", "HYBRiD", "extra_tags", "READNFO", "NFOFiX", "DiRFiX", "iNTERNAL", "PROPER",
        "REPACK", "type_tags", "magazine", "MAGAZiNE", "comic", "COMiC", "manga", "MANGA",
        /* NFO / DIZ */
        "nfo_max_width", 80, "nfo_encoding", "CP437", "nfo_line_end", "CRLF", "diz_max_width",
        44, "diz_max_lines", 30, "sfv_required", 1,
        /* metadata */
        "mandatory_fields", "release_date", "publish_date", "language", "source",
        "author_or_publisher", "retail_requires_url", 1);
    if (!j)
        return sp_strdup("{}");
    char *s = sp_json_dump(j, NULL);
    json_decref(j);
    return s;
}

/* A random password of 20 characters from [A-Za-z0-9] (~119 bits), unbiased. */
static void random_password(char *out, size_t cap)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    size_t n = 20 < cap - 1 ? 20 : cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = alphabet[randombytes_uniform((uint32_t)(sizeof alphabet - 1))];
    out[n] = '\0';
}

static int step_exec(struct sp_stmt *st)
{
    return st ? sp_stmt_exec(st) : SP_ERR;
}

static int add_permissions(struct sp_db *db, int *added)
{
    for (int r = 0; r < SP_RES_COUNT; r++) {
        for (int a = 0; a < SP_ACT_COUNT; a++) {
            char desc[128];
            snprintf(desc, sizeof desc, "%s%s%s", action_desc[a][0], resource_desc[r],
                     action_desc[a][1]);
            struct sp_stmt *st = sp_db_prepare(db, "INSERT OR IGNORE INTO permissions(resource,"
                                                   " action, description) VALUES (?, ?, ?)");
            if (!st)
                return SP_ERR;
            sp_stmt_bind_text(st, 1, sp_resource_name(r));
            sp_stmt_bind_text(st, 2, sp_action_name(a));
            sp_stmt_bind_text(st, 3, desc);
            int rc = sp_stmt_exec(st);
            if (rc != SP_OK)
                return rc;
            *added += (int)sp_db_changes(db);
        }
    }
    return SP_OK;
}

static int link_perm(struct sp_db *db, int64_t role_id, int r, int a)
{
    struct sp_stmt *st = sp_db_prepare(
        db, "INSERT OR IGNORE INTO role_permissions(role_id, permission_id)"
            " SELECT ?, id FROM permissions WHERE resource = ? AND action = ?");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_int(st, 1, role_id);
    sp_stmt_bind_text(st, 2, sp_resource_name(r));
    sp_stmt_bind_text(st, 3, sp_action_name(a));
    return step_exec(st);
}

static int add_roles(struct sp_db *db, int *added)
{
    int64_t now = sp_time_now();
    for (size_t i = 0; i < SP_ARRAY_LEN(roles); i++) {
        const struct role_def *d = &roles[i];
        struct sp_stmt *st = sp_db_prepare(db, "INSERT OR IGNORE INTO roles(name, description,"
                                               " builtin, created_at, updated_at)"
                                               " VALUES (?, ?, 1, ?, ?)");
        if (!st)
            return SP_ERR;
        sp_stmt_bind_text(st, 1, d->name);
        sp_stmt_bind_text(st, 2, d->description);
        sp_stmt_bind_int(st, 3, now);
        sp_stmt_bind_int(st, 4, now);
        int rc = sp_stmt_exec(st);
        if (rc != SP_OK)
            return rc;
        bool created = sp_db_changes(db) > 0;
        *added += created;
        bool is_admin = !strcmp(d->name, "admin");
        if (!created && !is_admin)
            continue; /* keep an administrator's edits of operator/viewer */
        st = sp_db_prepare(db, "SELECT id FROM roles WHERE name = ?");
        if (!st)
            return SP_ERR;
        sp_stmt_bind_text(st, 1, d->name);
        rc = sp_stmt_step(st);
        int64_t rid = rc == SP_ROW ? sp_stmt_column_int(st, 0) : 0;
        sp_stmt_reset(st);
        if (rc != SP_ROW)
            return rc == SP_DONE ? SP_ERR : rc;
        for (int r = 0; r < SP_RES_COUNT; r++) {
            for (int a = 0; a < SP_ACT_COUNT; a++) {
                if (!is_admin && !(d->perms & SP_PERM_BIT(r, a)))
                    continue;
                rc = link_perm(db, rid, r, a);
                if (rc != SP_OK)
                    return rc;
            }
        }
    }
    return SP_OK;
}

static int add_rule(struct sp_db *db, int *added)
{
    struct sp_stmt *st =
        sp_db_prepare(db, "SELECT 1 FROM rules WHERE builtin = 1 AND name = ? LIMIT 1");
    if (!st)
        return SP_ERR;
    sp_stmt_bind_text(st, 1, SP_BUILTIN_RULE_NAME);
    int rc = sp_stmt_step(st);
    sp_stmt_reset(st);
    if (rc == SP_ROW)
        return SP_OK;
    if (rc != SP_DONE)
        return rc;
    char *spec = sp_bootstrap_rule_spec();
    int64_t now = sp_time_now();
    st = sp_db_prepare(db, "INSERT INTO rules(name, scene, section, year, content, spec, builtin,"
                           " user_id, created_at, updated_at)"
                           " VALUES (?, 'English', 'eBOOK', 2022, ?, ?, 1, NULL, ?, ?)");
    if (st) {
        sp_stmt_bind_text(st, 1, SP_BUILTIN_RULE_NAME);
        sp_stmt_bind_text(st, 2, rule_text);
        sp_stmt_bind_text(st, 3, spec);
        sp_stmt_bind_int(st, 4, now);
        sp_stmt_bind_int(st, 5, now);
    }
    rc = step_exec(st);
    sp_free(spec);
    if (rc == SP_OK)
        (*added)++;
    return rc;
}

/* 1 when the users table is empty, 0 when not, negative on error. */
static int no_users(struct sp_db *db)
{
    struct sp_stmt *st = sp_db_prepare(db, "SELECT 1 FROM users LIMIT 1");
    if (!st)
        return -SP_ERR;
    int rc = sp_stmt_step(st);
    sp_stmt_reset(st);
    if (rc == SP_ROW)
        return 0;
    return rc == SP_DONE ? 1 : -rc;
}

int sp_store_bootstrap(struct sp_db *db, const char *admin_password,
                       struct sp_bootstrap_result *res, struct sp_err *e)
{
    memset(res, 0, sizeof *res);
    if (!db) {
        sp_err_set(e, "", "no database connection");
        return SP_ERR;
    }
    if (sodium_init() < 0) {
        sp_err_set(e, "", "libsodium failed to initialise");
        return SP_ERR;
    }
    char hash[SP_PASSWORD_HASH_MAX] = "";
    char password[sizeof res->admin_password] = "";
    bool generated = false;
    /* Hash outside the write transaction: argon2 takes tens of milliseconds. */
    int empty = no_users(db);
    if (empty < 0) {
        sp_err_set(e, "", "cannot read users: %s", sp_db_errmsg(db));
        return -empty;
    }
    if (empty) {
        if (admin_password && *admin_password) {
            if (strlen(admin_password) < 10) {
                sp_err_set(e, "admin_password",
                           "SP_ADMIN_PASSWORD must be at least 10 characters long");
                return SP_INVALID;
            }
            if (strlen(admin_password) >= sizeof password) {
                sp_err_set(e, "admin_password",
                           "SP_ADMIN_PASSWORD must be shorter than %zu characters",
                           sizeof password);
                return SP_INVALID;
            }
            snprintf(password, sizeof password, "%s", admin_password);
        } else {
            random_password(password, sizeof password);
            generated = true;
        }
        if (sp_password_hash(password, hash, sizeof hash) != SP_OK) {
            sp_err_set(e, "", "cannot hash the admin password");
            return SP_ERR;
        }
    }

    int rc = sp_db_begin(db);
    if (rc != SP_OK) {
        sp_err_set(e, "", "cannot start the bootstrap transaction: %s", sp_db_errmsg(db));
        goto out;
    }
    rc = add_permissions(db, &res->permissions_added);
    if (rc == SP_OK)
        rc = add_roles(db, &res->roles_added);
    if (rc == SP_OK)
        rc = add_rule(db, &res->rules_added);
    if (rc == SP_OK && empty) {
        /* re-check under the write lock: another instance may have bootstrapped meanwhile */
        int still = no_users(db);
        if (still < 0) {
            rc = -still;
        } else if (still) {
            static const char *const admin_roles[] = {"admin", NULL};
            struct sp_user_new u = {
                .username = "admin",
                .password_hash = hash,
                .note = "created at first start",
                .active = true,
                .role_names = admin_roles,
            };
            rc = sp_store_user_create(db, &u, NULL, e);
            if (rc == SP_OK) {
                res->admin_created = true;
                res->admin_password_generated = generated;
                if (generated)
                    snprintf(res->admin_password, sizeof res->admin_password, "%s", password);
            }
        }
    }
    if (rc == SP_OK) {
        rc = sp_db_commit(db);
    } else {
        sp_db_rollback(db);
    }
    if (rc != SP_OK && e && !e->message[0])
        sp_err_set(e, "", "bootstrap failed: %s", sp_db_errmsg(db));
out:
    sodium_memzero(password, sizeof password);
    sodium_memzero(hash, sizeof hash);
    if (rc != SP_OK) {
        res->admin_created = false;
        res->admin_password_generated = false;
        res->admin_password[0] = '\0';
    }
    return rc;
}
