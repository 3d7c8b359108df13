/*
 * fuzz_mobi.c — domain/metadata_mobi.c, our own PalmDB / MOBI / EXTH reader, on raw bytes:
 * sp_family_sniff (which parses record 0 from a prefix) and sp_book_read_mobi on the file,
 * without the PDF/ZIP readers in the way (fuzz_metadata covers the dispatch).
 *
 * Input: the file's bytes (PalmDB header, record list, record 0 with the MOBI header and EXTH).
 * Invariants: see fuzz_book.h; a successful read gives a Mobipocket/PalmDOC family.
 */
#include "fuzz_book.h"

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
    int fam = sp_family_sniff(data, size);
    if (fam < SP_FAM_UNKNOWN || fam > SP_FAM_PALMDOC)
        fz_fail("sp_family_sniff returned %d", fam);
    const char *path = fz_memfile(data, size);
    struct sp_book b;
    memset(&b, 0, sizeof b);
    sp_meta_init(&b.meta);
    b.size = (int64_t)size;
    b.family = fam;
    b.ext_ok = 1;
    struct sp_err e = {{0}, {0}};
    int rc = sp_book_read_mobi(path, &b, &e);
    fz_check_book(rc, &b, &e);
    if (rc == SP_OK && b.family != SP_FAM_MOBI && b.family != SP_FAM_KF8 &&
        b.family != SP_FAM_KF8_COMBO && b.family != SP_FAM_PALMDOC)
        fz_fail("sp_book_read_mobi succeeded with family %s", sp_family_name(b.family));
    sp_book_free(&b);
    return 0;
}
