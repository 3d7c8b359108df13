/*
 * meta.h — the release metadata that drives the dirname and the NFO (PACKAGING.md §2).
 *
 * One table (meta.c) lists every field: its name (as in the API's enriched_metadata and in
 * NFO template fields), its NFO label, its length bound. A field is a heap UTF-8 string or NULL
 * when unset. Values are cleaned on the way in (control characters, invalid UTF-8 rejected);
 * sp_meta_normalize() puts them in canonical form (RETAiL, "French", ISO dates, ISBN digits)
 * and sp_meta_validate() lists every rule a value breaks.
 */
#ifndef SP_DOMAIN_META_H
#define SP_DOMAIN_META_H

#include "domain/problems.h"
#include "util/common.h"

enum sp_meta_field {
    SP_META_TITLE,
    SP_META_AUTHOR,
    SP_META_PUBLISHER,
    SP_META_YEAR,
    SP_META_LANGUAGE,
    SP_META_SOURCE,
    SP_META_ISBN,
    SP_META_ISSN,
    SP_META_GENRE,
    SP_META_RELEASE_DATE,
    SP_META_PUBLISH_DATE,
    SP_META_STORE_DATE,
    SP_META_URL,
    SP_META_SHOP_URL,
    SP_META_EDITION,
    SP_META_VOLUME,
    SP_META_ISSUE,
    SP_META_MONTH,
    SP_META_BOOK_KIND,
    SP_META_PAGES,
    SP_META_TAGS,
    SP_META_FIXES,
    SP_META_NOTES,
    SP_META_COUNT
};

struct sp_meta {
    char *v[SP_META_COUNT];
};

enum sp_kind {
    SP_KIND_FICTION,
    SP_KIND_TECHNICAL,
    SP_KIND_MAGAZINE,
    SP_KIND_COMIC,
    SP_KIND_MANGA,
    SP_KIND_NEWSPAPER,
};

/* Extra dirname tags (§3), in the order they appear in a dirname. */
enum sp_extra_tag {
    SP_TAG_READNFO = 1 << 0,
    SP_TAG_NFOFIX = 1 << 1,
    SP_TAG_DIRFIX = 1 << 2,
    SP_TAG_INTERNAL = 1 << 3,
    SP_TAG_PROPER = 1 << 4,
    SP_TAG_REPACK = 1 << 5,
};
#define SP_TAGS_NEED_FIXES (SP_TAG_NFOFIX | SP_TAG_DIRFIX | SP_TAG_PROPER | SP_TAG_REPACK)

struct sp_language {
    const char *code2; /* ISO 639-1 */
    const char *code3; /* ISO 639-2 codes, space separated */
    const char *name;  /* English name: the canonical metadata value ("French") */
};

void sp_meta_init(struct sp_meta *m);
void sp_meta_free(struct sp_meta *m);
/* dst becomes a deep copy of src (dst's old values are freed). */
void sp_meta_copy(struct sp_meta *dst, const struct sp_meta *src);
/* Every field set in src replaces the one in dst. */
void sp_meta_merge(struct sp_meta *dst, const struct sp_meta *src);

/* Field index for a name ("title", "release_date", ...), or -1. */
int sp_meta_field_lookup(const char *name);
const char *sp_meta_field_name(int field);
/* Human label used by the built-in NFO templates ("Release date"). */
const char *sp_meta_field_label(int field);

/* Set a field by name from outside input. The value must be valid UTF-8 without NUL and at
 * most the field's length bound; it is cleaned (control characters → spaces, whitespace
 * squashed) and an empty value unsets the field. SP_OK, or SP_INVALID with e naming the field
 * (an unknown name is reported with field "meta"). */
int sp_meta_set(struct sp_meta *m, const char *name, const char *value, struct sp_err *e);
/* Set a field by index from trusted code (extractors): cleaned the same way, never fails. */
void sp_meta_put(struct sp_meta *m, int field, const char *value);
/* The value or NULL when unset. */
const char *sp_meta_get(const struct sp_meta *m, int field);

/* Canonical forms, in place: source → RETAiL/SCAN/HYBRiD, language → English name,
 * book_kind/tags → canonical spelling, dates → ISO (YYYY-MM-DD or YYYY), ISBN/ISSN → digits,
 * month → 1..12, year derived from publish_date when unset. Values that cannot be understood
 * are left as they are for sp_meta_validate() to report. */
void sp_meta_normalize(struct sp_meta *m);
/* Append every rule the (normalised) metadata breaks to `out`; returns how many. */
size_t sp_meta_validate(const struct sp_meta *m, struct sp_problems *out);
/* sp_meta_validate() reduced to the first problem: SP_OK or SP_INVALID with e filled. */
int sp_meta_check(const struct sp_meta *m, struct sp_err *e);

/* Book kind of the metadata (book_kind unset → fiction); -1 when the value is unknown. */
int sp_meta_kind(const struct sp_meta *m);
const char *sp_kind_name(int kind);
int sp_kind_parse(const char *s);
/* Year used in the dirname: the year field, else the year of publish_date; 0 when none. */
int sp_meta_year(const struct sp_meta *m);
/* Extra tags as a bit set of enum sp_extra_tag; -1 when a word is not a known tag. */
int sp_meta_tags(const struct sp_meta *m);
const char *sp_extra_tag_name(int bit);
/* Canonical source tag for input like "retail"; NULL when unknown. */
const char *sp_source_canonical(const char *s);

/* Language by ISO 639-1/639-2 code (region subtags ignored: "fr-CA"), English name or scene
 * tag, case-insensitive; NULL when unknown. */
const struct sp_language *sp_language_find(const char *s);
/* The scene tag of a language: its English name in capitals with "I" written "i"
 * (FRENCH, SWEDiSH, iTALiAN). out must hold 32 bytes. */
void sp_language_tag(const struct sp_language *l, char *out, size_t outlen);
/* Language by scene tag, exact spelling (FRENCH, SWEDiSH); NULL when unknown. */
const struct sp_language *sp_language_by_tag(const char *tag);
/* Language by scene tag in any letter case ("French", "SWEDISH"); NULL when unknown. */
const struct sp_language *sp_language_by_tag_ci(const char *tag);

/* 1 when s is an ISBN-10 or ISBN-13 with a correct check digit (hyphens/spaces allowed). */
int sp_isbn_valid(const char *s);
/* 1 when s is an ISSN (NNNN-NNNC) with a correct check digit. */
int sp_issn_valid(const char *s);
/* English month name for 1..12, else NULL. */
const char *sp_month_name(int month);

#endif
