/*
 * nfo.h — NFO templates (PACKAGING.md §6): `{{field}}` substitutions and `{{#if field}}…{{/if}}`
 * sections, rendered to CP437 with CRLF line ends, at most 80 columns per line.
 *
 * Rendering happens in CP437 bytes, so one byte is one column and the 80-column rule is exact:
 * the UTF-8 template and values are converted with glibc iconv; a character CP437 lacks is
 * replaced through our own table (CP437's low glyphs ►◄↑↓…, then the ASCII transliteration of
 * text.h, then '?'), always one column per character or the ASCII spelling's width.
 * A value too long for its line wraps at word (or '.', '/', '-') boundaries, continuation lines
 * indented under the value. Errors carry the template line number.
 */
#ifndef SP_DOMAIN_NFO_H
#define SP_DOMAIN_NFO_H

#include <stddef.h>

#include "domain/meta.h"
#include "util/buf.h"
#include "util/common.h"

#define SP_NFO_WIDTH 80

/* Template field indexes: the metadata fields first (enum sp_meta_field), then these. */
enum sp_nfo_var {
    SP_NFO_RELEASE = SP_META_COUNT, /* the dirname */
    SP_NFO_GROUP,
    SP_NFO_FORMAT,  /* "EPUB", "PDF", ... */
    SP_NFO_DISKS,   /* "1 x 5MB" */
    SP_NFO_SIZE,    /* payload size, "4.21 MB" */
    SP_NFO_PAYLOAD, /* payload archive name */
    SP_NFO_PACKER,  /* "scenepacker 0.1.0" */
    SP_NFO_COUNT
};

struct sp_nfo_vars {
    const char *value[SP_NFO_COUNT]; /* UTF-8; NULL = empty */
};

/* Index of a template field name, or -1 when templates may not use it. */
int sp_nfo_var_index(const char *name);
const char *sp_nfo_var_name(int index);

/*
 * Render `tmpl` (UTF-8) with `vars` into out as CP437 bytes with CRLF line ends (appended).
 * rendered (may be NULL; SP_NFO_COUNT entries) is set to 1 for every field that was
 * output with a non-empty value. SP_OK, or SP_INVALID with e->field "template" and a message
 * "line N: ..." for an unknown field, an unbalanced section, invalid UTF-8, a control
 * character, or a line that renders wider than 80 columns.
 */
int sp_nfo_render(const char *tmpl, const struct sp_nfo_vars *vars, struct sp_buf *out,
                  unsigned char *rendered, struct sp_err *e);

/* Check that a rendered NFO holds what §6 requires for this metadata (release, dates,
 * language, source, author or publisher, disks, size, url for RETAiL, issue/volume for
 * magazines and comics, the fixed release for PROPER/REPACK/NFOFiX/DiRFiX).
 * SP_OK or SP_INVALID naming the missing field. */
int sp_nfo_check_required(const unsigned char *rendered, const struct sp_meta *m, struct sp_err *e);

/* UTF-8 → CP437 bytes (appended to out), one column per character as described above. */
void sp_cp437_encode(const char *utf8, size_t n, struct sp_buf *out);
/* CP437 bytes → UTF-8 (appended to out); CR, LF and TAB stay themselves. */
void sp_cp437_decode(const unsigned char *s, size_t n, struct sp_buf *out);

/* Built-in templates: name → UTF-8 text, NULL when unknown. */
const char *sp_nfo_template(const char *name);
/* NULL-terminated list of built-in template names; the first is the default. */
const char *const *sp_nfo_template_names(void);

#endif
