/* spwire benchmarks — the transport roles, independent of the SP stack.
 *
 * An endpoint is one side of a socketpair running one implementation
 * (spwire, NNG, or the raw loop) behind bench_ops. The roles below are the
 * same code for every implementation, so the figures differ only by what
 * the implementation does per message.
 *
 * Messages are pair1 messages: a 4-byte hop count in front of `size`
 * payload bytes, so spwire and NNG pair1 interoperate; on the wire every
 * message is 8 (length) + 4 (pair1) + size bytes, for every implementation.
 *
 * oneway: the sender sends `warmup` messages, waits for a 1-byte ack, then
 *   sends `count` messages and waits for the second ack; the time from the
 *   first timed send to the second ack gives msg/s and MB/s (10^6 payload
 *   bytes/s). The receiver receives and discards (after checking the size).
 * rr: the client sends one message and waits for the echo, warmup + count
 *   times, timing each of the last count; the server echoes.
 * Only the sender / client prints result lines.
 */
#ifndef SPW_BENCH_ROLES_H
#define SPW_BENCH_ROLES_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of writable headroom every send() payload pointer has in front. */
#define BENCH_HEADROOM 16

typedef struct bench_ops {
    /* Send payload[0..len) as one message; payload - BENCH_HEADROOM is
     * writable scratch. 0 or -1. */
    int (*send)(void *ctx, uint8_t *payload, size_t len);
    /* Receive one message, check its pair1 header, discard it; *len gets
     * the payload size. 0 or -1. */
    int (*recv)(void *ctx, size_t *len);
    /* Receive one message and send it back unchanged. 0 or -1. */
    int (*echo)(void *ctx);
    /* After the last message this endpoint sends: make sure it reaches the
     * peer before the process exits (NNG queues sends). May be NULL. */
    void (*drain)(void *ctx);
} bench_ops;

typedef struct bench_args {
    const char *impl; /* spw | nng | raw */
    const char *role; /* sender | receiver | client | server */
    const char *tag;  /* metric prefix, e.g. transport.oneway.spw-spw.64 */
    int fd;
    size_t size;
    size_t count;
    size_t warmup;
} bench_args;

/* Parse the endpoint command line (after the program's own flags):
 *   --impl I --role R --fd N --size S --count N --warmup W --tag T
 * Returns 0, or -1 after printing usage. */
int bench_parse_endpoint(int argc, char **argv, bench_args *a);

/* Run a.role with ops; returns the process exit status. */
int bench_run_role(const bench_args *a, const bench_ops *ops, void *ctx);

#endif
