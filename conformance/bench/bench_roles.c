#include "bench_roles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_util.h"

int bench_parse_endpoint(int argc, char **argv, bench_args *a)
{
    memset(a, 0, sizeof *a);
    a->fd = -1;
    for (int i = 0; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        int ok = 1;
        if (strcmp(k, "--impl") == 0)
            a->impl = v;
        else if (strcmp(k, "--role") == 0)
            a->role = v;
        else if (strcmp(k, "--tag") == 0)
            a->tag = v;
        else if (strcmp(k, "--fd") == 0)
            a->fd = atoi(v);
        else if (strcmp(k, "--size") == 0)
            a->size = bench_parse_size(v, &ok);
        else if (strcmp(k, "--count") == 0)
            a->count = bench_parse_size(v, &ok);
        else if (strcmp(k, "--warmup") == 0)
            a->warmup = bench_parse_size(v, &ok);
        else
            ok = 0;
        if (!ok) {
            fprintf(stderr, "bench endpoint: bad argument %s %s\n", k, v);
            return -1;
        }
    }
    if (argc % 2 != 0 || !a->role || !a->tag || a->fd < 0 || a->count == 0) {
        fprintf(stderr, "usage: --impl I --role sender|receiver|client|server --fd N "
                        "--size S --count N --warmup W --tag T\n");
        return -1;
    }
    return 0;
}

/* CPU time (user + system, all threads) of this process, in ns. */
static uint64_t cpu_ns(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* CPU microseconds per message of the timed phase, for this end. */
static void emit_cpu(const bench_args *a, const char *end, uint64_t c0)
{
    char name[160];
    snprintf(name, sizeof name, "%s.cpu_%s", a->tag, end);
    bench_emit(name, (double)(cpu_ns() - c0) / 1e3 / (double)a->count, "us");
}

/* Payload buffer with headroom in front. */
static uint8_t *make_payload(size_t size, uint8_t **base)
{
    *base = malloc(size + BENCH_HEADROOM + 1);
    if (!*base)
        bench_die("out of memory");
    bench_fill(*base + BENCH_HEADROOM, size + 1, 7);
    return *base + BENCH_HEADROOM;
}

static int expect(const bench_ops *ops, void *ctx, size_t size)
{
    size_t len = 0;
    if (ops->recv(ctx, &len) != 0)
        return -1;
    if (len != size) {
        fprintf(stderr, "bench: got %zu bytes, expected %zu\n", len, size);
        return -1;
    }
    return 0;
}

static int run_sender(const bench_args *a, const bench_ops *ops, void *ctx, uint8_t *pl)
{
    for (size_t i = 0; i < a->warmup; i++)
        if (ops->send(ctx, pl, a->size) != 0)
            return 1;
    if (expect(ops, ctx, 1) != 0)
        return 1;
    uint64_t c0 = cpu_ns();
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < a->count; i++)
        if (ops->send(ctx, pl, a->size) != 0)
            return 1;
    if (expect(ops, ctx, 1) != 0)
        return 1;
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    emit_cpu(a, "tx", c0);
    char name[160];
    snprintf(name, sizeof name, "%s.msgs", a->tag);
    bench_emit(name, (double)a->count / secs, "msg/s");
    snprintf(name, sizeof name, "%s.mbps", a->tag);
    bench_emit(name, (double)a->count * (double)a->size / secs / 1e6, "MB/s");
    return 0;
}

static int run_receiver(const bench_args *a, const bench_ops *ops, void *ctx, uint8_t *ack)
{
    uint64_t c0 = 0;
    for (int phase = 0; phase < 2; phase++) {
        size_t n = phase == 0 ? a->warmup : a->count;
        for (size_t i = 0; i < n; i++)
            if (expect(ops, ctx, a->size) != 0)
                return 1;
        if (phase == 1)
            emit_cpu(a, "rx", c0);
        if (ops->send(ctx, ack, 1) != 0)
            return 1;
        c0 = cpu_ns();
    }
    if (ops->drain)
        ops->drain(ctx);
    return 0;
}

static int run_client(const bench_args *a, const bench_ops *ops, void *ctx, uint8_t *pl)
{
    uint64_t *rtt = malloc(a->count * sizeof *rtt);
    if (!rtt)
        bench_die("out of memory");
    for (size_t i = 0; i < a->warmup; i++)
        if (ops->send(ctx, pl, a->size) != 0 || expect(ops, ctx, a->size) != 0)
            return 1;
    uint64_t c0 = cpu_ns();
    uint64_t t0 = bench_now_ns();
    for (size_t i = 0; i < a->count; i++) {
        uint64_t s = bench_now_ns();
        if (ops->send(ctx, pl, a->size) != 0 || expect(ops, ctx, a->size) != 0)
            return 1;
        rtt[i] = bench_now_ns() - s;
    }
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    emit_cpu(a, "client", c0);
    char name[160];
    snprintf(name, sizeof name, "%s.rate", a->tag);
    bench_emit(name, (double)a->count / secs, "rt/s");
    snprintf(name, sizeof name, "%s.p50", a->tag);
    bench_emit(name, (double)bench_percentile(rtt, a->count, 50) / 1e3, "us");
    snprintf(name, sizeof name, "%s.p99", a->tag);
    bench_emit(name, (double)bench_percentile(rtt, a->count, 99) / 1e3, "us");
    free(rtt);
    return 0;
}

static int run_server(const bench_args *a, const bench_ops *ops, void *ctx)
{
    uint64_t c0 = 0;
    for (size_t i = 0; i < a->warmup + a->count; i++) {
        if (i == a->warmup)
            c0 = cpu_ns();
        if (ops->echo(ctx) != 0)
            return 1;
    }
    emit_cpu(a, "server", c0);
    if (ops->drain)
        ops->drain(ctx);
    return 0;
}

int bench_run_role(const bench_args *a, const bench_ops *ops, void *ctx)
{
    uint8_t *base;
    uint8_t *pl = make_payload(a->size, &base);
    int rc;
    if (strcmp(a->role, "sender") == 0)
        rc = run_sender(a, ops, ctx, pl);
    else if (strcmp(a->role, "receiver") == 0)
        rc = run_receiver(a, ops, ctx, pl);
    else if (strcmp(a->role, "client") == 0)
        rc = run_client(a, ops, ctx, pl);
    else if (strcmp(a->role, "server") == 0)
        rc = run_server(a, ops, ctx);
    else
        bench_die("unknown role %s", a->role);
    free(base);
    if (rc != 0)
        fprintf(stderr, "bench: %s %s (%s) failed\n", a->impl ? a->impl : "?", a->role, a->tag);
    return rc;
}
