/*
 * diz.h — FILE_ID.DIZ (PACKAGING.md §5): plain ASCII, at most 44 columns × 30 lines, holding the
 * title, the group and `DISK: [xx/yy]`.
 */
#ifndef SP_DOMAIN_DIZ_H
#define SP_DOMAIN_DIZ_H

#include <stddef.h>

#include "domain/meta.h"
#include "domain/problems.h"
#include "util/buf.h"

#define SP_DIZ_WIDTH 44
#define SP_DIZ_LINES 30

/* Render the DIZ of volume `disk` of `disks` (1-based, ≤ 99) into out (ASCII, CRLF):
 * a box with the group, the author and title (transliterated, wrapped, cut with "..." when
 * longer than the box allows), year/language/source/format and the disk counter. */
void sp_diz_render(const struct sp_meta *m, const char *format, const char *group, int disk,
                   int disks, struct sp_buf *out);

/* Check a DIZ of any origin: ASCII only, ≤ 44 columns, ≤ 30 lines, "DISK: [xx/yy]" equal to
 * disk/disks (skipped when disks is 0), the group named (skipped when group is NULL). The
 * counter is the last well-formed "DISK: [xx/yy]" (any case): the one sp_diz_render writes below
 * the title, whatever the title holds.
 * Violations go to out (field "diz", file `file`); returns how many. */
size_t sp_diz_check(const unsigned char *s, size_t n, const char *group, int disk, int disks,
                    const char *file, struct sp_problems *out);

#endif
