/*
 * text.h — UTF-8 decoding and the transliteration table shared by dirnames, DIZ and NFO.
 *
 * One table maps the code points a book title commonly carries (Latin-1, Latin Extended-A,
 * Cyrillic, typographic punctuation) to plain ASCII: é→e, ß→ss, œ→oe, “→", …→... .
 * Dirnames use it and drop what it lacks; the NFO uses it only for characters CP437 lacks.
 */
#ifndef SP_DOMAIN_TEXT_H
#define SP_DOMAIN_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Decode the code point at s[*i] (n bytes total). Returns 1 and advances *i past it; on an
 * invalid, overlong or truncated sequence returns 0, sets *cp to U+FFFD and advances one byte. */
int sp_utf8_next(const char *s, size_t n, size_t *i, uint32_t *cp);
/* Append cp as UTF-8. */
void sp_utf8_put(struct sp_buf *b, uint32_t cp);
/* The ASCII spelling of cp ("e" for é, "ss" for ß, "" for a zero-width character), or NULL
 * when the table has none. ASCII code points are not in the table. */
const char *sp_translit(uint32_t cp);
/* Fold UTF-8 text to printable ASCII: ASCII printables kept, whitespace and control
 * characters become one space, other characters are transliterated or dropped; runs of
 * spaces are collapsed and the result trimmed. Caller frees. */
char *sp_text_ascii(const char *utf8);
/* Windows-1252 bytes to UTF-8 (undefined bytes dropped). Caller frees. */
char *sp_text_cp1252_to_utf8(const unsigned char *s, size_t n);
/* UTF-8 bytes that may be invalid to valid UTF-8: invalid sequences and NUL are dropped,
 * control characters other than \n and \t become spaces. Caller frees. */
char *sp_text_clean_utf8(const char *s, size_t n);
/* Collapse runs of whitespace to one space and trim both ends, in place. Returns s. */
char *sp_text_squash(char *s);
/* Number of code points in valid UTF-8 text. */
size_t sp_utf8_len(const char *s);

#endif
