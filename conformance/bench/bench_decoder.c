/* bench_decoder — spw_decoder_feed throughput against memcpy of the same bytes.
 *
 * For each frame size a stream of back-to-back frames (8-byte length +
 * body) is built in memory, then fed to one decoder over and over for a
 * fixed time, either whole (one feed loop over the stream) or in 1 KiB
 * chunks (as a reader with a small buffer would). Every delivered message
 * is freed, as a real receiver would. The limit is the frame size, so the
 * 1 MiB case runs at the default receive limit.
 *
 * The limit ("memcpy") moves the same bytes in the same pieces — one
 * memcpy per frame when fed whole, one per 1 KiB chunk otherwise — into a
 * reused destination: the least any decoder that hands out owned messages
 * must do.
 *
 * Output (stdout): decoder.<feed>.<size> and memcpy.<feed>.<size>, in msg/s
 * for frames up to 256 B and GB/s (10^9 stream bytes/s) above.
 *   usage: bench_decoder [--quick] [--ms N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "spwire/error.h"
#include "spwire/frame.h"

#define CHUNK 1024

typedef struct stream {
    uint8_t *buf;
    size_t len;
    size_t frames;
    size_t body;
} stream;

static void build_stream(stream *s, size_t body, size_t target_bytes)
{
    size_t flen = body + SPW_FRAME_HEADER_SIZE;
    s->frames = target_bytes / flen;
    if (s->frames < 4)
        s->frames = 4;
    s->body = body;
    s->len = s->frames * flen;
    s->buf = malloc(s->len);
    if (!s->buf)
        bench_die("out of memory");
    bench_fill(s->buf, s->len, (uint32_t)body);
    for (size_t i = 0; i < s->frames; i++)
        spw_frame_encode_header(s->buf + i * flen, body);
}

/* One pass of the stream through d in pieces of at most piece bytes
 * (0 = whole). Returns messages delivered. */
static size_t decode_pass(spw_decoder *d, const stream *s, size_t piece)
{
    size_t msgs = 0, pos = 0;
    if (piece == 0)
        piece = s->len;
    while (pos < s->len) {
        size_t n = s->len - pos < piece ? s->len - pos : piece;
        const uint8_t *p = s->buf + pos;
        pos += n;
        while (n > 0) {
            size_t used;
            spw_msg m;
            int rc = spw_decoder_feed(d, p, n, &used, &m);
            p += used;
            n -= used;
            if (rc == SPW_FRAME_MESSAGE) {
                bench_sink(m.data, m.len);
                spw_msg_free(&m, NULL);
                msgs++;
            } else if (rc < 0) {
                bench_die("decoder: %s", spw_strerror(rc));
            }
        }
    }
    return msgs;
}

static size_t memcpy_pass(uint8_t *dst, const stream *s, size_t piece)
{
    size_t flen = s->body + SPW_FRAME_HEADER_SIZE;
    if (piece == 0) {
        for (size_t i = 0; i < s->frames; i++) {
            memcpy(dst, s->buf + i * flen, flen);
            bench_sink(dst, flen);
        }
    } else {
        for (size_t pos = 0; pos < s->len; pos += piece) {
            size_t n = s->len - pos < piece ? s->len - pos : piece;
            memcpy(dst, s->buf + pos, n);
            bench_sink(dst, n);
        }
    }
    return s->frames;
}

static void run_case(size_t body, size_t piece, uint64_t budget_ns, size_t target_bytes)
{
    stream s;
    build_stream(&s, body, target_bytes);
    size_t flen = body + SPW_FRAME_HEADER_SIZE;
    uint8_t *dst = malloc(piece ? piece : flen);
    if (!dst)
        bench_die("out of memory");

    spw_decoder d;
    spw_decoder_init(&d, body ? body : 1, NULL);
    char name[96];
    const char *feed = piece ? "chunk1k" : "whole";
    int big = body > 256;

    /* Warm up both (page faults, allocator state), then time. */
    decode_pass(&d, &s, piece);
    memcpy_pass(dst, &s, piece);

    for (int which = 0; which < 2; which++) {
        size_t msgs = 0;
        uint64_t t0 = bench_now_ns(), t1;
        do {
            msgs += which == 0 ? decode_pass(&d, &s, piece) : memcpy_pass(dst, &s, piece);
            t1 = bench_now_ns();
        } while (t1 - t0 < budget_ns);
        double secs = (double)(t1 - t0) / 1e9;
        snprintf(name, sizeof name, "%s.%s.%zu", which == 0 ? "decoder" : "memcpy", feed, body);
        if (big)
            bench_emit(name, (double)msgs * (double)flen / secs / 1e9, "GB/s");
        else
            bench_emit(name, (double)msgs / secs, "msg/s");
    }
    if (!spw_decoder_idle(&d))
        bench_die("decoder not idle after whole frames");
    spw_decoder_fini(&d);
    free(dst);
    free(s.buf);
}

int main(int argc, char **argv)
{
    uint64_t ms = 300;
    size_t target = 256 * 1024;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            ms = 20;
        } else if (strcmp(argv[i], "--ms") == 0 && i + 1 < argc) {
            ms = strtoull(argv[++i], NULL, 10);
        } else {
            fprintf(stderr, "usage: bench_decoder [--quick] [--ms N]\n");
            return 2;
        }
    }
    static const size_t sizes[] = {0, 16, 64, 256, 64 * 1024, 1024 * 1024};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        size_t tb = sizes[i] >= 1024 * 1024 ? 4 * sizes[i] : target;
        if (sizes[i] == 64 * 1024)
            tb = 16 * sizes[i];
        run_case(sizes[i], 0, ms * 1000000u, tb);
        run_case(sizes[i], CHUNK, ms * 1000000u, tb);
    }
    return 0;
}
