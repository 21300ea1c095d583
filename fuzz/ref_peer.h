/* ref_peer — the harness's end of one connection to a reference SP
 * implementation that runs in the fuzzer's own process (fuzz_nng,
 * fuzz_nanomsg, fuzz_nng110/112): the input layout they share, writing a stream in cuts while
 * the implementation is kept draining, finishing the connection, and the
 * checks that nothing outlives an input.
 *
 * Input layout (every reference target):
 *   byte 0   the implementation's protocol: index into the harness's own
 *            protocol table (mod its size); the harness plays the peer, but
 *            the handshake bytes are the input's own
 *   byte 1   bits 0-1 receive limit: 0 the implementation's default, 1 1 MiB,
 *              2 SPW_REF_SMALL_LIMIT, 3 as 0
 *            bit 2   the implementation sends one message once the
 *                    connection is up (only when the first 8 stream bytes
 *                    are the valid peer header)
 *            bits 3-4 how our end finishes (spw_ref_end): 0 shutdown(SHUT_WR)
 *              then read to EOF, 1 close() without reading, 2 abortive
 *              close (RST), 3 as 0
 *   byte 2   P: write cut: 0 one write, else chunks of P bytes; also the
 *            length of the body the implementation sends
 *   rest     the stream written to the connection: handshake, then frames
 * The stream alone (the input minus SPW_REF_PREFIX bytes) is what a packaged
 * implementation must be sent to reproduce a finding: scripts/fuzz writes it
 * as NAME.wire.
 *
 * Every wait is bounded by SPW_REF_BOUND_MS: an implementation that has every
 * byte and the EOF and still keeps the connection is a defect, and the bound
 * is far above any scheduling delay, so no verdict depends on timing below
 * it. A broken check aborts (SPW_FUZZ_CHECK): every engine records a crash.
 * Not thread-safe; one connection at a time.
 */
#ifndef SPW_FUZZ_REF_PEER_H
#define SPW_FUZZ_REF_PEER_H

#include <stddef.h>
#include <stdint.h>

#define SPW_REF_PREFIX 3
#define SPW_REF_SMALL_LIMIT 256
#define SPW_REF_BOUND_MS 10000
#define SPW_REF_FD_PROBE 256

typedef enum spw_ref_end {
    SPW_REF_END_SHUTDOWN = 0, /* shutdown(SHUT_WR), read to EOF: it must close */
    SPW_REF_END_CLOSE = 1,    /* close() without reading */
    SPW_REF_END_RESET = 2     /* SO_LINGER 0 + close(): a reset */
} spw_ref_end;

typedef struct spw_ref_input {
    size_t proto;          /* byte 0 mod nprotos */
    int limit_k;           /* 0 default, 1 1 MiB, 2 SPW_REF_SMALL_LIMIT */
    int impl_sends;        /* bit 2 of byte 1 */
    spw_ref_end end;
    size_t cut;            /* byte 2 */
    const uint8_t *stream; /* the bytes to write */
    size_t len;
    int hs_valid;          /* stream starts with the valid peer header */
} spw_ref_input;

/* The implementation's side of the harness: how to take what it has queued
 * for the application (drain, may be NULL) and an fd that becomes readable
 * when it has something (wake_fd, -1 none), polled with ours so the harness
 * wakes for both. poll_ms bounds each wait for our fd (0: 1000): an
 * implementation with threads of its own moves while we wait; one that runs
 * only inside drain (spwire's) needs drain called again soon. */
typedef struct spw_ref_impl {
    void (*drain)(void *ctx);
    void *ctx;
    int wake_fd;
    int poll_ms;
} spw_ref_impl;

/* Decode an input; returns 0 when it is shorter than SPW_REF_PREFIX (the
 * harness then does nothing). peer is the protocol id a valid peer of the
 * chosen protocol announces: pass a function so the table stays the
 * harness's. */
int spw_ref_input_parse(const uint8_t *data, size_t size, size_t nprotos,
                        uint16_t (*peer_of)(size_t proto), spw_ref_input *in);

/* The receive limit of limit_k in bytes (0: the implementation's default).
 * Inline: the structure-aware mutator (mutator_frame.c) needs it too and
 * links nothing else of the harness. */
static inline uint64_t spw_ref_limit_bytes(int limit_k)
{
    return limit_k == 1 ? UINT64_C(1) << 20 : limit_k == 2 ? SPW_REF_SMALL_LIMIT : 0;
}

/* With SPW_REF_DESCRIBE set in the environment, print what the input asks
 * for, one line on stderr:
 *   spw-ref-input: proto NAME limit BYTES impl-sends 0|1 end shutdown|close|reset cut P
 * NAME is spwire's name of the implementation's protocol (self). With
 * SPW_REF_DESCRIBE=only the process then ends (_exit(0)) before the input
 * is run. scripts/triage reads it to replay a finding's wire file against a
 * packaged implementation with the same protocol and limit. */
void spw_ref_describe(const spw_ref_input *in, uint16_t self);

int64_t spw_ref_now_ms(void);

/* Sleep a little, longer the longer we have waited: the usual wait is a few
 * microseconds of the implementation's threads, the bound is seconds. */
void spw_ref_backoff(unsigned *spins);

/* One TCP connection to 127.0.0.1:port, TCP_NODELAY, blocking. Aborts when
 * the connect fails (the implementation's listener is gone: a harness bug or
 * a defect, never an input's doing). */
int spw_ref_connect_loopback(uint16_t port);

/* A connected AF_UNIX stream pair (close-on-exec, blocking): returns the
 * harness's end and stores in *theirs the end to hand to the implementation
 * (NNG's socket:// listener, NNG_OPT_SOCKET_FD). Aborts when the pair cannot
 * be made (out of fds: a leak, never an input's doing). On this pair the
 * SPW_REF_END_RESET finish is an ordinary close: AF_UNIX has no reset. */
int spw_ref_socketpair(int *theirs);

/* Read exactly the 8 bytes the implementation sends first, within the bound,
 * and check they are its SP header for protocol self. */
void spw_ref_read_header(int fd, uint16_t self);

/* Read and discard what the implementation wrote; returns 1 at EOF or a
 * reset, 0 when nothing more is there now. fd must be non-blocking. */
int spw_ref_drain_fd(int fd);

/* Write all of s[0..len) in chunks of cut bytes (0: as much as fits), keeping
 * both directions drained so neither side blocks. Stops early when the
 * implementation has closed the connection. fd must be non-blocking. */
void spw_ref_write(int fd, const spw_ref_impl *impl, const uint8_t *s, size_t len, size_t cut);

/* Finish our end as chosen and close fd. For SPW_REF_END_SHUTDOWN the
 * implementation must close its end within the bound (checked). */
void spw_ref_finish(int fd, const spw_ref_impl *impl, spw_ref_end end);

/* Which fds are open, for the leak check. */
typedef struct spw_ref_fds {
    uint8_t open[SPW_REF_FD_PROBE];
} spw_ref_fds;

void spw_ref_fds_snapshot(spw_ref_fds *s);

/* Wait until no fd is open that was not open in `before` and live(ctx)
 * returns 0 (the implementation's own count of connections still up), with
 * the implementation drained meanwhile. At the bound: print the fds that
 * appeared (with what they are) and `what`, and fail. Only fds that appeared
 * count: one closed meanwhile on the implementation's threads (a replaced
 * listener's, say) is not a leak of this input. */
void spw_ref_wait_clean(const spw_ref_fds *before, const spw_ref_impl *impl,
                        size_t (*live)(void *ctx), void *live_ctx, const char *what);

#endif
