/*
 * rules.h — scene rule rows: list (filters, pagination), get, parsed spec, create, update,
 * delete (the built-in rule is protected), and the default rule of a section.
 */
#ifndef SP_STORE_RULES_H
#define SP_STORE_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

struct sp_rule {
    int64_t id;
    char *name;
    char *scene;
    char *section;
    int64_t year;  /* 0 = none */
    char *content; /* NULL when listed without content */
    bool builtin;
    int64_t user_id; /* 0 = none */
    int64_t created_at;
    int64_t updated_at;
};

void sp_rule_clear(struct sp_rule *r);

struct sp_rule_query {
    const char *scene;   /* exact, case-insensitive; NULL = any */
    const char *section; /* exact, case-insensitive; NULL = any */
    int64_t year;        /* 0 = any */
    const char *search;  /* substring of name, scene or section (case-insensitive); NULL = none */
    bool with_content;   /* include `content` in the rows */
    int64_t page;        /* >= 1 */
    int64_t per_page;    /* >= 1; 0 = all rows (no pagination) */
};

struct sp_rule_list {
    struct sp_rule *items;
    size_t n;
    int64_t total;
};

void sp_rule_list_free(struct sp_rule_list *l);

/* Rules ordered newest first (year DESC with no year last, then id DESC).
 * SP_OK, SP_AGAIN, SP_ERR. */
int sp_store_rule_list(struct sp_db *db, const struct sp_rule_query *q, struct sp_rule_list *out);

/* One rule with content: SP_OK (clear it), SP_NOTFOUND, SP_ERR. */
int sp_store_rule_get(struct sp_db *db, int64_t id, struct sp_rule *out);

/* The stored parsed spec (JSON text) of a rule: SP_OK with *spec a heap string, or NULL when
 * the rule has none; SP_NOTFOUND when the rule does not exist; SP_ERR. */
int sp_store_rule_spec(struct sp_db *db, int64_t id, char **spec);

/* Store the parsed spec (JSON text; NULL clears it) of rule `id`. SP_OK, SP_NOTFOUND,
 * SP_AGAIN, SP_ERR. */
int sp_store_rule_set_spec(struct sp_db *db, int64_t id, const char *spec);

/* 1 when rule `id` exists, 0 when not, -1 on a database error. */
int sp_store_rule_exists(struct sp_db *db, int64_t id);

/* The newest rule of `section` (case-insensitive): SP_OK (*id set) or SP_NOTFOUND, SP_ERR. */
int sp_store_rule_default(struct sp_db *db, const char *section, int64_t *id);

/* Input of create/update: NULL strings (and !set_year) mean "unchanged" on update; on create
 * name and content are required, scene/section default to English/eBOOK. */
struct sp_rule_input {
    const char *name;
    const char *content;
    const char *scene;
    const char *section;
    bool set_year;
    int64_t year; /* with set_year: 0 = none */
};

/* Insert a rule owned by user_id (0 = none): SP_OK (*id set), SP_AGAIN, SP_ERR. */
int sp_store_rule_create(struct sp_db *db, const struct sp_rule_input *in, int64_t user_id,
                         int64_t now, int64_t *id);

/* Update the given fields; a new content clears the stored parsed spec (it no longer
 * matches). SP_OK, SP_NOTFOUND, SP_AGAIN, SP_ERR. */
int sp_store_rule_update(struct sp_db *db, int64_t id, const struct sp_rule_input *in, int64_t now);

/* Delete a rule (releases using it keep rule_id NULL). SP_OK, SP_NOTFOUND, SP_CONFLICT (the
 * built-in rule; e says so), SP_AGAIN, SP_ERR. */
int sp_store_rule_delete(struct sp_db *db, int64_t id, struct sp_err *e);

#endif
