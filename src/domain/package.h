/*
 * package.h — pack one book file into a release directory (PACKAGING.md §4):
 *
 *   <out_dir>/<dirname>/
 *     <group>-<base>.nfo      NFO (CP437, CRLF), also inside every ZIP
 *     <base>01.zip            FILE_ID.DIZ + NFO + payload, stored, ≤ the volume size
 *     <group>-<base>.sfv      CRC32 of each ZIP volume
 *
 * An NFOFiX release (nfo_only) holds the corrected NFO alone.
 *
 * The release is built in a temporary directory inside out_dir and renamed into place only
 * when complete and self-checked; on any failure (or cancel) nothing is left behind.
 * Progress is reported as (percent 0-100, never decreasing; step name: "analyse", "metadata",
 * "name", "nfo", "zip", "sfv", "verify", "done"); the cancel flag is read between steps and
 * while the ZIP is written. The payload is streamed (never held in memory) and the volume's
 * CRC32 is computed while it is written.
 */
#ifndef SP_DOMAIN_PACKAGE_H
#define SP_DOMAIN_PACKAGE_H

#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "domain/meta.h"
#include "domain/problems.h"
#include "domain/release_name.h"
#include "util/buf.h"
#include "util/common.h"

/* The allowed volume sizes, ascending (bytes). */
extern const int64_t sp_zip_sizes[];
extern const size_t sp_zip_sizes_count;
/* 1 when n is one of the allowed volume sizes. */
int sp_zip_size_valid(int64_t n);
/* Parse a volume size: bytes ("5000000") or megabytes ("5MB", "5M", "5"). SP_OK or SP_INVALID
 * with e naming field "zip_size" and the allowed values. */
int sp_zip_size_parse(const char *s, int64_t *out, struct sp_err *e);
/* "5MB" for 5,000,000. */
const char *sp_zip_size_label(int64_t n);

struct sp_pack_request {
    const char *input;      /* the book file */
    const char *input_name; /* user-facing name whose extension is checked; NULL: input */
    const char *out_dir;    /* the release directory is created inside */
    const char *group;
    const struct sp_meta *meta; /* the user's metadata, applied over what the file carries */
    const char *template_text;  /* NFO template (UTF-8); NULL: the built-in template_name */
    const char *template_name;  /* built-in template; NULL: the default */
    int64_t zip_size;           /* an allowed size, or 0: the smallest that holds the release */
    /* "is this dirname already a known release?" 1 yes, 0 no, -1 error; NULL: only out_dir */
    int (*dirname_taken)(void *ctx, const char *dirname);
    sp_base_taken_fn base_taken; /* 8.3 base uniqueness within the year; NULL: any is free */
    void (*progress)(void *ctx, int percent, const char *step); /* may be NULL */
    void *ctx;
    const atomic_int *cancel; /* non-zero: stop (may be NULL) */
    time_t now;               /* timestamps of the NFO/DIZ members; 0: time(NULL) */
    int dry_run;              /* plan only: name, sizes, NFO; write nothing */
    int nfo_only;             /* an NFOFiX release (§7): the corrected NFO alone, no ZIP/SFV;
                               * the metadata's tags must include NFOFiX */
};

struct sp_pack_file {
    char name[64];
    int64_t size;
    uint32_t crc;
};

struct sp_pack_result {
    char dirname[SP_DIRNAME_MAX + 1];
    char *path; /* out_dir/dirname (heap) */
    int format; /* enum sp_format */
    int64_t payload_size;
    int64_t volume_size; /* the chosen allowed size */
    int volumes;
    char base[SP_BASE_LEN + 1];
    char nfo_name[64], sfv_name[64];
    char payload_name[SP_PAYLOAD_NAME_MAX + 1];
    struct sp_pack_file files[8]; /* ZIP volumes, then the NFO, then the SFV */
    size_t nfiles;
    struct sp_meta meta; /* the final, normalised metadata */
    struct sp_buf nfo;   /* the NFO as written (CP437, CRLF) */
};

/*
 * Pack rq->input. Returns SP_OK with res filled (and the release in place unless dry_run);
 * SP_INVALID when the file or the metadata breaks a rule (e names the field; every metadata
 * problem is also appended to `problems` when not NULL); SP_CONFLICT when the dirname exists
 * or no 8.3 name is free; SP_AGAIN when cancelled; SP_NOTFOUND/SP_ERR on I/O errors.
 * res must be released with sp_pack_result_free() whatever the result.
 */
int sp_pack(const struct sp_pack_request *rq, struct sp_pack_result *res,
            struct sp_problems *problems, struct sp_err *e);
void sp_pack_result_free(struct sp_pack_result *res);

/* Fill the NFO template fields of a release (values point into m and the strings given). */
struct sp_nfo_vars;
void sp_pack_nfo_vars(struct sp_nfo_vars *v, const struct sp_meta *m, const char *dirname,
                      const char *group, int format, int volumes, int64_t volume_size,
                      int64_t payload_size, const char *payload_name, char *scratch,
                      size_t scratchlen);

#endif
