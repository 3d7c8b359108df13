/*
 * fuzz_metadata.c — domain/metadata*.c through the entry point the wizard and the CLI use:
 * sp_book_analyze on a file holding the input (a memfd, opened by path), so format sniffing and
 * every reader (PDF through qpdf, EPUB/CBZ through libzip + expat, MOBI/PalmDOC) see arbitrary
 * bytes. The seed corpus holds a valid book of each format (tests/unit/fixtures_books.h).
 *
 * Input: the file's bytes. The user-facing name's extension is picked from the input's size, so
 * extension checks vary too. Invariants: see fuzz_book.h; sp_family_sniff on the bytes agrees
 * with the family a successful analysis started from (ZIPs may be refined into EPUB/CBZ).
 */
#include "fuzz_book.h"

static const char *const names[] = {"book.pdf",  "book.epub", "book.cbz", "book.mobi",
                                    "book.azw3", "book.prc",  "book",     "book.TXT"};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024 * 1024)
        return 0;
    /* sniff the way sp_book_analyze does: the first bytes in a 4 KiB buffer (fuzz_mobi calls
     * it on the exact bytes, which is its contract) */
    unsigned char head[4096];
    size_t hn = size < sizeof head ? size : sizeof head;
    memset(head, 0, sizeof head);
    memcpy(head, data, hn);
    int fam = sp_family_sniff(head, hn);
    const char *path = fz_memfile(data, size);
    struct sp_book b;
    struct sp_err e = {{0}, {0}};
    int rc = sp_book_analyze(path, names[size % SP_ARRAY_LEN(names)], 0, &b, &e);
    fz_check_book(rc, &b, &e);
    if (rc == SP_OK) {
        int zip = fam == SP_FAM_ZIP || fam == SP_FAM_EPUB;
        int zipfam = b.family == SP_FAM_ZIP || b.family == SP_FAM_EPUB || b.family == SP_FAM_CBZ;
        int mobi = fam == SP_FAM_MOBI || fam == SP_FAM_KF8 || fam == SP_FAM_KF8_COMBO ||
                   fam == SP_FAM_PALMDOC;
        int mobifam = b.family == SP_FAM_MOBI || b.family == SP_FAM_KF8 ||
                      b.family == SP_FAM_KF8_COMBO || b.family == SP_FAM_PALMDOC;
        if (!(fam == b.family || (zip && zipfam) || (mobi && mobifam)))
            fz_fail("sniffed family %s but analysis says %s", sp_family_name(fam),
                    sp_family_name(b.family));
        if (b.format == SP_FMT_UNKNOWN)
            fz_fail("a recognised %s book has no format", sp_family_name(b.family));
        if (b.size != (int64_t)size)
            fz_fail("size %lld for a %zu-byte file", (long long)b.size, size);
    }
    sp_book_free(&b);
    return 0;
}
