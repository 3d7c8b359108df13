/*
 * configs.h — configuration entries (table configurations): KEY → value, with a category and a
 * description. A secret entry keeps no plain value: `secret_blob` holds what auth/secrets.c
 * sealed (the store never sees the key nor the plaintext of a secret).
 *
 * Return codes: SP_OK, SP_NOTFOUND, SP_CONFLICT (key taken; e->field "key"), SP_AGAIN (busy),
 * SP_ERR (logged).
 */
#ifndef SP_STORE_CONFIGS_H
#define SP_STORE_CONFIGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

#define SP_CONFIG_KEY_MAX 64
#define SP_CONFIG_VALUE_MAX 16384 /* bytes of a value (plain or before sealing) */
#define SP_CONFIG_CATEGORY_MAX 32
#define SP_CONFIG_DESCRIPTION_MAX 500

struct sp_config_entry {
    int64_t id;
    char key[SP_CONFIG_KEY_MAX + 1];
    char *value;         /* heap; NULL for a secret */
    unsigned char *blob; /* heap; the sealed value of a secret, else NULL */
    size_t bloblen;
    bool secret;
    char category[SP_CONFIG_CATEGORY_MAX + 1];
    char description[SP_CONFIG_DESCRIPTION_MAX + 1];
    int64_t created_at;
    int64_t updated_at;
};

/* Free what an entry owns (value, blob; the blob is zeroed first) and zero it. */
void sp_config_entry_free(struct sp_config_entry *c);

/* What to write. For a secret: value NULL and blob/bloblen the sealed value; otherwise value
 * (may be "") and blob NULL. */
struct sp_config_input {
    const char *key;
    const char *value;
    const unsigned char *blob;
    size_t bloblen;
    bool secret;
    const char *category;    /* NULL = "general" */
    const char *description; /* NULL = "" */
};

/* Insert a new entry. SP_CONFLICT (field "key") when the key exists. */
int sp_store_config_create(struct sp_db *db, const struct sp_config_input *in, int64_t *id,
                           struct sp_err *e);

/* Fetch one entry into out (zeroed first, so sp_config_entry_free(out) is always safe).
 * SP_OK / SP_NOTFOUND / SP_AGAIN / SP_ERR. */
int sp_store_config_get(struct sp_db *db, int64_t id, struct sp_config_entry *out);
int sp_store_config_get_by_key(struct sp_db *db, const char *key, struct sp_config_entry *out);

/* Fields of sp_store_config_update(); NULL / false leave a field unchanged. has_value writes
 * value, blob and secret together (as in sp_config_input). */
struct sp_config_patch {
    const char *key;
    const char *category;
    const char *description;
    bool has_value;
    const char *value;
    const unsigned char *blob;
    size_t bloblen;
    bool secret;
};

/* SP_OK, SP_NOTFOUND, SP_CONFLICT (new key taken, field "key"). */
int sp_store_config_update(struct sp_db *db, int64_t id, const struct sp_config_patch *p,
                           struct sp_err *e);

/* SP_OK / SP_NOTFOUND. */
int sp_store_config_delete(struct sp_db *db, int64_t id);

/* A page ordered by category, key. category (NULL = all) exact; search (NULL = all) a key
 * prefix, case-insensitive. *out heap array of *n entries: free each with sp_config_entry_free
 * and the array with sp_free. *total counts every match. */
int sp_store_config_list(struct sp_db *db, const char *category, const char *search, int64_t page,
                         int64_t per_page, struct sp_config_entry **out, int *n, int64_t *total);

/* Call fn for every secret entry (id, key, blob), in id order; a non-SP_OK return from fn stops
 * the walk and is returned. The blob pointer is valid only during the call. For key rotation. */
int sp_store_config_each_secret(struct sp_db *db,
                                int (*fn)(void *arg, int64_t id, const char *key,
                                          const unsigned char *blob, size_t bloblen),
                                void *arg);

/* Replace the sealed value of a secret entry (key rotation); updated_at is left alone.
 * SP_OK / SP_NOTFOUND (absent, or not a secret). */
int sp_store_config_set_blob(struct sp_db *db, int64_t id, const unsigned char *blob,
                             size_t bloblen);

#endif
