/*
 * sfv.h — CRC32 (zlib) of files and the SFV list of a release (PACKAGING.md §4).
 */
#ifndef SP_DOMAIN_SFV_H
#define SP_DOMAIN_SFV_H

#include <stddef.h>
#include <stdint.h>

#include "domain/problems.h"
#include "util/buf.h"
#include "util/common.h"

struct sp_sfv_entry {
    char name[256];
    uint32_t crc;
};

/* CRC32 and size of a file, read in 1 MiB blocks. SP_OK, or SP_NOTFOUND/SP_ERR with e. */
int sp_crc32_file(const char *path, uint32_t *crc, int64_t *size, struct sp_err *e);

/* SFV text: comment lines, then "name CRC" per entry (upper-case hex), CRLF line ends. */
void sp_sfv_render(const struct sp_sfv_entry *entries, size_t n, const char *comment,
                   struct sp_buf *out);

/* Parse SFV text (comments start with ';', LF or CRLF). Entries go to *out (caller frees);
 * malformed lines are reported in p (field "sfv", file `file`). Returns the entry count. */
size_t sp_sfv_parse(const char *text, size_t n, struct sp_sfv_entry **out, const char *file,
                    struct sp_problems *p);

#endif
