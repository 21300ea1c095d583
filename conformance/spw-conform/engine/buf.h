/* spw-conform engine — a growable byte buffer and whole-file readers.
 * Every allocation failure aborts: the tool has no partial-result mode. */
#ifndef SPW_CONFORM_BUF_H
#define SPW_CONFORM_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Bytes with their length; p is NUL-terminated past len (text use), NULL
 * until the first add. Zero-initialise before use; cf_buf_free resets. */
typedef struct cf_buf {
    uint8_t *p;
    size_t len, cap;
} cf_buf;

void cf_buf_add(cf_buf *b, const void *p, size_t n);
void cf_buf_printf(cf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cf_buf_free(cf_buf *b);

/* Whole text file, NUL-terminated, malloc'ed (caller frees). NULL with
 * "PATH: why" in err when it cannot be read or holds a NUL byte. */
char *cf_read_file(const char *path, char *err, size_t errlen);
/* Whole binary file of at most max bytes into b (appended). 0 ok; -1 with
 * errno set when it cannot be read, EFBIG when it is larger than max. */
int cf_read_binary(const char *path, cf_buf *b, size_t max);

#endif
