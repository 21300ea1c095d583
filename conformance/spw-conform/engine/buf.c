/* spw-conform engine — growable buffer, whole-file readers. */
#include "buf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cf_buf_add(cf_buf *b, const void *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        uint8_t *q = realloc(b->p, cap);
        if (!q)
            abort();
        b->p = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = 0;
}

void cf_buf_free(cf_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

void cf_buf_printf(cf_buf *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        cf_buf_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    cf_buf_add(b, big, (size_t)n);
    free(big);
}

char *cf_read_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    cf_buf b = {0};
    char tmp[4096];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0)
        cf_buf_add(&b, tmp, n);
    fclose(f);
    if (!b.p)
        cf_buf_add(&b, "", 0);
    if (memchr(b.p, 0, b.len)) {
        snprintf(err, errlen, "%s: NUL byte in file", path);
        cf_buf_free(&b);
        return NULL;
    }
    return (char *)b.p;
}

int cf_read_binary(const char *path, cf_buf *b, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    char tmp[4096];
    size_t n, start = b->len;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (b->len - start + n > max) {
            fclose(f);
            b->len = start;
            errno = EFBIG;
            return -1;
        }
        cf_buf_add(b, tmp, n);
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        b->len = start;
        errno = EIO;
        return -1;
    }
    if (!b->p)
        cf_buf_add(b, "", 0);
    return 0;
}
