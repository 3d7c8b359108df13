/*
 * fuzz_time.c — util/time.c: sp_time_parse and sp_time_valid_date on arbitrary strings.
 *
 * Input: the string to parse (NUL cuts it). Invariants: an accepted timestamp formats back
 * (sp_time_rfc3339) to text that parses to the same instant; an accepted plain date is a valid
 * date and parses to midnight UTC of that day.
 */
#include "fuzz_common.h"

#include "util/time.h"

#define INSIDE_FROM (-30578688000LL) /* 1001-01-01T00:00:00Z */
#define INSIDE_TO 253370764800LL     /* 9999-01-01T00:00:00Z */

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 256)
        return 0; /* timestamps are short; longer inputs only repeat the same checks */
    char *s = fz_cstr(data, size);
    int64_t t = 0;
    int valid_date = sp_time_valid_date(s);
    if (sp_time_parse(s, &t) == 0) {
        char back[64];
        sp_time_rfc3339(t, back, sizeof back);
        int64_t t2 = 0;
        /* An offset may move an instant of year 1000 or 9999 out of the 4-digit range the
         * formats cover; inside it, the formatted instant must parse back unchanged. */
        if (t >= INSIDE_FROM && t < INSIDE_TO && (sp_time_parse(back, &t2) != 0 || t2 != t))
            fz_fail("sp_time_parse(\"%s\") = %lld, formatted \"%s\" does not parse back", s,
                    (long long)t, back);
        if (strlen(s) == 10) {
            if (!valid_date)
                fz_fail("sp_time_parse accepted \"%s\" that sp_time_valid_date refuses", s);
            if (t % 86400 != 0 || strncmp(back, s, 10) != 0)
                fz_fail("date \"%s\" parsed to %lld (%s), not its midnight UTC", s, (long long)t,
                        back);
        }
    } else if (valid_date) {
        fz_fail("sp_time_valid_date accepts \"%s\" but sp_time_parse refuses it", s);
    }
    sp_free(s);
    return 0;
}
