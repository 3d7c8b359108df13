/*
 * release_pack.h — from a release row to the packer: the one place that reads a release's
 * stored state (release_metadata, config, file_path) into an sp_pack_request, used alike by
 * the wizard's previews and checks (dry runs), the release actions and the packaging worker,
 * so what the wizard validated is exactly what gets packed.
 *
 * The release's config (JSON object) holds the wizard's state:
 *   upload     {filename, stored_as, size, format}   what step 4 stored
 *   analysis   {format, size, sha256, drm, metadata} what step 5 found
 *   template_id "classic" | "plain" | "custom", template "<text>" (custom)      step 7
 *   zip_size, create_sfv, include_extras                                         step 8
 *              (the packaging options, as PUT /api/releases/{id} `config` has them)
 *   tags, fixes, notes, action                        set on releases made by an action
 * release_metadata holds the user's metadata (the API's ReleaseMetadata keys).
 */
#ifndef SP_JOBS_RELEASE_PACK_H
#define SP_JOBS_RELEASE_PACK_H

#include <jansson.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain/meta.h"
#include "domain/package.h"
#include "util/common.h"

struct sp_release;
struct sp_db;

/* Metadata keys of the API (ReleaseMetadata / enriched_metadata), NULL-terminated. */
extern const char *const sp_release_meta_keys[];

/* Set every member of `obj` (API metadata keys; string values, integers for year/volume/issue,
 * null = leave unset) into m. SP_OK, or SP_INVALID with e naming "<prefix>.<key>" (an unknown
 * key, a wrong type, a value the field refuses). prefix may be NULL. */
int sp_meta_from_api_json(const json_t *obj, struct sp_meta *m, const char *prefix,
                          struct sp_err *e);
/* The API keys of (normalised, valid) metadata as a new object: year as an integer, the rest
 * as strings; unset fields are absent. */
json_t *sp_meta_to_api_json(const struct sp_meta *m);
/* Every set field of m as a new object of strings (any domain key). */
json_t *sp_meta_to_json(const struct sp_meta *m);
/* Domain metadata from an object of strings (unknown keys and non-strings ignored). */
void sp_meta_from_json_loose(const json_t *obj, struct sp_meta *m);

/* A client-supplied file name made safe to store: its last path component, transliterated to
 * [A-Za-z0-9._-] (words joined by dots) and starting with a letter or a digit, at most 120
 * characters keeping the extension; "upload" when nothing usable is left. out must hold 128
 * bytes. */
void sp_upload_name_sanitize(const char *raw, char *out, size_t outlen);

/* Everything sp_pack() needs for one release; fill with sp_release_pack_prepare. */
struct sp_release_pack {
    struct sp_pack_request rq; /* points into this struct */
    struct sp_meta meta;       /* release_metadata + tags/fixes/notes from config */
    char input[PATH_MAX];      /* the uploaded file */
    char input_name[256];      /* its stored name (extension checked) */
    char out_dir[PATH_MAX];    /* <data>/releases */
    char group[64];
    char *template_text; /* custom template (heap) or NULL */
    char template_name[32];
    /* progress of a real run (sp_pack's callback goes through here); may be NULL */
    void (*on_progress)(void *user, int percent, const char *step);
    void *user;
    /* uniqueness callbacks' state */
    int64_t release_id;
    int reserve; /* reserve the chosen 8.3 base in this process until sp_release_pack_free */
    char reserved_base[8];
    int reserved_year;
};

/* Fill p for release r (data_dir: the data directory). job_type "nfofix" makes an NFO-only
 * release. The uniqueness callbacks query the calling thread's database connection.
 * SP_OK, or SP_INVALID with e naming what is missing (no upload: "file"; unreadable config:
 * "config"; bad stored metadata: its field). */
int sp_release_pack_prepare(const char *data_dir, const struct sp_release *r, const char *job_type,
                            struct sp_release_pack *p, struct sp_err *e);
void sp_release_pack_free(struct sp_release_pack *p);

/* Run sp_pack for p as a dry run (name, sizes, NFO; nothing written). res must be freed with
 * sp_pack_result_free whatever the result. Returns what sp_pack returns. */
int sp_release_pack_plan(struct sp_release_pack *p, struct sp_pack_result *res,
                         struct sp_problems *problems, struct sp_err *e);

/* The config object of a release (a new reference; {} when unreadable). */
json_t *sp_release_config(const struct sp_release *r);

/* Record a newly stored file in a release's config: upload = {filename (as the client named
 * it), stored_as, size, format, url (when downloaded)}; the analysis is dropped, since the
 * later steps must run again on the new file (template and options are kept). */
void sp_wizard_config_set_upload(json_t *cfg, const char *client_name, const char *stored_as,
                                 int64_t size, const char *format, const char *url);

#endif
