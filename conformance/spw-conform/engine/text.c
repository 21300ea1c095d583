/* spw-conform engine — numbers and globs. */
#include "text.h"

#include <errno.h>
#include <stdlib.h>

int cf_parse_num(const char *s, unsigned long long lo, unsigned long long hi,
                 unsigned long long *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return -1;
    unsigned long long v = strtoull(s, &end, 0);
    if (*end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

int cf_glob(const char *p, const char *s)
{
    for (;;) {
        if (*p == 0)
            return *s == 0;
        if (*p == '*') {
            while (*p == '*')
                p++;
            if (*p == 0)
                return 1;
            for (; *s; s++)
                if (cf_glob(p, s))
                    return 1;
            return 0;
        }
        if (*s == 0)
            return 0;
        if (*p != '?' && *p != *s)
            return 0;
        p++;
        s++;
    }
}
