/* spwire benchmarks — shared helpers.
 *
 * Every benchmark program prints machine-readable result lines on stdout,
 *     <metric> <value> <unit>
 * one per figure, and nothing else there (diagnostics go to stderr).
 * scripts/bench runs each program several times and takes the median of
 * every metric; no program aggregates across runs itself.
 */
#ifndef SPW_BENCH_UTIL_H
#define SPW_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/* Print one result line: "<metric> <value> <unit>". */
void bench_emit(const char *metric, double value, const char *unit);

/* Percentile (0..100) of n samples, sorting them in place. */
uint64_t bench_percentile(uint64_t *v, size_t n, double pct);

/* Parse a size such as "64", "4k", "64K", "1M" (binary units); 0 on error
 * is reported through *ok = 0. */
size_t bench_parse_size(const char *s, int *ok);

/* Deterministic filler so a body is not all zeroes. */
void bench_fill(uint8_t *p, size_t n, uint32_t seed);

/* Keep the optimiser from dropping a computation. */
void bench_sink(const void *p, size_t n);

/* Fatal error: message to stderr, exit 1. */
void bench_die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
