#include "domain/sfv.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "util/alloc.h"

int sp_crc32_file(const char *path, uint32_t *crc, int64_t *size, struct sp_err *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sp_err_set(e, "file", "cannot open %s: %s", path, strerror(errno));
        return errno == ENOENT ? SP_NOTFOUND : SP_ERR;
    }
    enum { BLOCK = 1 << 20 };
    unsigned char *buf = sp_malloc(BLOCK);
    uLong c = crc32(0L, Z_NULL, 0);
    int64_t total = 0;
    int rc = SP_OK;
    for (;;) {
        ssize_t r = read(fd, buf, BLOCK);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            sp_err_set(e, "file", "cannot read %s: %s", path, strerror(errno));
            rc = SP_ERR;
            break;
        }
        if (r == 0)
            break;
        c = crc32(c, buf, (uInt)r);
        total += r;
    }
    sp_free(buf);
    close(fd);
    if (rc == SP_OK) {
        *crc = (uint32_t)c;
        if (size)
            *size = total;
    }
    return rc;
}

void sp_sfv_render(const struct sp_sfv_entry *entries, size_t n, const char *comment,
                   struct sp_buf *out)
{
    if (comment && *comment)
        sp_buf_printf(out, "; %s\r\n", comment);
    for (size_t i = 0; i < n; i++)
        sp_buf_printf(out, "%s %08X\r\n", entries[i].name, (unsigned)entries[i].crc);
}

size_t sp_sfv_parse(const char *text, size_t n, struct sp_sfv_entry **out, const char *file,
                    struct sp_problems *p)
{
    size_t count = 0, cap = 0, lineno = 0;
    struct sp_sfv_entry *list = NULL;
    for (size_t pos = 0; pos < n;) {
        size_t end = pos;
        while (end < n && text[end] != '\n')
            end++;
        size_t len = end - pos;
        const char *l = text + pos;
        pos = end + 1;
        lineno++;
        while (len > 0 && (l[len - 1] == '\r' || l[len - 1] == ' ' || l[len - 1] == '\t'))
            len--;
        if (len == 0 || l[0] == ';')
            continue;
        /* "name CRC": the CRC is the last 8 characters after a space */
        size_t sp = len;
        while (sp > 0 && l[sp - 1] != ' ' && l[sp - 1] != '\t')
            sp--;
        size_t hexlen = len - sp, namelen = sp;
        while (namelen > 0 && (l[namelen - 1] == ' ' || l[namelen - 1] == '\t'))
            namelen--;
        int ok = sp > 0 && hexlen == 8 && namelen > 0 && namelen < sizeof list->name;
        for (size_t i = sp; ok && i < len; i++)
            ok = isxdigit((unsigned char)l[i]) != 0;
        if (!ok) {
            sp_problems_add(p, "sfv", file, "line %zu is not 'name CRC32' (8 hex digits)", lineno);
            continue;
        }
        /* a NUL or another control character would cut or disguise the name it lists */
        size_t bad = 0;
        while (bad < namelen && (unsigned char)l[bad] >= 0x20 && l[bad] != 0x7f)
            bad++;
        if (bad < namelen) {
            sp_problems_add(p, "sfv", file, "line %zu: the file name holds a control character",
                            lineno);
            continue;
        }
        if (count == cap) {
            cap = cap ? cap * 2 : 8;
            list = sp_reallocarray(list, cap, sizeof *list);
        }
        memcpy(list[count].name, l, namelen);
        list[count].name[namelen] = '\0';
        char hex[9];
        memcpy(hex, l + sp, 8);
        hex[8] = '\0';
        list[count].crc = (uint32_t)strtoul(hex, NULL, 16);
        count++;
    }
    *out = list;
    return count;
}
