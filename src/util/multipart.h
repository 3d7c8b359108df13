/*
 * multipart.h — a streaming multipart/form-data parser (RFC 7578 / RFC 2046).
 *
 * Bytes go in as they arrive, in chunks of any size (down to one byte); each part's headers and
 * data come out through callbacks. Memory is constant whatever the body size: the part headers
 * (at most SP_MULTIPART_HEADER_MAX bytes per part) and a 64 KiB output buffer, so a 2 GB file
 * streams through in the same few KiB. The delimiter is searched with a KMP matcher, so a
 * boundary split across chunks is found and bytes that only look like its beginning are passed
 * on as data.
 *
 * Why not libmicrohttpd's MHD_PostProcessor: it would tie util/ to MHD, it cannot say whether
 * the closing boundary arrived (a truncated body looks complete), and it hands back the raw
 * Content-Disposition filename without RFC 5987 `filename*` decoding. This parser is small,
 * reports malformed input precisely, and is unit-tested on every chunk split.
 */
#ifndef SP_MULTIPART_H
#define SP_MULTIPART_H

#include <stddef.h>

#include "util/common.h"

#define SP_MULTIPART_BOUNDARY_MAX 70
#define SP_MULTIPART_HEADER_MAX 8192

/* A part's headers, as parsed. Strings are NUL-terminated (cut to their buffers). */
struct sp_multipart_part {
    char name[128];         /* Content-Disposition name="..." ("" when absent) */
    char filename[512];     /* filename*= (RFC 5987, decoded) or filename="..." as sent */
    int has_filename;       /* a filename parameter was present (even empty) */
    char content_type[128]; /* the part's Content-Type ("" when absent) */
};

/* Callbacks; each returns 0 to go on or non-zero to stop parsing (feed returns SP_ERR). */
struct sp_multipart_cbs {
    int (*part_begin)(void *ctx, const struct sp_multipart_part *p);
    int (*part_data)(void *ctx, const char *data, size_t n);
    int (*part_end)(void *ctx);
    void *ctx;
};

struct sp_multipart;

/* The boundary parameter of a multipart/form-data Content-Type value (quoted or not) into out
 * (at least SP_MULTIPART_BOUNDARY_MAX + 1 bytes). SP_OK, or SP_INVALID when the type is not
 * multipart/form-data or the boundary is missing, empty, longer than 70 characters or holds a
 * character RFC 2046 does not allow. */
int sp_multipart_boundary(const char *content_type, char *out, size_t outlen);

/* A parser for one body. cbs is copied; any callback may be NULL. */
struct sp_multipart *sp_multipart_new(const char *boundary, const struct sp_multipart_cbs *cbs);
void sp_multipart_free(struct sp_multipart *mp);

/* Feed the next n bytes. SP_OK; SP_INVALID when the body is malformed (sp_multipart_error says
 * how; later feeds are ignored); SP_ERR when a callback asked to stop. Data of the current part
 * may be held back (at most the delimiter's length, and the output buffer) until the next feed
 * or sp_multipart_finish. */
int sp_multipart_feed(struct sp_multipart *mp, const char *data, size_t n);
/* The body ended. SP_OK when the closing boundary was seen (every part ended); SP_INVALID when
 * the body stopped early or was malformed; SP_ERR when a callback stopped it. */
int sp_multipart_finish(struct sp_multipart *mp);
/* Why the body was refused ("" when it was not). */
const char *sp_multipart_error(const struct sp_multipart *mp);
/* Number of parts started so far. */
int sp_multipart_parts(const struct sp_multipart *mp);

#endif
