#include "domain/release_check.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <zip.h>

#include "domain/diz.h"
#include "domain/meta.h"
#include "domain/metadata.h"
#include "domain/nfo.h"
#include "domain/package.h"
#include "domain/release_name.h"
#include "domain/sfv.h"
#include "util/alloc.h"

#define NFO_CAP (1024 * 1024)
#define DIZ_CAP (64 * 1024)
#define SNIFF (64 * 1024)

struct ent {
    char *name;
    int64_t size;
    int is_dir;  /* a directory, or anything that is not a regular file (never opened) */
    int special; /* a link, device, pipe or socket */
    int volume;  /* volume number, 0 for extras */
};

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ent *)a)->name, ((const struct ent *)b)->name);
}

static int has_ext(const char *name, const char *ext)
{
    size_t n = strlen(name), k = strlen(ext);
    return n > k && !strcasecmp(name + n - k, ext);
}

static const char *ext_of(const char *name, char *buf, size_t buflen)
{
    buf[0] = '\0';
    const char *dot = strrchr(name, '.');
    if (dot && strlen(dot + 1) < buflen) {
        size_t i = 0;
        for (const char *p = dot + 1; *p; p++)
            buf[i++] = (char)tolower((unsigned char)*p);
        buf[i] = '\0';
    }
    return buf;
}

/* Read at most cap bytes of a file; NULL when unreadable. */
static char *slurp(const char *path, size_t cap, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = sp_malloc(cap + 1);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* NFO rules: not empty, CRLF line ends, at most 80 columns (one CP437 byte = one column). */
static void check_nfo(const unsigned char *s, size_t n, const char *file, struct sp_problems *out)
{
    if (n == 0) {
        sp_problems_add(out, "nfo", file, "the NFO is empty");
        return;
    }
    size_t line = 1, col = 0, bare_lf = 0, wide = 0, first_wide = 0, widest = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            if (i == 0 || s[i - 1] != '\r')
                bare_lf++;
            line++;
            col = 0;
            continue;
        }
        if (s[i] == '\r' && i + 1 < n && s[i + 1] == '\n')
            continue;
        col++;
        if (col == SP_NFO_WIDTH + 1) {
            wide++;
            if (!first_wide)
                first_wide = line;
        }
        if (col > widest)
            widest = col;
    }
    if (wide)
        sp_problems_add(out, "nfo", file,
                        "%zu line%s wider than 80 columns (first: line %zu; widest: %zu)", wide,
                        wide > 1 ? "s are" : " is", first_wide, widest);
    if (bare_lf)
        sp_problems_add(out, "nfo", file, "%zu line%s end%s with LF instead of CRLF", bare_lf,
                        bare_lf > 1 ? "s" : "", bare_lf > 1 ? "" : "s");
}

static int valid_83(const char *name, struct sp_problems *out)
{
    size_t n = strlen(name);
    const char *dot = strrchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : n;
    int ok = dot && !strcmp(dot, ".zip") && stem >= 1 && stem <= 8;
    for (size_t i = 0; ok && i < stem; i++)
        ok = (islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
              name[i] == '_' || name[i] == '-');
    if (!ok)
        sp_problems_add(out, "zip", name,
                        "ZIP names must be 8.3 and lowercase: 1-8 of a-z 0-9 _ - then .zip");
    return ok;
}

struct zcheck {
    const char *group;
    const struct sp_dirname_info *info;
    const unsigned char *nfo;
    size_t nfo_len;
    int flags;
};

static void check_payload_format(const char *zname, const char *pname, const unsigned char *head,
                                 size_t n, const struct sp_dirname_info *info,
                                 struct sp_problems *out)
{
    char ext[16];
    ext_of(pname, ext, sizeof ext);
    int fam = sp_family_sniff(head, n);
    if (fam == SP_FAM_ZIP)
        fam = !strcmp(ext, "cbz") ? SP_FAM_CBZ : !strcmp(ext, "epub") ? SP_FAM_EPUB : fam;
    if (fam == SP_FAM_UNKNOWN || fam == SP_FAM_ZIP) {
        sp_problems_add(out, "payload", zname,
                        "%s is not a supported e-book (PDF, EPUB, CBZ, "
                        "MOBI/AZW/KF8/PRC)",
                        pname);
        return;
    }
    int fmt = sp_format_for(fam, ext);
    if (fmt == SP_FMT_UNKNOWN) {
        sp_problems_add(out, "payload", zname, "the extension of %s contradicts its content (%s)",
                        pname, sp_family_name(fam));
        fmt = sp_format_for(fam, "");
    }
    const char *want = sp_format_tag(fmt);
    if (!want && info->format_tag[0])
        sp_problems_add(out, "dirname", "", "a PDF release takes no FORMAT tag, not '%s'",
                        info->format_tag);
    else if (want && !info->format_tag[0])
        sp_problems_add(out, "dirname", "",
                        "the payload is %s: the dirname needs the FORMAT "
                        "tag '%s'",
                        sp_format_name(fmt), want);
    else if (want && strcmp(want, info->format_tag))
        sp_problems_add(out, "dirname", "",
                        "the FORMAT tag '%s' does not match the payload "
                        "(%s, tag '%s')",
                        info->format_tag, sp_format_name(fmt), want);
}

/* Read a member fully (verifying its CRC); keep the first `keep` bytes in *head. */
static int read_member(zip_t *za, zip_uint64_t i, size_t keep, unsigned char **head,
                       size_t *headlen, int full)
{
    zip_file_t *zf = zip_fopen_index(za, i, 0);
    if (!zf)
        return -1;
    enum { BLOCK = 1 << 20 };
    unsigned char *buf = sp_malloc(BLOCK);
    unsigned char *h = keep ? sp_malloc(keep + 1) : NULL;
    size_t hl = 0;
    int rc = 0;
    for (;;) {
        zip_int64_t r = zip_fread(zf, buf, BLOCK);
        if (r < 0) {
            rc = -1;
            break;
        }
        if (r == 0)
            break;
        if (hl < keep) {
            size_t k = (size_t)r < keep - hl ? (size_t)r : keep - hl;
            memcpy(h + hl, buf, k);
            hl += k;
        }
        if (!full && hl >= keep)
            break;
    }
    zip_fclose(zf);
    sp_free(buf);
    if (h)
        h[hl] = '\0';
    if (head)
        *head = h;
    else
        sp_free(h);
    if (headlen)
        *headlen = hl;
    return rc;
}

static void check_volume(const char *dir, const struct ent *v, int nvol, const struct zcheck *c,
                         struct sp_problems *out)
{
    char *path = sp_asprintf("%s/%s", dir, v->name);
    int zerr = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    sp_free(path);
    if (!za) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        sp_problems_add(out, "zip", v->name, "not a valid ZIP archive: %s",
                        zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return;
    }
    int full = !(c->flags & SP_CHECK_QUICK);
    zip_int64_t n = zip_get_num_entries(za, 0);
    if (n > 99)
        sp_problems_add(out, "zip", v->name, "%" PRId64 " files in one ZIP (at most 99)",
                        (int64_t)n);
    int diz = 0, nfo = 0, payloads = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        zip_stat_t st;
        zip_stat_init(&st);
        if (zip_stat_index(za, (zip_uint64_t)i, 0, &st) < 0 || !(st.valid & ZIP_STAT_NAME)) {
            sp_problems_add(out, "zip", v->name, "member %" PRId64 " is unreadable", (int64_t)i);
            continue;
        }
        const char *name = st.name;
        char *shown = sp_strndup(name, 160);
        for (char *p = shown; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7F)
                *p = '?';
        if (strchr(name, ' '))
            sp_problems_add(out, "zip", v->name, "the archive name '%s' contains a space", shown);
        if (strchr(name, '/') || strchr(name, '\\') || name[0] == '.' || strstr(name, ".."))
            sp_problems_add(out, "zip", v->name, "'%s' is not a plain file name", shown);
        if (strlen(name) > SP_PAYLOAD_NAME_MAX)
            sp_problems_add(out, "zip", v->name,
                            "the archive name '%.40s...' has %zu characters "
                            "(at most 140)",
                            shown, strlen(name));
        if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) && st.encryption_method != ZIP_EM_NONE) {
            sp_problems_add(out, "zip", v->name, "'%s' is encrypted", shown);
            sp_free(shown);
            continue;
        }
        unsigned char *head = NULL;
        size_t hl = 0;
        int is_diz = !strcasecmp(name, "FILE_ID.DIZ"), is_nfo = has_ext(name, ".nfo");
        size_t keep = is_diz ? DIZ_CAP : is_nfo ? NFO_CAP : (payloads == 0 ? SNIFF : 0);
        int need = full || is_diz || is_nfo || keep > 0;
        if (need &&
            read_member(za, (zip_uint64_t)i, keep, &head, &hl, full || is_diz || is_nfo) < 0)
            sp_problems_add(out, "zip", v->name, "'%s' fails to extract: %s", shown,
                            zip_strerror(za));
        else if (is_diz) {
            diz++;
            sp_diz_check(head, hl, c->group, v->volume, nvol, v->name, out);
        } else if (is_nfo) {
            nfo++;
            if (c->nfo && (hl != c->nfo_len || memcmp(head, c->nfo, hl)))
                sp_problems_add(out, "nfo", v->name,
                                "the NFO inside (%s) differs from the "
                                "release's NFO",
                                shown);
            if (!c->nfo)
                check_nfo(head, hl, v->name, out);
        } else {
            if (payloads == 0 && v->volume <= 1)
                check_payload_format(v->name, shown, head, hl, c->info, out);
            payloads++;
        }
        sp_free(head);
        sp_free(shown);
    }
    if (!diz)
        sp_problems_add(out, "diz", v->name, "the volume holds no FILE_ID.DIZ");
    if (!nfo)
        sp_problems_add(out, "nfo", v->name, "the volume holds no NFO");
    if (!payloads)
        sp_problems_add(out, "payload", v->name, "the volume holds no payload");
    zip_discard(za);
}

static void check_sfv(const char *dir, const char *sfvname, struct ent *ents, size_t nents,
                      int flags, struct sp_problems *out)
{
    char *path = sp_asprintf("%s/%s", dir, sfvname);
    size_t len = 0;
    char *text = slurp(path, NFO_CAP, &len);
    sp_free(path);
    if (!text) {
        sp_problems_add(out, "sfv", sfvname, "cannot read the SFV");
        return;
    }
    struct sp_sfv_entry *list = NULL;
    size_t n = sp_sfv_parse(text, len, &list, sfvname, out);
    for (size_t i = 0; i < n; i++) {
        for (size_t k = 0; k < i; k++)
            if (!strcasecmp(list[k].name, list[i].name))
                sp_problems_add(out, "sfv", sfvname, "%s is listed twice", list[i].name);
        struct ent *hit = NULL;
        for (size_t k = 0; k < nents; k++)
            if (!strcmp(ents[k].name, list[i].name))
                hit = &ents[k];
        if (!hit || hit->is_dir) {
            sp_problems_add(out, "sfv", sfvname, "lists %s, which is not in the release",
                            list[i].name);
            continue;
        }
        if (!has_ext(hit->name, ".zip"))
            sp_problems_add(out, "sfv", sfvname, "lists %s: the SFV holds the ZIP volumes only",
                            hit->name);
        if (!(flags & SP_CHECK_QUICK)) {
            uint32_t crc = 0;
            struct sp_err e;
            char *fp = sp_asprintf("%s/%s", dir, hit->name);
            if (sp_crc32_file(fp, &crc, NULL, &e) != SP_OK)
                sp_problems_add(out, "sfv", hit->name, "cannot read: %s", e.message);
            else if (crc != list[i].crc)
                sp_problems_add(out, "sfv", hit->name, "CRC32 is %08X but the SFV says %08X",
                                (unsigned)crc, (unsigned)list[i].crc);
            sp_free(fp);
        }
    }
    for (size_t k = 0; k < nents; k++) {
        if (!has_ext(ents[k].name, ".zip") || ents[k].is_dir)
            continue;
        int listed = 0;
        for (size_t i = 0; i < n; i++)
            listed |= !strcmp(list[i].name, ents[k].name);
        if (!listed)
            sp_problems_add(out, "sfv", sfvname, "%s is not listed in the SFV", ents[k].name);
    }
    sp_free(list);
    sp_free(text);
}

int sp_release_check(const char *dir, const char *dirname, int flags, struct sp_problems *out,
                     struct sp_err *e)
{
    struct stat st;
    if (stat(dir, &st) < 0) {
        sp_err_set(e, "dir", "cannot open %s: %s", dir, strerror(errno));
        return errno == ENOENT ? SP_NOTFOUND : SP_ERR;
    }
    if (!S_ISDIR(st.st_mode)) {
        sp_err_set(e, "dir", "%s is not a directory", dir);
        return SP_INVALID;
    }
    DIR *d = opendir(dir);
    if (!d) {
        sp_err_set(e, "dir", "cannot read %s: %s", dir, strerror(errno));
        return SP_ERR;
    }
    char *own = NULL;
    if (!dirname) {
        own = sp_strdup(dir);
        size_t n = strlen(own);
        while (n > 1 && own[n - 1] == '/')
            own[--n] = '\0';
        const char *slash = strrchr(own, '/');
        dirname = slash ? slash + 1 : own;
    }
    struct sp_dirname_info info;
    sp_dirname_validate(dirname, "", &info, out);

    struct ent *ents = NULL;
    size_t nents = 0, cap = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (nents == cap) {
            cap = cap ? cap * 2 : 16;
            ents = sp_reallocarray(ents, cap, sizeof *ents);
        }
        struct ent *en = &ents[nents++];
        memset(en, 0, sizeof *en);
        en->name = sp_strdup(de->d_name);
        char *p = sp_asprintf("%s/%s", dir, de->d_name);
        struct stat es;
        if (lstat(p, &es) == 0) {
            en->is_dir = !S_ISREG(es.st_mode);
            en->special = !S_ISREG(es.st_mode) && !S_ISDIR(es.st_mode);
            en->size = es.st_size;
        } else {
            en->is_dir = en->special = 1;
        }
        sp_free(p);
    }
    closedir(d);
    if (nents)
        qsort(ents, nents, sizeof *ents, ent_cmp);

    const char *nfo_name = NULL, *sfv_name = NULL;
    size_t nnfo = 0, nsfv = 0, nzip = 0;
    for (size_t i = 0; i < nents; i++) {
        const char *nm = ents[i].name;
        if (strchr(nm, ' '))
            sp_problems_add(out, "layout", nm, "file names must not contain spaces");
        if (ents[i].special)
            sp_problems_add(out, "layout", nm,
                            "not a regular file (links, devices and pipes do not belong in a "
                            "release)");
        else if (ents[i].is_dir)
            sp_problems_add(out, "layout", nm,
                            "unexpected directory (a release holds the NFO, "
                            "the SFV and ZIP archives)");
        else if (has_ext(nm, ".nfo"))
            nnfo++, nfo_name = nm;
        else if (has_ext(nm, ".sfv"))
            nsfv++, sfv_name = nm;
        else if (has_ext(nm, ".zip"))
            nzip++;
        else
            sp_problems_add(out, "layout", nm,
                            "unexpected file (a release holds the NFO, the "
                            "SFV and ZIP archives)");
    }
    /* an NFOFiX may be the corrected NFO alone (§7) */
    int nfo_only = (info.tags & SP_TAG_NFOFIX) && !nzip && !nsfv;
    if (nnfo != 1)
        sp_problems_add(out, "layout", "", nnfo ? "more than one NFO" : "the NFO is missing");
    if (nsfv != 1 && !nfo_only)
        sp_problems_add(out, "layout", "", nsfv ? "more than one SFV" : "the SFV is missing");
    if (!nzip && !nfo_only)
        sp_problems_add(out, "layout", "", "no ZIP volume");

    unsigned char *nfo = NULL;
    size_t nfo_len = 0;
    if (nnfo == 1) {
        if (info.group[0] && (strncasecmp(nfo_name, info.group, strlen(info.group)) ||
                              nfo_name[strlen(info.group)] != '-'))
            sp_problems_add(out, "nfo", nfo_name,
                            "the NFO is named <group>-<name>.nfo: it "
                            "should start with '%s-'",
                            info.group);
        char *p = sp_asprintf("%s/%s", dir, nfo_name);
        nfo = (unsigned char *)slurp(p, NFO_CAP, &nfo_len);
        sp_free(p);
        if (nfo)
            check_nfo(nfo, nfo_len, nfo_name, out);
        else
            sp_problems_add(out, "nfo", nfo_name, "cannot read the NFO");
    }
    if (nsfv == 1)
        check_sfv(dir, sfv_name, ents, nents, flags, out);

    /* volumes: the largest family of "<stem>NN.zip"; other ZIPs are extras */
    const char *best = NULL;
    size_t best_n = 0, best_stem = 0;
    for (size_t i = 0; i < nents; i++) {
        const char *nm = ents[i].name;
        size_t n = strlen(nm);
        if (ents[i].is_dir || !has_ext(nm, ".zip") || n < 7 || !isdigit((unsigned char)nm[n - 5]) ||
            !isdigit((unsigned char)nm[n - 6]))
            continue;
        size_t stem = n - 6, count = 0;
        for (size_t k = 0; k < nents; k++)
            if (strlen(ents[k].name) == n && !strncmp(ents[k].name, nm, stem) &&
                has_ext(ents[k].name, ".zip") && isdigit((unsigned char)ents[k].name[n - 5]) &&
                isdigit((unsigned char)ents[k].name[n - 6]))
                count++;
        if (count > best_n)
            best = nm, best_n = count, best_stem = stem;
    }
    int nvol = 0;
    int64_t biggest = 0;
    for (size_t i = 0; i < nents; i++) {
        const char *nm = ents[i].name;
        if (ents[i].is_dir || !has_ext(nm, ".zip"))
            continue;
        valid_83(nm, out);
        size_t n = strlen(nm);
        if (best ? (n == best_stem + 6 && !strncmp(nm, best, best_stem) &&
                    isdigit((unsigned char)nm[n - 5]) && isdigit((unsigned char)nm[n - 6]))
                 : 1) {
            ents[i].volume = best ? (nm[n - 6] - '0') * 10 + (nm[n - 5] - '0') : ++nvol;
            if (best)
                nvol++;
            if (ents[i].size > biggest)
                biggest = ents[i].size;
        }
    }
    if (nzip && !best)
        sp_problems_add(out, "zip", "",
                        "ZIP volume names end with their two-digit number "
                        "(abcdef01.zip)");
    for (int k = 1; best && k <= nvol; k++) {
        int found = 0;
        for (size_t i = 0; i < nents; i++)
            found |= ents[i].volume == k;
        if (!found) {
            sp_problems_add(out, "zip", "", "volume %02d of %02d is missing", k, nvol);
            break;
        }
    }
    if (biggest > 0) {
        int64_t fits = 0;
        for (size_t i = 0; i < sp_zip_sizes_count && !fits; i++)
            if (sp_zip_sizes[i] >= biggest)
                fits = sp_zip_sizes[i];
        if (!fits)
            sp_problems_add(out, "zip", "",
                            "a volume has %" PRId64 " bytes, more than the "
                            "largest allowed volume size (250000000)",
                            biggest);
    }
    struct zcheck zc = {info.group, &info, nfo, nfo_len, flags};
    for (size_t i = 0; i < nents; i++) {
        if (ents[i].is_dir || !has_ext(ents[i].name, ".zip"))
            continue;
        if (ents[i].volume > 0)
            check_volume(dir, &ents[i], nvol, &zc, out);
        else {
            /* an extras archive: it must open and extract */
            char *p = sp_asprintf("%s/%s", dir, ents[i].name);
            int zerr = 0;
            zip_t *za = zip_open(p, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
            sp_free(p);
            if (!za) {
                sp_problems_add(out, "zip", ents[i].name, "not a valid ZIP archive");
                continue;
            }
            zip_int64_t n = zip_get_num_entries(za, 0);
            for (zip_int64_t k = 0; !(flags & SP_CHECK_QUICK) && k < n; k++)
                if (read_member(za, (zip_uint64_t)k, 0, NULL, NULL, 1) < 0) {
                    sp_problems_add(out, "zip", ents[i].name,
                                    "member %" PRId64 " fails to "
                                    "extract",
                                    (int64_t)k);
                    break;
                }
            zip_discard(za);
        }
    }
    for (size_t i = 0; i < nents; i++)
        sp_free(ents[i].name);
    sp_free(ents);
    sp_free(nfo);
    sp_free(own);
    return SP_OK;
}
