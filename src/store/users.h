/*
 * users.h — users, roles, permissions and their links (tables users, roles, user_roles,
 * role_permissions, permissions). Queries written once against store/db.h.
 *
 * Conventions for every function here:
 *   - `db` is the calling thread's connection (sp_db_thread()) or a private one;
 *   - return codes: SP_OK, SP_NOTFOUND (no such row), SP_CONFLICT (duplicate name/email, row in
 *     use), SP_INVALID (bad reference, e.g. an unknown role; `e` names the field), SP_AGAIN
 *     (database busy), SP_ERR (logged);
 *   - timestamps are epoch seconds (0 = never / NULL);
 *   - functions that write several rows run in their own transaction (BEGIN IMMEDIATE), or join
 *     the caller's when one is open (sp_db_in_transaction()).
 *
 * Revocation model: users.token_epoch is epoch seconds; a token whose `iat` is lower than the
 * user's token_epoch is revoked. Bumping sets token_epoch = max(now, token_epoch + 1), so every
 * token issued before the bump dies at once.
 */
#ifndef SP_STORE_USERS_H
#define SP_STORE_USERS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

#define SP_USERNAME_MAX 64 /* API: 3-64 chars [A-Za-z0-9_.-] */
#define SP_EMAIL_MAX 254
#define SP_USER_NOTE_MAX 1000 /* bytes */
#define SP_PASSWORD_HASH_MAX 128
#define SP_ROLE_NAME_MAX 64
#define SP_USER_MAX_ROLES 32 /* more role links than this on one user → SP_INVALID */
#define SP_USERNAME_MIN 3
#define SP_ROLE_NAME_MIN 2

/* True when s is a valid username: SP_USERNAME_MIN..SP_USERNAME_MAX characters of
 * [A-Za-z0-9_.-] (the API and the CLI check the same rule). */
bool sp_username_valid(const char *s);
/* True when s is a valid role name: SP_ROLE_NAME_MIN..SP_ROLE_NAME_MAX characters of
 * [A-Za-z0-9_.-]. */
bool sp_role_name_valid(const char *s);

struct sp_user {
    int64_t id;
    char username[SP_USERNAME_MAX + 1];
    char email[SP_EMAIL_MAX + 1]; /* "" when none */
    char password_hash[SP_PASSWORD_HASH_MAX];
    bool active;
    char note[SP_USER_NOTE_MAX + 1];
    int64_t token_epoch;
    int64_t created_at;
    int64_t updated_at;
    int64_t last_login_at; /* 0 = never */
    int nroles;            /* roles, ordered by role id */
    int64_t role_ids[SP_USER_MAX_ROLES];
    char roles[SP_USER_MAX_ROLES][SP_ROLE_NAME_MAX + 1];
};

/* Input of sp_store_user_create(). Roles by id (role_ids/nrole_ids) and/or by name
 * (role_names, NULL-terminated, may be NULL); both lists are merged. */
struct sp_user_new {
    const char *username;      /* required */
    const char *email;         /* NULL or "" = none */
    const char *password_hash; /* required: an sp_password_hash() string */
    const char *note;          /* NULL = "" */
    bool active;
    const int64_t *role_ids;
    int nrole_ids;
    const char *const *role_names;
};

/* Fields of sp_store_user_update(); NULL pointers / has_* false leave a field unchanged. */
struct sp_user_patch {
    const char *username;
    const char *email; /* "" clears the email */
    const char *note;
    bool has_active;
    bool active; /* false bumps token_epoch */
    bool has_roles;
    const int64_t *role_ids; /* the new complete role set */
    int nrole_ids;
};

struct sp_role {
    int64_t id;
    char name[SP_ROLE_NAME_MAX + 1];
    char description[256];
    bool builtin;
    int64_t created_at;
    int64_t updated_at;
    uint64_t perms; /* bitset of the role's permission rows (not expanded) */
    int nusers;     /* users holding the role */
};

struct sp_permission {
    int64_t id;
    char resource[16];
    char action[16];
    char description[128];
    uint64_t bit; /* SP_PERM_BIT(resource, action), 0 if not a known pair */
};

/* --- users --- */

/* Fetch one user (with roles). SP_OK / SP_NOTFOUND / SP_ERR. Username match is
 * case-insensitive. */
int sp_store_user_get(struct sp_db *db, int64_t id, struct sp_user *out);
int sp_store_user_get_by_name(struct sp_db *db, const char *username, struct sp_user *out);

/* Create a user and its role links in one transaction. *id receives the new id.
 * SP_CONFLICT with e->field "username" or "email" on duplicates; SP_INVALID with e->field
 * "role_ids" (or "roles") for an unknown role; no other validation of the strings is done
 * here (the API layer validates shapes). */
int sp_store_user_create(struct sp_db *db, const struct sp_user_new *in, int64_t *id,
                         struct sp_err *e);

/* Apply a patch in one transaction. SP_NOTFOUND, SP_CONFLICT (username/email taken),
 * SP_INVALID (unknown role id). Policy checks (an admin removing their own admin role) are
 * the caller's job. */
int sp_store_user_update(struct sp_db *db, int64_t id, const struct sp_user_patch *p,
                         struct sp_err *e);

/* Replace the password hash. revoke_tokens bumps token_epoch too. SP_OK / SP_NOTFOUND. */
int sp_store_user_set_password(struct sp_db *db, int64_t id, const char *password_hash,
                               bool revoke_tokens);

/* Activate or deactivate. Deactivating bumps token_epoch (every token dies at once).
 * SP_OK / SP_NOTFOUND. */
int sp_store_user_set_active(struct sp_db *db, int64_t id, bool active);

/* Bump token_epoch (log out everywhere). SP_OK / SP_NOTFOUND. */
int sp_store_user_revoke_tokens(struct sp_db *db, int64_t id);

/* Record a successful login at `when` (epoch seconds). SP_OK / SP_NOTFOUND. */
int sp_store_user_set_last_login(struct sp_db *db, int64_t id, int64_t when);

/* Delete a user. SP_CONFLICT when the user still owns releases or jobs (deactivate instead).
 * SP_NOTFOUND when absent. */
int sp_store_user_delete(struct sp_db *db, int64_t id);

/* Number of releases owned by the user (from the counter table; cheap). */
int sp_store_user_release_count(struct sp_db *db, int64_t id, int64_t *n);

/* A page of users ordered by id. page >= 1, per_page 1..100. `search` (NULL = all) matches a
 * username or email prefix, case-insensitive; active_filter -1 = all, 0/1 = only inactive/active.
 * *out is a heap array of *n users (caller sp_free()s it; may be NULL when *n == 0);
 * *total is the count of all matching users. */
int sp_store_user_list(struct sp_db *db, int page, int per_page, const char *search,
                       int active_filter, struct sp_user **out, int *n, int64_t *total);

/* Role names of a user, as in struct sp_user (fills out->nroles/role_ids/roles only). */
int sp_store_user_roles(struct sp_db *db, int64_t user_id, struct sp_user *out);

/* The effective permission bitset of a user: the OR of its roles' permissions, expanded with
 * sp_perms_expand(). *is_admin (may be NULL) is true when the user holds the role "admin".
 * A user without roles gets 0. SP_OK / SP_ERR (an unknown user yields SP_OK with 0). */
int sp_store_user_perms(struct sp_db *db, int64_t user_id, uint64_t *perms, bool *is_admin);

/* --- roles --- */

int sp_store_role_get(struct sp_db *db, int64_t id, struct sp_role *out);
int sp_store_role_get_by_name(struct sp_db *db, const char *name, struct sp_role *out);
/* All roles ordered by id; *out heap array (sp_free). */
int sp_store_role_list(struct sp_db *db, struct sp_role **out, int *n);
/* Create a role with the given permission ids. SP_CONFLICT (name "name" taken), SP_INVALID
 * (unknown permission id, field "permission_ids"). */
int sp_store_role_create(struct sp_db *db, const char *name, const char *description,
                         const int64_t *perm_ids, int nperm, int64_t *id, struct sp_err *e);
/* Update; NULL name/description unchanged; perm_ids NULL with nperm < 0 leaves permissions
 * unchanged, otherwise they are replaced. SP_NOTFOUND, SP_CONFLICT, SP_INVALID. */
int sp_store_role_update(struct sp_db *db, int64_t id, const char *name, const char *description,
                         const int64_t *perm_ids, int nperm, struct sp_err *e);
/* Delete; SP_CONFLICT when a user holds it, SP_NOTFOUND when absent. */
int sp_store_role_delete(struct sp_db *db, int64_t id, struct sp_err *e);
/* Permission ids of a role in id order; *out heap array (sp_free). */
int sp_store_role_permission_ids(struct sp_db *db, int64_t role_id, int64_t **out, int *n);

/* --- permissions --- */

/* Every permission row ordered by id; *out heap array (sp_free). */
int sp_store_permissions_list(struct sp_db *db, struct sp_permission **out, int *n);

/* --- JSON --- */

/* The public user object (docs/openapi.yaml User): {id, username, email (null when none),
 * active, note, roles: [names], created_at, updated_at, last_login_at (RFC 3339 or null)}.
 * Never the hash or token_epoch. New reference. Callers needing the role ids add them from
 * u->role_ids. */
json_t *sp_user_json(const struct sp_user *u);
/* The same plus "permissions": ["releases:read", ...] from an expanded bitset (GET /me). */
json_t *sp_user_json_perms(const struct sp_user *u, uint64_t perms);
/* {id, name, description, builtin, permission_ids: [...], permissions: ["res:act"...],
 * user_count, created_at, updated_at}. permission_ids may be NULL (then omitted). */
json_t *sp_role_json(const struct sp_role *r, const int64_t *perm_ids, int nperm);
/* {id, resource, action, name: "resource:action", description}. */
json_t *sp_permission_json(const struct sp_permission *p);

#endif
