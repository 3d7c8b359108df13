/*
 * groups.h — release groups: name validation, race-safe insert-or-select, paginated list.
 */
#ifndef SP_STORE_GROUPS_H
#define SP_STORE_GROUPS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

#define SP_GROUP_NAME_MIN 2
#define SP_GROUP_NAME_MAX 30

/* 1 when name is 2-30 chars of [A-Za-z0-9_-], starting and ending with a letter or digit. */
bool sp_group_name_valid(const char *name);

/*
 * The id of group `name` (case-insensitive), creating it when new. Race-safe: an insert that
 * loses to a concurrent one falls back to selecting the winner's row. Call inside a write
 * transaction when it is part of a larger change. SP_OK (*id set; *created, if not NULL,
 * says whether this call inserted it), SP_AGAIN, SP_ERR.
 */
int sp_store_group_ensure(struct sp_db *db, const char *name, int64_t now, int64_t *id,
                          bool *created);

struct sp_group {
    int64_t id;
    char *name;
    int64_t release_count;
    int64_t created_at;
};

struct sp_group_list {
    struct sp_group *items;
    size_t n;
    int64_t total;
};

void sp_group_list_free(struct sp_group_list *l);

/* One page of groups ordered by name, id, each with its number of releases; `search`
 * (NULL/empty = all) keeps names containing it (case-insensitive). SP_OK, SP_AGAIN, SP_ERR. */
int sp_store_group_list(struct sp_db *db, const char *search, int64_t page, int64_t per_page,
                        struct sp_group_list *out);

#endif
