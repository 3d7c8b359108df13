/*
 * common.h — helpers shared by the API handlers (the api/ sources): pagination, query-string
 * parsing, JSON shaping of timestamps, permission/owner checks, the response cache.
 *
 * Every parse helper follows one contract: it returns SP_OK with *out set, SP_NOTFOUND when
 * the parameter is absent (out untouched), or SP_INVALID after filling `resp` with the
 * 400 {"message","code":"validation_error","field"} error — the handler then just returns SP_OK.
 */
#ifndef SP_API_COMMON_H
#define SP_API_COMMON_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "http/http.h"
#include "util/common.h"

struct sp_db;
struct sp_buf;

#define SP_API_PER_PAGE_DEFAULT 20
#define SP_API_PER_PAGE_MAX 100
#define SP_API_PAGE_MAX 100000000

/* page/per_page from the query string: page >= 1 (default 1), per_page 1..100 (default 20).
 * SP_OK, or SP_INVALID with a 400 naming the field already in resp. */
int sp_api_page(struct sp_request *req, struct sp_response *resp, int64_t *page, int64_t *per_page);

/* {"page","per_page","total","pages"} (pages = ceil(total/per_page), 0 when total is 0). */
json_t *sp_api_pagination(int64_t page, int64_t per_page, int64_t total);

/* Query parameter as an integer within [min,max]: SP_OK / SP_NOTFOUND (absent or empty) /
 * SP_INVALID (400 in resp). */
int sp_api_query_int(struct sp_request *req, struct sp_response *resp, const char *key, int64_t min,
                     int64_t max, int64_t *out);
/* Query parameter that must be one of `values` (NULL-terminated): SP_OK / SP_NOTFOUND (absent
 * or empty) / SP_INVALID (400 in resp). *out points at the matching entry of `values`. */
int sp_api_query_enum(struct sp_request *req, struct sp_response *resp, const char *key,
                      const char *const *values, const char **out);
/* Free-text query parameter: valid UTF-8, at most maxlen bytes. SP_OK / SP_NOTFOUND (absent or
 * empty) / SP_INVALID (400 in resp). */
int sp_api_query_text(struct sp_request *req, struct sp_response *resp, const char *key,
                      size_t maxlen, const char **out);
/* Boolean flag: 1/true/yes/on or 0/false/no/off. SP_OK / SP_NOTFOUND / SP_INVALID. */
int sp_api_query_bool(struct sp_request *req, struct sp_response *resp, const char *key, bool *out);

/* RFC 3339 UTC "…Z" string for epoch seconds (a new json_t). */
json_t *sp_api_time(int64_t epoch_s);
/* A new json integer, or json null when v <= 0 (optional foreign keys). */
json_t *sp_api_id_or_null(int64_t v);
/* A new json string, or json null when s is NULL. */
json_t *sp_api_str_or_null(const char *s);
/* Parse stored JSON text into a new object; malformed or non-object text gives {} (logged). */
json_t *sp_api_json_object_text(const char *text);

/* This thread's database connection, or NULL after filling resp with 503 `unavailable`. */
struct sp_db *sp_api_db(struct sp_request *req, struct sp_response *resp);

/* Permission checks on the caller (bits already expanded: mod ⇒ write ⇒ read). */
bool sp_api_can(const struct sp_request *req, int resource, int action);
/* Owners have full rights on their own objects; otherwise the caller needs resource:action. */
bool sp_api_owner_or(const struct sp_request *req, int64_t owner_id, int resource, int action);
/* Fill resp with 403 `forbidden`. Returns SP_OK (for `return sp_api_forbidden(resp, ...)`). */
int sp_api_forbidden(struct sp_response *resp, const char *what);

/* ---- answers shared by the handlers ----
 * The int-returning ones return SP_OK, so a handler can `return sp_api_bad_request(...)`. */

/* Answer a failed call by its return code (status chosen by sp_resp_rc: SP_ERR is a 500 that
 * never shows a detail). The message and field of `e` when it has a message; otherwise
 * "<noun> not found" for SP_NOTFOUND and "the database is busy, retry shortly" for SP_AGAIN. */
void sp_api_fail(struct sp_response *resp, int rc, const struct sp_err *e, const char *noun);
/* The positive integer path parameter `name`: SP_OK with *id, or SP_NOTFOUND after answering
 * 404 "<noun> not found" (anything else names no object). */
int sp_api_param_id(struct sp_request *req, struct sp_response *resp, const char *name,
                    const char *noun, int64_t *id);
/* 400 `validation_error` naming `field`, message printf-style. Returns SP_OK. */
int sp_api_bad_request(struct sp_response *resp, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* 409 `conflict` naming `field` (NULL or "" for none), message printf-style. Returns SP_OK. */
int sp_api_conflict(struct sp_response *resp, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Every key of the request body object must be in `known` or in `read_only` (keys of the
 * resource a client may send back unchanged; both NULL-terminated, read_only may be NULL).
 * SP_OK, or SP_INVALID after answering 400 "unknown field '<key>'" naming the key. */
int sp_api_known_keys(const json_t *body, struct sp_response *resp, const char *const *known,
                      const char *const *read_only);

/*
 * Response cache (app->cache). Keys must contain every input the body depends on, including
 * the generation(s) of the resources read (sp_cache_gen), and never a per-user part unless
 * the key names the user.
 *
 * sp_api_cache_serve: on a hit fills resp (200, shared bytes) and returns true.
 * sp_api_cache_reply: serialises `body` once (reference stolen), stores the bytes under `key`
 *                     for the configured TTL and answers `status` with the same shared bytes.
 */
bool sp_api_cache_serve(struct sp_request *req, struct sp_response *resp, const char *key);
void sp_api_cache_reply(struct sp_request *req, struct sp_response *resp, const char *key,
                        int status, json_t *body);
/* Cached raw bytes (not a response): a new reference, or NULL. Store with sp_api_cache_put. */
struct sp_shared_bytes *sp_api_cache_get(struct sp_request *req, const char *key);
/* Store a copy of data[0..len) under key; returns the new shared bytes (caller owns a ref). */
struct sp_shared_bytes *sp_api_cache_put(struct sp_request *req, const char *key, const char *data,
                                         size_t len);
/* Current generation of one resource (0 when there is no cache). */
uint64_t sp_api_gen(struct sp_request *req, int gen);
/* Bump the generation(s) after a write, so cached reads depending on it become unreachable. */
void sp_api_bump(struct sp_request *req, int gen);

struct sp_release;
/* The release object of the API: {id, name, user_id, group_id, group, release_type, status,
 * release_metadata, config, file_path, file_size, rule_id, parent_id (the release an action
 * was made from, or null), created_at, updated_at}. */
json_t *sp_api_release_json(const struct sp_release *r);
/* Release {id} (the path parameter "id") into r, with the caller's connection in *db. Answers
 * 404 (no such release), 503 (no database) or, when action >= 0 and the caller neither owns the
 * release nor holds releases:<action>, 403 ("you do not have permission to <what>") itself and
 * returns that code (r cleared); SP_OK otherwise (the caller clears r with sp_release_clear). */
int sp_api_release_load(struct sp_request *req, struct sp_response *resp, int action,
                        const char *what, struct sp_db **db, struct sp_release *r);

/* The same release object appended to b as JSON text, built without a jansson tree (the list
 * and detail endpoints): stored release_metadata/config text is copied when it is one valid JSON
 * object (else {}, logged), strings that are not valid UTF-8 become null. */
void sp_api_release_write(struct sp_buf *b, const struct sp_release *r);
/* sp_api_pagination's object appended to b as JSON text. */
void sp_api_pagination_write(struct sp_buf *b, int64_t page, int64_t per_page, int64_t total);

struct sp_rule;
/* The rule object: {id, name, scene, section, year, content (only when r->content is set),
 * builtin, user_id, created_at, updated_at}. */
json_t *sp_api_rule_json(const struct sp_rule *r);

/*
 * Validate a release_metadata patch (an object from a request body) against the known fields:
 * title, author, publisher, genre, language, edition, url (http/https), isbn (10 or 13 digits,
 * hyphens/spaces allowed, ISBN-10 may end in X), year (integer 1..9999), source
 * (RETAiL|SCAN|HYBRiD), release_date (YYYY-MM-DD), publish_date (YYYY, YYYY-MM or YYYY-MM-DD),
 * volume/issue (string or non-negative integer), book_kind (fiction|technical|magazine|comic|
 * manga|newspaper); the text fields are non-empty strings. A JSON null value means "remove this
 * field". `prefix` is prepended to field names in errors ("release_metadata" →
 * "release_metadata.year"). Unknown keys: SP_INVALID unless `current` (may be NULL) holds an equal
 * value under that key (so clients may send back what they read); such keys are removed from
 * `patch`. Returns SP_OK or SP_INVALID with e filled.
 */
int sp_api_release_metadata_check(json_t *patch, const json_t *current, const char *prefix,
                                  struct sp_err *e);

/*
 * Validate a release `config` object (packaging options) in place: zip_size (an allowed volume
 * size in bytes, or a string such as "50MB", stored as bytes), create_sfv and include_extras
 * (booleans), template_id (a positive integer or a template name), template (text up to
 * 64 KiB). Other keys are kept as they are. Errors name "config.<key>".
 * Returns SP_OK or SP_INVALID with e filled.
 */
int sp_api_release_config_check(json_t *config, struct sp_err *e);

#endif
