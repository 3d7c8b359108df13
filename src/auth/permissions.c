/*
 * permissions.c — resource/action names and the bitset arithmetic of permissions.h.
 */
#include "auth/permissions.h"

#include <string.h>

static const char *const resource_names[SP_RES_COUNT] = {
    "releases", "rules", "users", "roles", "config", "jobs", "audit",
};

static const char *const action_names[SP_ACT_COUNT] = {"read", "write", "mod", "delete"};

const char *sp_resource_name(int res)
{
    return res >= 0 && res < SP_RES_COUNT ? resource_names[res] : NULL;
}

const char *sp_action_name(int act)
{
    return act >= 0 && act < SP_ACT_COUNT ? action_names[act] : NULL;
}

int sp_resource_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < SP_RES_COUNT; i++)
        if (strcmp(s, resource_names[i]) == 0)
            return i;
    return -1;
}

int sp_action_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < SP_ACT_COUNT; i++)
        if (strcmp(s, action_names[i]) == 0)
            return i;
    return -1;
}

int sp_perm_parse(const char *s, int *res, int *act)
{
    if (!s)
        return -1;
    const char *colon = strchr(s, ':');
    if (!colon || colon == s)
        return -1;
    size_t n = (size_t)(colon - s);
    char rbuf[16];
    if (n >= sizeof rbuf)
        return -1;
    memcpy(rbuf, s, n);
    rbuf[n] = '\0';
    int r = sp_resource_parse(rbuf);
    int a = sp_action_parse(colon + 1);
    if (r < 0 || a < 0)
        return -1;
    *res = r;
    *act = a;
    return 0;
}

uint64_t sp_perms_expand(uint64_t perms)
{
    uint64_t out = 0;
    for (int r = 0; r < SP_RES_COUNT; r++) {
        uint64_t mod = SP_PERM_BIT(r, SP_ACT_MOD), write = SP_PERM_BIT(r, SP_ACT_WRITE),
                 read = SP_PERM_BIT(r, SP_ACT_READ), del = SP_PERM_BIT(r, SP_ACT_DELETE);
        if (perms & mod)
            out |= mod | write | read;
        if (perms & write)
            out |= write | read;
        if (perms & read)
            out |= read;
        if (perms & del)
            out |= del;
    }
    return out;
}

bool sp_perms_has(uint64_t perms, int res, int act)
{
    if (res < 0 || res >= SP_RES_COUNT || act < 0 || act >= SP_ACT_COUNT)
        return false;
    return (sp_perms_expand(perms) & SP_PERM_BIT(res, act)) != 0;
}

void sp_perms_foreach(uint64_t perms, void (*fn)(void *arg, int res, int act), void *arg)
{
    for (int r = 0; r < SP_RES_COUNT; r++)
        for (int a = 0; a < SP_ACT_COUNT; a++)
            if (perms & SP_PERM_BIT(r, a))
                fn(arg, r, a);
}
