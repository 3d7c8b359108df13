/*
 * zip_volume.h — write one ZIP volume with libzip: every member stored (the payload is already
 * compressed and must come out byte for byte), fixed 0644 permissions, and the CRC32 of the
 * whole archive file computed while libzip writes it (for the SFV), so the volume is not read
 * back.
 *
 * libzip writes through our own zip_source: sequential writes extend a running CRC segment;
 * the local header libzip rewrites after each member's data is its own segment, whose CRC is
 * replaced; segments are joined with crc32_combine() at commit. Anything else (an unaligned
 * overwrite) falls back to re-reading the file.
 */
#ifndef SP_DOMAIN_ZIP_VOLUME_H
#define SP_DOMAIN_ZIP_VOLUME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/common.h"

struct sp_zip_member {
    const char *name; /* archive name (ASCII) */
    const char *path; /* file to store, or NULL for data */
    const void *data; /* bytes to store when path is NULL (must outlive the call) */
    size_t len;
    time_t mtime;
};

struct sp_zip_hooks {
    void (*progress)(void *ctx, double fraction); /* 0..1 while writing; may be NULL */
    int (*cancelled)(void *ctx);                  /* non-zero stops the write; may be NULL */
    void *ctx;
};

/* Bytes of a stored archive of these members whose contents have the given sizes (local
 * headers, data, central directory, end record; no extra fields, which we never write). */
int64_t sp_zip_stored_size(const struct sp_zip_member *m, const int64_t *sizes, size_t n);

/*
 * Create `path` (must not exist) holding the members, stored. On SP_OK *crc and *size describe
 * the written file. On failure nothing is left at path: SP_AGAIN when cancelled, SP_ERR
 * otherwise (e says why).
 */
int sp_zip_write(const char *path, const struct sp_zip_member *m, size_t n,
                 const struct sp_zip_hooks *hooks, uint32_t *crc, int64_t *size, struct sp_err *e);

#endif
