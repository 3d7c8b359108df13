/*
 * release_files.h — the packed files of a release (release_files rows: name, size, CRC32, and
 * the release year used for 8.3 name uniqueness), and the one transaction that records a
 * finished packaging job.
 */
#ifndef SP_STORE_RELEASE_FILES_H
#define SP_STORE_RELEASE_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "util/common.h"

struct sp_db;

struct sp_release_file {
    char name[64];
    int64_t size;
    char crc32[9]; /* 8 upper-case hex digits */
};

/* Every file of release `release_id` in packing order (volumes, NFO, SFV). *out is a heap array
 * (caller frees with sp_free; NULL when none). SP_OK, SP_AGAIN, SP_ERR. */
int sp_store_release_files(struct sp_db *db, int64_t release_id, struct sp_release_file **out,
                           size_t *n);

/* One file of a release by exact name. SP_OK, SP_NOTFOUND, SP_AGAIN, SP_ERR. */
int sp_store_release_file_get(struct sp_db *db, int64_t release_id, const char *name,
                              struct sp_release_file *out);

/* "Does another release of `year` have a volume <base>NN.zip?" 1 taken, 0 free, -1 error.
 * exclude_release_id (0 = none) is the release being packed. */
int sp_store_volume_base_taken(struct sp_db *db, const char *base, int year,
                               int64_t exclude_release_id);

/* "Is `dirname` the name of another release?" 1 yes, 0 no, -1 error. */
int sp_store_dirname_taken(struct sp_db *db, const char *dirname, int64_t exclude_release_id);

/*
 * Record a finished packaging job in one transaction, only while job `job_id` is still running
 * under `owner`: the release gets its dirname, its files (replacing any earlier ones, with
 * `year`) and status completed; the job becomes completed at 100 %.
 * SP_OK; SP_CONFLICT when the job is no longer ours (cancelled meanwhile: e says so) or the
 * dirname was taken meanwhile (e names "name"); SP_AGAIN, SP_ERR.
 */
int sp_store_release_packed(struct sp_db *db, int64_t job_id, const char *owner, int64_t release_id,
                            const char *dirname, int year, const struct sp_release_file *files,
                            size_t n, int64_t now, struct sp_err *e);

#endif
