/*
 * secrets.h — values encrypted at rest (configuration entries marked `secret`).
 *
 * libsodium secretbox (XSalsa20-Poly1305) under the 32-byte key of app->secret_key, which comes
 * from SP_SECRET_KEY (64 hex characters) or DATA_DIR/secret.key (created with mode 0600 on the
 * first start; see app.c). A sealed value is stored as one blob: 24-byte random nonce, then the
 * ciphertext with its 16-byte tag. A blob that was altered, or sealed under another key, does
 * not open. The key never leaves the process; docs/SECURITY.md explains rotation
 * (`scenepacker secrets rotate`).
 */
#ifndef SP_SECRETS_H
#define SP_SECRETS_H

#include <stddef.h>

#include "util/common.h"

#define SP_SECRET_KEY_BYTES 32
/* Bytes a sealed blob adds to the plaintext (nonce + tag). */
#define SP_SECRET_OVERHEAD 40

/* Seal plain[0..n) under key. *blob is a new heap buffer of *bloblen = n + SP_SECRET_OVERHEAD
 * bytes (sp_free). Always SP_OK (random nonce per call). */
int sp_secret_seal(const unsigned char key[SP_SECRET_KEY_BYTES], const char *plain, size_t n,
                   unsigned char **blob, size_t *bloblen);

/* Open a blob sealed by sp_secret_seal under key. SP_OK: *plain is a new NUL-terminated heap
 * string of *n bytes (wipe it with sp_secret_free(plain, n) when done). SP_INVALID: too short,
 * altered or sealed under another key (nothing allocated). */
int sp_secret_open(const unsigned char key[SP_SECRET_KEY_BYTES], const void *blob, size_t bloblen,
                   char **plain, size_t *n);

/* Zero the n bytes of a plaintext from sp_secret_open and free it (NULL is fine). */
void sp_secret_free(char *plain, size_t n);

/* Parse 64 hexadecimal characters into a key. SP_OK or SP_INVALID. */
int sp_secret_key_parse(const char *hex, unsigned char key[SP_SECRET_KEY_BYTES]);

/* The text shown instead of a secret value, everywhere. */
#define SP_SECRET_MASK "********"

#endif
