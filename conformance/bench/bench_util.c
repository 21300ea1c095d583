#include "bench_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void bench_emit(const char *metric, double value, const char *unit)
{
    printf("%s %.6g %s\n", metric, value, unit);
    fflush(stdout);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t bench_percentile(uint64_t *v, size_t n, double pct)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof v[0], cmp_u64);
    /* Nearest rank: the smallest sample with at least pct % at or below. */
    double rank = pct / 100.0 * (double)n;
    size_t i = (size_t)rank;
    if ((double)i < rank)
        i++;
    if (i > 0)
        i--;
    if (i >= n)
        i = n - 1;
    return v[i];
}

size_t bench_parse_size(const char *s, int *ok)
{
    char *end;
    *ok = 0;
    if (!s || !*s)
        return 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s)
        return 0;
    if (*end == 'k' || *end == 'K') {
        v *= 1024u;
        end++;
    } else if (*end == 'm' || *end == 'M') {
        v *= 1024u * 1024u;
        end++;
    }
    if (*end != '\0')
        return 0;
    *ok = 1;
    return (size_t)v;
}

void bench_fill(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static volatile uint8_t sink_byte;

void bench_sink(const void *p, size_t n)
{
    if (n)
        sink_byte = (uint8_t)(sink_byte ^ ((const uint8_t *)p)[n - 1]);
}

void bench_die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}
