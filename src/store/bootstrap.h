/*
 * bootstrap.h — first-start content, idempotent: the permission catalogue, the built-in roles
 * (admin, operator, viewer), the built-in "[2022] eBOOK" rule and the first admin account.
 */
#ifndef SP_STORE_BOOTSTRAP_H
#define SP_STORE_BOOTSTRAP_H

#include <stdbool.h>

#include "util/common.h"

struct sp_db;

#define SP_BUILTIN_RULE_NAME "[2022] eBOOK"

struct sp_bootstrap_result {
    int permissions_added;
    int roles_added;
    int rules_added;
    bool admin_created;
    bool admin_password_generated; /* then admin_password holds it: show it once */
    char admin_password[64];
};

/* Bring the database to the first-start state in one transaction; rows already present are
 * left alone (a second run changes nothing, and edits an administrator made to the operator or
 * viewer roles survive; the admin role is topped up with any permission it lacks). The admin
 * account (username "admin", role admin) is created only while the users table is empty, with
 * `admin_password` when given (>= 10 characters, else SP_INVALID) or a generated one returned in
 * res. Returns SP_OK, SP_INVALID, SP_AGAIN (database busy) or SP_ERR, with e filled. */
int sp_store_bootstrap(struct sp_db *db, const char *admin_password,
                       struct sp_bootstrap_result *res, struct sp_err *e);

/* The built-in rule's structured constraints as a JSON text (heap string, caller frees). */
char *sp_bootstrap_rule_spec(void);
/* The built-in rule's plain-text summary (static string). */
const char *sp_bootstrap_rule_text(void);

#endif
