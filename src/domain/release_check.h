/*
 * release_check.h — verify a release directory of any origin against PACKAGING.md §3-§8 and list
 * every violation: dirname, layout (one NFO, one SFV, ZIP volumes, nothing else), NFO width
 * after CP437 decoding and CRLF, SFV entries and CRCs, each volume's 8.3 name, size, entry
 * count, names, FILE_ID.DIZ, NFO copy, payload format against the dirname's FORMAT tag, and
 * (unless quick) every member's CRC as `unzip -t` would.
 */
#ifndef SP_DOMAIN_RELEASE_CHECK_H
#define SP_DOMAIN_RELEASE_CHECK_H

#include "domain/problems.h"
#include "util/common.h"

enum {
    SP_CHECK_QUICK = 1, /* skip reading every byte: no SFV CRC and no ZIP member CRC checks */
};

/*
 * Check the release in `dir`. dirname: the name to validate (NULL: the directory's own name,
 * which is what a release made elsewhere has). Violations are appended to out.
 * Returns SP_OK when the directory could be examined (violations or not), SP_NOTFOUND when
 * it does not exist, SP_INVALID when it is not a directory, SP_ERR on I/O errors (e says why).
 */
int sp_release_check(const char *dir, const char *dirname, int flags, struct sp_problems *out,
                     struct sp_err *e);

#endif
