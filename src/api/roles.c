/*
 * roles.c — /api/roles: roles and the permissions they carry.
 *
 *   GET    /api/roles          roles:read    every role (paginated)
 *   POST   /api/roles          roles:write   {name, description?, permission_ids?}
 *   GET    /api/roles/{id}     roles:read
 *   PUT    /api/roles/{id}     roles:write   only the fields given change
 *   DELETE /api/roles/{id}     roles:delete  409 for the built-in roles and for a role still
 *                                            held by a user (the answer says by how many)
 *
 * Built-in roles (admin, operator, viewer) keep their names (code and documentation refer to
 * them); their permissions may be edited. Only an admin may touch the admin role, and a
 * non-admin may put into a role only permissions they hold themselves. Every write bumps the
 * roles generation, so authentication recomputes permissions on the next request.
 */
#include "api/api.h"
#include "api/common.h"
#include "auth/permissions.h"
#include "cache/cache.h"
#include "store/db.h"
#include "store/users.h"
#include "util/alloc.h"
#include "util/json.h"

#include <stdio.h>
#include <string.h>

#define ROLE_DESCRIPTION_MAX 255
#define ROLE_MAX_PERMS 64

struct role_input {
    const char *name;
    const char *description;
    bool has_perms;
    int nperms;
    int64_t perm_ids[ROLE_MAX_PERMS];
    uint64_t perm_bits; /* the bits of perm_ids (not expanded) */
};

/* Parse the body; permission ids are checked against the catalogue. SP_OK, or SP_INVALID with
 * the answer (400, or 503/500 when the catalogue could not be read) in resp. */
static int parse_input(struct sp_request *r, struct sp_response *resp, struct sp_db *db,
                       bool creating, struct role_input *in)
{
    memset(in, 0, sizeof *in);
    if (sp_req_json_object(r, resp) != SP_OK)
        return SP_INVALID;
    static const char *const known[] = {"name", "description", "permission_ids", NULL};
    static const char *const read_only[] = {"id",         "builtin",    "permissions", "user_count",
                                            "created_at", "updated_at", NULL};
    if (sp_api_known_keys(r->json, resp, known, read_only) != SP_OK)
        return SP_INVALID;
    struct sp_err e = {{0}, {0}};
    if (sp_json_string(r->json, "name", creating ? SP_REQUIRED : SP_OPTIONAL, 1,
                       SP_ROLE_NAME_MAX + 64, &in->name, &e) == SP_INVALID ||
        sp_json_string(r->json, "description", SP_OPTIONAL, 0, ROLE_DESCRIPTION_MAX,
                       &in->description, &e) == SP_INVALID) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_INVALID;
    }
    if (in->name && !sp_role_name_valid(in->name)) {
        sp_api_bad_request(resp, "name", "name must be 2-64 characters of A-Z a-z 0-9 _ . -");
        return SP_INVALID;
    }
    json_t *arr = NULL;
    if (sp_json_array(r->json, "permission_ids", SP_OPTIONAL, &arr, &e) == SP_INVALID) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_INVALID;
    }
    if (!arr)
        return SP_OK;
    in->has_perms = true;
    struct sp_permission *ps = NULL;
    int np = 0;
    int rc = sp_store_permissions_list(db, &ps, &np);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "permission");
        return SP_INVALID;
    }
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
            sp_free(ps);
            sp_api_bad_request(resp, "permission_ids",
                               "permission_ids must be a list of permission ids (integers)");
            return SP_INVALID;
        }
        int64_t id = json_integer_value(v);
        const struct sp_permission *found = NULL;
        for (int j = 0; j < np && !found; j++)
            if (ps[j].id == id)
                found = &ps[j];
        if (!found) {
            sp_free(ps);
            sp_api_bad_request(resp, "permission_ids",
                               "unknown permission id %lld (see GET /api/permissions)",
                               (long long)id);
            return SP_INVALID;
        }
        bool dup = false;
        for (int j = 0; j < in->nperms && !dup; j++)
            dup = in->perm_ids[j] == id;
        if (dup)
            continue;
        if (in->nperms == ROLE_MAX_PERMS) {
            sp_free(ps);
            sp_api_bad_request(resp, "permission_ids", "too many permission ids");
            return SP_INVALID;
        }
        in->perm_ids[in->nperms++] = id;
        in->perm_bits |= found->bit;
    }
    sp_free(ps);
    return SP_OK;
}

/* A non-admin may only put into a role what they hold themselves. */
static bool grantable(const struct sp_request *r, uint64_t bits)
{
    return r->principal.is_admin || !(sp_perms_expand(bits) & ~r->principal.perms);
}

/* The role object, always with permission_ids (an empty list too). */
static json_t *role_json(const struct sp_role *role, const int64_t *ids, int n)
{
    static const int64_t none[1];
    return sp_role_json(role, ids ? ids : none, ids ? n : 0);
}

/* Reload the role and answer `status` with it. */
static void answer_role(struct sp_response *resp, struct sp_db *db, int64_t id, int status)
{
    struct sp_role role;
    int64_t *ids = NULL;
    int n = 0;
    int rc = sp_store_role_get(db, id, &role);
    if (rc == SP_OK)
        rc = sp_store_role_permission_ids(db, id, &ids, &n);
    if (rc != SP_OK)
        sp_api_fail(resp, rc, NULL, "role");
    else
        sp_resp_json(resp, status, role_json(&role, ids, n));
    sp_free(ids);
}

/* GET /api/roles?page=&per_page= */
static int h_list(struct sp_request *r, struct sp_response *resp)
{
    int64_t page, per_page;
    if (sp_api_page(r, resp, &page, &per_page) != SP_OK)
        return SP_OK;
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_role *roles = NULL;
    int n = 0;
    int rc = sp_store_role_list(db, &roles, &n);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "role");
        return SP_OK;
    }
    json_t *arr = json_array();
    int64_t first = (page - 1) * per_page;
    for (int64_t i = first; i < n && i < first + per_page && rc == SP_OK; i++) {
        int64_t *ids = NULL;
        int nids = 0;
        rc = sp_store_role_permission_ids(db, roles[i].id, &ids, &nids);
        if (rc == SP_OK)
            json_array_append_new(arr, role_json(&roles[i], ids, nids));
        sp_free(ids);
    }
    sp_free(roles);
    if (rc != SP_OK) {
        json_decref(arr);
        sp_api_fail(resp, rc, NULL, "role");
        return SP_OK;
    }
    sp_resp_json(
        resp, 200,
        json_pack("{s:o, s:o}", "roles", arr, "pagination", sp_api_pagination(page, per_page, n)));
    return SP_OK;
}

/* GET /api/roles/{id} */
static int h_get(struct sp_request *r, struct sp_response *resp)
{
    int64_t id;
    if (sp_api_param_id(r, resp, "id", "role", &id) != SP_OK)
        return SP_OK;
    struct sp_db *db = sp_api_db(r, resp);
    if (db)
        answer_role(resp, db, id, 200);
    return SP_OK;
}

/* POST /api/roles */
static int h_create(struct sp_request *r, struct sp_response *resp)
{
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct role_input *in = sp_req_alloc(r, sizeof *in);
    if (parse_input(r, resp, db, true, in) != SP_OK)
        return SP_OK;
    if (!grantable(r, in->perm_bits))
        return sp_api_forbidden(resp, "give a role permissions you do not hold");
    struct sp_err e = {{0}, {0}};
    int64_t id = 0;
    int rc = sp_store_role_create(db, in->name, in->description, in->perm_ids, in->nperms, &id, &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "role");
        return SP_OK;
    }
    sp_api_bump(r, SP_GEN_ROLES);
    char summary[128];
    snprintf(summary, sizeof summary, "created role %s", in->name);
    r->audit_summary = sp_req_strdup(r, summary);
    r->audit_resource_id = id;
    answer_role(resp, db, id, 201);
    return SP_OK;
}

/* Role {id} into cur, with this thread's connection in *db; 404/503 answered here. */
static int load_role(struct sp_request *r, struct sp_response *resp, struct sp_db **db,
                     struct sp_role *cur)
{
    int64_t id;
    if (sp_api_param_id(r, resp, "id", "role", &id) != SP_OK)
        return SP_NOTFOUND;
    if (!(*db = sp_api_db(r, resp)))
        return SP_AGAIN;
    int rc = sp_store_role_get(*db, id, cur);
    if (rc != SP_OK)
        sp_api_fail(resp, rc, NULL, "role");
    return rc;
}

/* PUT /api/roles/{id} */
static int h_update(struct sp_request *r, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_role cur;
    if (load_role(r, resp, &db, &cur) != SP_OK)
        return SP_OK;
    int64_t id = cur.id;
    int rc;
    struct role_input *in = sp_req_alloc(r, sizeof *in);
    if (parse_input(r, resp, db, false, in) != SP_OK)
        return SP_OK;
    if (!strcmp(cur.name, "admin") && !r->principal.is_admin)
        return sp_api_forbidden(resp, "change the admin role");
    if (in->has_perms && !grantable(r, in->perm_bits | cur.perms))
        return sp_api_forbidden(resp, "change a role that carries permissions you do not hold");
    if (cur.builtin && in->name && strcmp(in->name, cur.name) != 0)
        return sp_api_conflict(resp, "", "a built-in role cannot be renamed");
    struct sp_err e = {{0}, {0}};
    rc =
        sp_store_role_update(db, id, in->name, in->description, in->has_perms ? in->perm_ids : NULL,
                             in->has_perms ? in->nperms : -1, &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "role");
        return SP_OK;
    }
    sp_api_bump(r, SP_GEN_ROLES);
    char summary[160];
    snprintf(summary, sizeof summary, "updated role %s:%s%s%s", cur.name, in->name ? " name" : "",
             in->description ? " description" : "", in->has_perms ? " permission_ids" : "");
    r->audit_summary = sp_req_strdup(r, summary);
    answer_role(resp, db, id, 200);
    return SP_OK;
}

/* DELETE /api/roles/{id} */
static int h_delete(struct sp_request *r, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_role cur;
    if (load_role(r, resp, &db, &cur) != SP_OK)
        return SP_OK;
    int64_t id = cur.id;
    int rc;
    if (cur.builtin)
        return sp_api_conflict(resp, "", "the built-in role %s cannot be deleted", cur.name);
    if (cur.nusers > 0)
        return sp_api_conflict(
            resp, "", "the role %s is held by %d user%s; take it away from %s first", cur.name,
            cur.nusers, cur.nusers == 1 ? "" : "s", cur.nusers == 1 ? "them" : "each of them");
    struct sp_err e = {{0}, {0}};
    rc = sp_store_role_delete(db, id, &e);
    if (rc == SP_CONFLICT) /* a user was given the role since we looked */
        return sp_api_conflict(resp, "", "the role is held by at least one user");
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "role");
        return SP_OK;
    }
    sp_api_bump(r, SP_GEN_ROLES);
    char msg[160];
    snprintf(msg, sizeof msg, "Role %s deleted", cur.name);
    r->audit_summary = sp_req_strdup(r, msg);
    sp_resp_json(resp, 200, json_pack("{s:s}", "message", msg));
    return SP_OK;
}

const struct sp_route sp_routes_roles[] = {
    {"GET", "/api/roles", h_list, SP_AUTH_USER, SP_RES_ROLES, SP_ACT_READ},
    {"POST", "/api/roles", h_create, SP_AUTH_USER, SP_RES_ROLES, SP_ACT_WRITE},
    {"GET", "/api/roles/{id}", h_get, SP_AUTH_USER, SP_RES_ROLES, SP_ACT_READ},
    {"PUT", "/api/roles/{id}", h_update, SP_AUTH_USER, SP_RES_ROLES, SP_ACT_WRITE},
    {"DELETE", "/api/roles/{id}", h_delete, SP_AUTH_USER, SP_RES_ROLES, SP_ACT_DELETE},
    {0},
};
