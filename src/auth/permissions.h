/*
 * permissions.h — resources × actions as a bitset; `mod` ⇒ `write` ⇒ `read` (delete is its own).
 * A permission's bit is resource * 4 + action.
 */
#ifndef SP_PERMISSIONS_H
#define SP_PERMISSIONS_H

#include <stdbool.h>
#include <stdint.h>

enum sp_resource {
    SP_RES_RELEASES = 0,
    SP_RES_RULES,
    SP_RES_USERS,
    SP_RES_ROLES,
    SP_RES_CONFIG,
    SP_RES_JOBS,
    SP_RES_AUDIT,
    SP_RES_COUNT
};

enum sp_action { SP_ACT_READ = 0, SP_ACT_WRITE, SP_ACT_MOD, SP_ACT_DELETE, SP_ACT_COUNT };

#define SP_PERM_BIT(res, act) (UINT64_C(1) << ((res) * 4 + (act)))

const char *sp_resource_name(int res);
const char *sp_action_name(int act);
int sp_resource_parse(const char *s); /* -1 if unknown */
int sp_action_parse(const char *s);   /* -1 if unknown */
/* Expand implications: mod ⇒ write ⇒ read. */
uint64_t sp_perms_expand(uint64_t perms);
bool sp_perms_has(uint64_t perms, int res, int act);

/* Parse "resource:action" (e.g. "releases:read"): 0 with *res and *act set, or -1 when unknown. */
int sp_perm_parse(const char *s, int *res, int *act);
/* Call fn for every bit set in perms (no expansion), in resource then action order. */
void sp_perms_foreach(uint64_t perms, void (*fn)(void *arg, int res, int act), void *arg);

#endif
