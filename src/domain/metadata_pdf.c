/* metadata_pdf.c — PDF through the qpdf C API: /Encrypt in the trailer (DRM), the Info
 * dictionary (Title, Author, Producer, CreationDate, Subject) and the page count. qpdf reads
 * the cross-reference table and loads objects lazily, so a large PDF is not read whole. */
#include <qpdf/qpdf-c.h>
#include <stdio.h>
#include <string.h>

#include "domain/metadata.h"
#include "domain/text.h"
#include "util/alloc.h"
#include "util/time.h"

/* UTF-8 value of a string entry of a dictionary, cleaned; NULL when absent. Caller frees. */
static char *dict_string(qpdf_data q, qpdf_oh dict, const char *key)
{
    if (!qpdf_oh_has_key(q, dict, key))
        return NULL;
    qpdf_oh v = qpdf_oh_get_key(q, dict, key);
    char *out = NULL;
    const char *s = NULL;
    size_t n = 0;
    if (qpdf_oh_is_string(q, v) && qpdf_oh_get_value_as_utf8(q, v, &s, &n) && s && n) {
        if (n > 64 * 1024)
            n = 64 * 1024;
        out = sp_text_squash(sp_text_clean_utf8(s, n));
        if (!*out) {
            sp_free(out);
            out = NULL;
        }
    }
    qpdf_oh_release(q, v);
    return out;
}

/* "D:YYYYMMDDHHmmSS..." → "YYYY-MM-DD" (or "YYYY" when only the year is sound). */
static void pdf_date(const char *d, char *out, size_t outlen)
{
    out[0] = '\0';
    if (!d)
        return;
    if (!strncmp(d, "D:", 2))
        d += 2;
    char y[5] = {0}, full[11] = {0};
    for (int i = 0; i < 4; i++) {
        if (d[i] < '0' || d[i] > '9')
            return;
        y[i] = d[i];
    }
    snprintf(out, outlen, "%s", y);
    int ok = 1;
    for (int i = 4; i < 8; i++)
        if (d[i] < '0' || d[i] > '9')
            ok = 0;
    if (ok) {
        snprintf(full, sizeof full, "%.4s-%.2s-%.2s", d, d + 4, d + 6);
        if (sp_time_valid_date(full))
            snprintf(out, outlen, "%s", full);
    }
}

int sp_book_read_pdf(const char *path, struct sp_book *b, struct sp_err *e)
{
    qpdf_data q = qpdf_init();
    qpdf_silence_errors(q);
    qpdf_set_suppress_warnings(q, QPDF_TRUE);
    int rc = SP_OK;
    if (qpdf_read(q, path, "") & QPDF_ERRORS) {
        qpdf_error err = qpdf_get_error(q);
        if (err && qpdf_get_error_code(q, err) == qpdf_e_password) {
            b->drm = 1;
            snprintf(b->drm_reason, sizeof b->drm_reason,
                     "the trailer has an /Encrypt dictionary (a password is needed to open it)");
            goto out;
        }
        const char *detail = err ? qpdf_get_error_message_detail(q, err) : "unreadable";
        char *clean = sp_text_ascii(detail ? detail : "unreadable");
        sp_err_set(e, "file", "damaged PDF: %.180s", clean);
        sp_free(clean);
        rc = SP_INVALID;
        goto out;
    }
    qpdf_oh trailer = qpdf_get_trailer(q);
    if (qpdf_is_encrypted(q) || qpdf_oh_has_key(q, trailer, "/Encrypt")) {
        b->drm = 1;
        snprintf(b->drm_reason, sizeof b->drm_reason, "the trailer has an /Encrypt dictionary");
    }
    const char *ver = qpdf_get_pdf_version(q);
    sp_book_extra(b, "pdf_version", ver);
    if (qpdf_oh_has_key(q, trailer, "/Info")) {
        qpdf_oh info = qpdf_oh_get_key(q, trailer, "/Info");
        if (qpdf_oh_is_dictionary(q, info)) {
            char *v;
            if ((v = dict_string(q, info, "/Title"))) {
                sp_meta_put(&b->meta, SP_META_TITLE, v);
                sp_free(v);
            }
            if ((v = dict_string(q, info, "/Author"))) {
                sp_meta_put(&b->meta, SP_META_AUTHOR, v);
                sp_free(v);
            }
            if ((v = dict_string(q, info, "/Subject"))) {
                sp_book_extra(b, "subject", v);
                sp_free(v);
            }
            if ((v = dict_string(q, info, "/Producer"))) {
                sp_book_extra(b, "producer", v);
                sp_free(v);
            }
            if ((v = dict_string(q, info, "/Creator"))) {
                sp_book_extra(b, "creator", v);
                sp_free(v);
            }
            if ((v = dict_string(q, info, "/CreationDate"))) {
                char d[16];
                pdf_date(v, d, sizeof d);
                sp_book_extra(b, "creation_date", v);
                if (*d)
                    sp_meta_put(&b->meta, SP_META_PUBLISH_DATE, d);
                sp_free(v);
            }
        }
        qpdf_oh_release(q, info);
    }
    qpdf_oh_release(q, trailer);
    int pages = b->drm ? -1 : qpdf_get_num_pages(q);
    if (qpdf_has_error(q))
        qpdf_get_error(q); /* a broken page tree only costs the page count */
    if (pages > 0) {
        b->pages = pages;
        char cnt[16];
        snprintf(cnt, sizeof cnt, "%d", pages);
        sp_meta_put(&b->meta, SP_META_PAGES, cnt);
    }
out:
    while (qpdf_more_warnings(q))
        qpdf_next_warning(q);
    qpdf_cleanup(&q);
    return rc;
}
