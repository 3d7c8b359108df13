/*
 * cli/user.c — `scenepacker user add|passwd|list|disable|enable`: account administration
 * without a running server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "app.h"
#include "auth/auth.h"
#include "cli/cli.h"
#include "config.h"
#include "store/db.h"
#include "store/users.h"
#include "util/alloc.h"
#include "util/time.h"

#define PASSWORD_MIN 10
#define PASSWORD_MAX 1024

static void usage(FILE *out)
{
    fprintf(out,
            "usage: scenepacker user <command> [options]\n\n"
            "commands:\n"
            "  add NAME [--email E] [--role admin|operator|viewer]... [--note TEXT]\n"
            "           [--password-stdin | --password P]\n"
            "                 create an account (default role: viewer)\n"
            "  passwd NAME [--password-stdin | --password P]\n"
            "                 set a new password (logs the user out everywhere)\n"
            "  list           list every account\n"
            "  disable NAME   deactivate an account (its tokens stop working at once)\n"
            "  enable NAME    reactivate an account\n\n"
            "Passwords have at least %d characters. Without --password/--password-stdin the\n"
            "password is asked on the terminal (not echoed).\n\n",
            PASSWORD_MIN);
    sp_config_help(out);
}

static int email_ok(const char *s)
{
    size_t n = strlen(s);
    const char *at = strchr(s, '@');
    if (n < 3 || n > SP_EMAIL_MAX || !at || at == s || !at[1] || strchr(at + 1, '@'))
        return 0;
    for (; *s; s++)
        if ((unsigned char)*s <= ' ')
            return 0;
    return 1;
}

/* Read one line from f into buf (without the line end). 0 ok, -1 on EOF/overlong. */
static int read_line(FILE *f, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, f))
        return -1;
    size_t n = strlen(buf);
    if (n == cap - 1 && buf[n - 1] != '\n')
        return -1; /* longer than the buffer */
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    return 0;
}

/* Prompt on the terminal with echo off. */
static int prompt_hidden(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    fputs(prompt, stderr);
    fflush(stderr);
    int have_tty = tcgetattr(STDIN_FILENO, &old) == 0;
    if (have_tty) {
        quiet = old;
        quiet.c_lflag &= ~(tcflag_t)ECHO;
        tcsetattr(STDIN_FILENO, TCSANOW, &quiet); /* keep type-ahead */
    }
    int rc = read_line(stdin, buf, cap);
    if (have_tty)
        tcsetattr(STDIN_FILENO, TCSANOW, &old);
    fputc('\n', stderr);
    return rc;
}

/* Get the password from --password, --password-stdin or a terminal prompt (twice).
 * 0 ok; -1 after printing why not. */
static int get_password(const char *given, int from_stdin, char *buf, size_t cap)
{
    if (given) {
        if (strlen(given) >= cap) {
            fprintf(stderr, "password too long (at most %d characters)\n", PASSWORD_MAX);
            return -1;
        }
        snprintf(buf, cap, "%s", given);
    } else if (from_stdin) {
        if (read_line(stdin, buf, cap) < 0) {
            fprintf(stderr, "no password on standard input (or longer than %d characters)\n",
                    PASSWORD_MAX);
            return -1;
        }
    } else if (isatty(STDIN_FILENO)) {
        char again[PASSWORD_MAX + 2];
        if (prompt_hidden("New password: ", buf, cap) < 0 ||
            prompt_hidden("Repeat password: ", again, sizeof again) < 0) {
            fprintf(stderr, "no password entered\n");
            return -1;
        }
        int same = strcmp(buf, again) == 0;
        memset(again, 0, sizeof again);
        if (!same) {
            fprintf(stderr, "the two passwords differ\n");
            return -1;
        }
    } else {
        fprintf(stderr, "no password given: use --password-stdin (or --password P) when not on "
                        "a terminal\n");
        return -1;
    }
    if (strlen(buf) < PASSWORD_MIN) {
        fprintf(stderr, "password too short: at least %d characters\n", PASSWORD_MIN);
        return -1;
    }
    return 0;
}

struct opts {
    const char *email;
    const char *note;
    const char *password;
    int password_stdin;
    const char *roles[SP_USER_MAX_ROLES + 1];
    int nroles;
    const char *pos[4];
    int npos;
};

/* Parse the subcommand's own flags (config flags were already removed). */
static int parse(int argc, char **argv, struct opts *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--email") || !strcmp(a, "--note") || !strcmp(a, "--role") ||
            !strcmp(a, "--password")) {
            if (!v) {
                fprintf(stderr, "scenepacker user: %s needs a value\n", a);
                return -1;
            }
            i++;
            if (!strcmp(a, "--email")) {
                o->email = v;
            } else if (!strcmp(a, "--note")) {
                o->note = v;
            } else if (!strcmp(a, "--password")) {
                o->password = v;
            } else {
                if (o->nroles >= SP_USER_MAX_ROLES) {
                    fprintf(stderr, "scenepacker user: too many --role flags\n");
                    return -1;
                }
                o->roles[o->nroles++] = v;
            }
        } else if (!strcmp(a, "--password-stdin")) {
            o->password_stdin = 1;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "scenepacker user: unknown option '%s'\n", a);
            return -1;
        } else {
            if (o->npos >= (int)SP_ARRAY_LEN(o->pos)) {
                fprintf(stderr, "scenepacker user: unexpected argument '%s'\n", a);
                return -1;
            }
            o->pos[o->npos++] = a;
        }
    }
    if (o->password && o->password_stdin) {
        fprintf(stderr, "scenepacker user: --password and --password-stdin exclude each other\n");
        return -1;
    }
    return 0;
}

static int find_user(struct sp_db *db, const char *name, struct sp_user *u)
{
    int rc = sp_store_user_get_by_name(db, name, u);
    if (rc == SP_NOTFOUND)
        fprintf(stderr, "scenepacker user: no user named '%s'\n", name);
    else if (rc != SP_OK)
        fprintf(stderr, "scenepacker user: database error: %s\n", sp_db_errmsg(db));
    return rc;
}

static int cmd_add(struct sp_db *db, struct opts *o)
{
    if (o->npos != 2) {
        fprintf(stderr, "usage: scenepacker user add NAME [options]\n");
        return 2;
    }
    const char *name = o->pos[1];
    if (!sp_username_valid(name)) {
        fprintf(stderr, "invalid username '%s': 3-64 characters of A-Z a-z 0-9 _ . -\n", name);
        return 2;
    }
    if (o->email && !email_ok(o->email)) {
        fprintf(stderr, "invalid email address '%s'\n", o->email);
        return 2;
    }
    if (o->note && strlen(o->note) > SP_USER_NOTE_MAX) {
        fprintf(stderr, "note too long (at most %d bytes)\n", SP_USER_NOTE_MAX);
        return 2;
    }
    for (int i = 0; i < o->nroles; i++) {
        if (strcmp(o->roles[i], "admin") && strcmp(o->roles[i], "operator") &&
            strcmp(o->roles[i], "viewer")) {
            /* custom roles made in the UI are accepted too, if they exist */
            struct sp_role r;
            if (sp_store_role_get_by_name(db, o->roles[i], &r) != SP_OK) {
                fprintf(stderr, "unknown role '%s' (built-in: admin, operator, viewer)\n",
                        o->roles[i]);
                return 2;
            }
        }
    }
    if (o->nroles == 0)
        o->roles[o->nroles++] = "viewer";
    o->roles[o->nroles] = NULL;

    char password[PASSWORD_MAX + 2];
    if (get_password(o->password, o->password_stdin, password, sizeof password) < 0)
        return 2;
    char hash[SP_PASSWORD_HASH_MAX];
    int rc = sp_password_hash(password, hash, sizeof hash);
    memset(password, 0, sizeof password);
    if (rc != SP_OK) {
        fprintf(stderr, "cannot hash the password\n");
        return 1;
    }
    struct sp_user_new nu = {
        .username = name,
        .email = o->email,
        .password_hash = hash,
        .note = o->note,
        .active = true,
        .role_names = o->roles,
    };
    int64_t id = 0;
    struct sp_err e = {{0}, {0}};
    rc = sp_store_user_create(db, &nu, &id, &e);
    if (rc != SP_OK) {
        fprintf(stderr, "cannot create the user: %s\n",
                e.message[0] ? e.message : sp_db_errmsg(db));
        return rc == SP_CONFLICT || rc == SP_INVALID ? 2 : 1;
    }
    printf("created user %s (id %lld) with role%s", name, (long long)id, o->nroles > 1 ? "s" : "");
    for (int i = 0; i < o->nroles; i++)
        printf("%s%s", i ? ", " : " ", o->roles[i]);
    printf("\n");
    return 0;
}

static int cmd_passwd(struct sp_db *db, struct opts *o)
{
    if (o->npos != 2) {
        fprintf(stderr, "usage: scenepacker user passwd NAME [--password-stdin | --password P]\n");
        return 2;
    }
    struct sp_user u;
    int rc = find_user(db, o->pos[1], &u);
    if (rc != SP_OK)
        return rc == SP_NOTFOUND ? 2 : 1;
    char password[PASSWORD_MAX + 2];
    if (get_password(o->password, o->password_stdin, password, sizeof password) < 0)
        return 2;
    char hash[SP_PASSWORD_HASH_MAX];
    rc = sp_password_hash(password, hash, sizeof hash);
    memset(password, 0, sizeof password);
    if (rc != SP_OK) {
        fprintf(stderr, "cannot hash the password\n");
        return 1;
    }
    rc = sp_store_user_set_password(db, u.id, hash, true);
    if (rc != SP_OK) {
        fprintf(stderr, "cannot set the password: %s\n", sp_db_errmsg(db));
        return 1;
    }
    printf("password of %s changed; existing sessions were logged out\n", u.username);
    return 0;
}

static int cmd_active(struct sp_db *db, struct opts *o, bool active)
{
    if (o->npos != 2) {
        fprintf(stderr, "usage: scenepacker user %s NAME\n", active ? "enable" : "disable");
        return 2;
    }
    struct sp_user u;
    int rc = find_user(db, o->pos[1], &u);
    if (rc != SP_OK)
        return rc == SP_NOTFOUND ? 2 : 1;
    rc = sp_store_user_set_active(db, u.id, active);
    if (rc != SP_OK) {
        fprintf(stderr, "cannot update the user: %s\n", sp_db_errmsg(db));
        return 1;
    }
    printf("user %s %s\n", u.username, active ? "enabled" : "disabled; its tokens no longer work");
    return 0;
}

static int cmd_list(struct sp_db *db, struct opts *o)
{
    if (o->npos != 1) {
        fprintf(stderr, "usage: scenepacker user list\n");
        return 2;
    }
    printf("%-6s %-24s %-28s %-8s %-20s %s\n", "ID", "USERNAME", "EMAIL", "ACTIVE", "LAST LOGIN",
           "ROLES");
    for (int page = 1;; page++) {
        struct sp_user *users = NULL;
        int n = 0;
        int64_t total = 0;
        int rc = sp_store_user_list(db, page, 100, NULL, -1, &users, &n, &total);
        if (rc != SP_OK) {
            fprintf(stderr, "cannot list users: %s\n", sp_db_errmsg(db));
            return 1;
        }
        for (int i = 0; i < n; i++) {
            const struct sp_user *u = &users[i];
            char last[32] = "never";
            if (u->last_login_at)
                sp_time_rfc3339(u->last_login_at, last, sizeof last);
            printf("%-6lld %-24s %-28s %-8s %-20s", (long long)u->id, u->username,
                   u->email[0] ? u->email : "-", u->active ? "yes" : "no", last);
            for (int r = 0; r < u->nroles; r++)
                printf("%s%s", r ? "," : " ", u->roles[r]);
            printf("\n");
        }
        sp_free(users);
        if (n < 100)
            break;
    }
    return 0;
}

int sp_cli_user(int argc, char **argv)
{
    struct sp_config cfg;
    int st = sp_cli_start(&argc, argv, usage, &cfg);
    if (st >= 0)
        return st;
    struct opts o;
    if (parse(argc, argv, &o) < 0)
        return 2;
    if (o.npos == 0) {
        usage(stderr);
        return 2;
    }
    const char *cmd = o.pos[0];
    if (strcmp(cmd, "add") && strcmp(cmd, "passwd") && strcmp(cmd, "list") &&
        strcmp(cmd, "disable") && strcmp(cmd, "enable")) {
        fprintf(stderr, "scenepacker user: unknown command '%s'\n\n", cmd);
        usage(stderr);
        return 2;
    }
    struct sp_err e = {{0}, {0}};
    if (sp_app_init_store(&cfg, false, &e) != SP_OK) {
        fprintf(stderr, "scenepacker user: %s\n", e.message);
        return 1;
    }
    struct sp_db *db = sp_db_thread();
    int rc;
    if (!strcmp(cmd, "add"))
        rc = cmd_add(db, &o);
    else if (!strcmp(cmd, "passwd"))
        rc = cmd_passwd(db, &o);
    else if (!strcmp(cmd, "list"))
        rc = cmd_list(db, &o);
    else
        rc = cmd_active(db, &o, !strcmp(cmd, "enable"));
    sp_db_global_shutdown();
    return rc;
}
