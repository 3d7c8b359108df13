/*
 * release_name.h — the release dirname (PACKAGING.md §3) and the short 8.3 names (§4).
 *
 * Dirname: <name parts>.<year>[.<LANGUAGE>].<SOURCE>[.<extra
 * tags>][.<TYPE>][.<FORMAT>].eBOOK-<GROUP> built from normalised metadata; the validator parses any
 * dirname (also one made elsewhere) and lists every rule it breaks.
 */
#ifndef SP_DOMAIN_RELEASE_NAME_H
#define SP_DOMAIN_RELEASE_NAME_H

#include <stddef.h>

#include "domain/meta.h"
#include "domain/problems.h"
#include "util/common.h"

#define SP_DIRNAME_MAX 243
#define SP_PAYLOAD_NAME_MAX 140
#define SP_BASE_LEN 6 /* 8.3 volume names: 6-character base + 2-digit volume number */

/* What a valid dirname says. */
struct sp_dirname_info {
    char group[64];
    int year;
    char language[32];  /* the LANGUAGE tag as written, "" when none */
    char source[16];    /* RETAiL / SCAN / HYBRiD, "" when missing */
    int tags;           /* enum sp_extra_tag bits */
    char type_tag[16];  /* MAGAZiNE / COMiC / MANGA or "" */
    char format_tag[8]; /* ePUB / CBZ / KF8 / AZW / MOBI / PRC or "" (PDF) */
    int format;         /* enum sp_format for format_tag; SP_FMT_PDF when there is none */
    char parts[256];    /* the name parts, dot-joined */
};

/* Free text → dirname words: transliterated (é→e, ß→ss), apostrophes dropped, "&" → "and",
 * every other character outside A-Z a-z 0-9 _ - a dot, runs collapsed, ends trimmed.
 * "" when nothing usable is left. Caller frees. */
char *sp_dirname_words(const char *utf8);

/* 1 when g is a group name: 2-30 of [A-Za-z0-9_-], starting and ending alphanumeric. */
int sp_group_valid(const char *g);

/*
 * Build the dirname of a release from normalised, validated metadata (sp_meta_normalize +
 * sp_meta_check), its payload format (enum sp_format) and group. The title alone is
 * shortened at a word boundary when the name would exceed 243 characters; tags never are.
 * SP_OK with out filled (outlen ≥ 244), or SP_INVALID with e naming the field at fault.
 */
int sp_dirname_build(const struct sp_meta *m, int format, const char *group, char *out,
                     size_t outlen, struct sp_err *e);

/* Check any dirname against §3; every violation is appended to out (field "dirname",
 * file = `file` or ""). info (may be NULL) receives what could be parsed. Returns the number of
 * violations added. */
size_t sp_dirname_validate(const char *name, const char *file, struct sp_dirname_info *info,
                           struct sp_problems *out);

/* "Is this 8.3 base already used by a release of that year?" 1 taken, 0 free, -1 error. */
typedef int (*sp_base_taken_fn)(void *ctx, const char *base, int year);

/*
 * Choose the 6-character lowercase base of the 8.3 names from a dirname's name parts
 * (initials, then letters, then the year's digits), trying variants until `taken` (may be
 * NULL) says one is free within `year`. SP_OK with out (7 bytes) filled, SP_CONFLICT when
 * every variant is taken, SP_ERR when the callback fails.
 */
int sp_short_base(const char *dirname, int year, sp_base_taken_fn taken, void *ctx, char *out,
                  struct sp_err *e);

/* The archive name of the payload: the dirname's name parts and year, cut at a dot so the
 * whole name with ".ext" is at most 140 characters. out must hold 141 bytes. */
void sp_payload_name(const char *dirname, const char *ext, char *out, size_t outlen);

#endif
