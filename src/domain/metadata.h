/*
 * metadata.h — what a book file is (PACKAGING.md §1-2): its real format from its bytes, DRM,
 * and the metadata it carries.
 *
 * Formats are detected from content (magic numbers, container contents), never from the
 * file name; the name's extension is then checked against the detected format and a
 * contradiction is reported (ext_ok = 0). Parsing is bounded everywhere: only the pieces a
 * format needs are read (a PDF through qpdf's lazy xref reader, the PalmDB header and
 * record 0 of a MOBI, a few capped XML members of a ZIP), never the whole file into memory.
 */
#ifndef SP_DOMAIN_METADATA_H
#define SP_DOMAIN_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include "domain/meta.h"
#include "util/common.h"

enum sp_format {
    SP_FMT_UNKNOWN = 0,
    SP_FMT_PDF,
    SP_FMT_EPUB,
    SP_FMT_CBZ,
    SP_FMT_MOBI,
    SP_FMT_AZW,
    SP_FMT_KF8,
    SP_FMT_PRC,
};

/* What the bytes alone say. */
enum sp_family {
    SP_FAM_UNKNOWN = 0,
    SP_FAM_PDF,
    SP_FAM_ZIP, /* a ZIP not (yet) identified as EPUB or CBZ */
    SP_FAM_EPUB,
    SP_FAM_CBZ,
    SP_FAM_MOBI,      /* Mobipocket (BOOKMOBI) without a KF8 part: MOBI, AZW or PRC */
    SP_FAM_KF8,       /* KF8 only (MOBI header version 8): AZW3 */
    SP_FAM_KF8_COMBO, /* Mobipocket with a KF8 part after a boundary record */
    SP_FAM_PALMDOC,   /* PalmDOC (TEXtREAd): PRC/PDB */
};

struct sp_kv {
    char key[32];
    char *value;
};

#define SP_BOOK_MAX_EXTRA 16

struct sp_book {
    int family;                            /* enum sp_family */
    int format;                            /* enum sp_format: the family refined by the extension */
    int ext_ok;                            /* 0 when the name's extension contradicts the bytes */
    char ext[16];                          /* the name's extension, lowercase ("" when none) */
    int drm;                               /* 1 when the file carries DRM (refused) */
    char drm_reason[200];                  /* why, when drm */
    int64_t size;                          /* bytes */
    int pages;                             /* PDF pages; 0 when unknown */
    int images;                            /* CBZ images */
    char sha256[65];                       /* hex, when SP_ANALYZE_SHA256 was asked */
    struct sp_meta meta;                   /* what the file says about itself (not normalised) */
    struct sp_kv extra[SP_BOOK_MAX_EXTRA]; /* format details for display: producer, ... */
    size_t nextra;
};

enum { SP_ANALYZE_SHA256 = 1 };

/*
 * Detect the format of `path`, its DRM and its metadata. `name` is the file's user-facing
 * name whose extension is checked (NULL: the basename of path).
 * Returns SP_OK when the format was recognised and read (b->drm and b->ext_ok tell whether it
 * may be packed: see sp_book_acceptable), SP_INVALID when the bytes are no supported e-book
 * or the file is damaged (e says why, field "file"), SP_NOTFOUND / SP_ERR on I/O errors.
 * b must be freed with sp_book_free() whatever the result.
 */
int sp_book_analyze(const char *path, const char *name, int flags, struct sp_book *b,
                    struct sp_err *e);
void sp_book_free(struct sp_book *b);
/* SP_OK when an analysed book may be packed; SP_INVALID naming the DRM or the lying
 * extension otherwise (field "file"). */
int sp_book_acceptable(const struct sp_book *b, struct sp_err *e);
/* Add a display detail (key copied, value duplicated; ignored when full or value NULL). */
void sp_book_extra(struct sp_book *b, const char *key, const char *value);

/* The family from the first bytes of a file (a prefix is enough: ≥ 4 KiB recommended;
 * KF8 is recognised when record 0 lies within the prefix). ZIPs are SP_FAM_EPUB when the
 * OCF "mimetype" member leads the archive, else SP_FAM_ZIP. */
int sp_family_sniff(const unsigned char *buf, size_t n);
/* The format an extension names for a family, or SP_FMT_UNKNOWN when the extension
 * contradicts the family. ext is lowercase without the dot; "" means no extension. */
int sp_format_for(int family, const char *ext);

const char *sp_format_name(int format); /* "PDF", "EPUB", ... ; "unknown" */
const char *sp_format_tag(int format);  /* dirname FORMAT tag; NULL for PDF */
const char *sp_format_ext(int format);  /* payload extension: "pdf", "epub", "azw3", ... */
const char *sp_family_name(int family);
/* Format for a dirname FORMAT tag (exact spelling: ePUB, CBZ, KF8, AZW, MOBI, PRC). */
int sp_format_by_tag(const char *tag);

/* Per-format readers (metadata_*.c); each fills b from an open path. */
int sp_book_read_zip(const char *path, struct sp_book *b, struct sp_err *e);
int sp_book_read_pdf(const char *path, struct sp_book *b, struct sp_err *e);
int sp_book_read_mobi(const char *path, struct sp_book *b, struct sp_err *e);

#endif
