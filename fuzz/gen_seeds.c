/* gen_seeds — deterministic seed inputs for every fuzz target, made with
 * spwire's own encoders (spw_handshake_encode, spw_frame_encode,
 * spw_frame_encode_header).
 *
 * usage: gen_seeds OUTDIR | --help
 * Writes OUTDIR/<target>/<descriptive-name> for target in handshake, frame,
 * roundtrip, session, nng, nanomsg, proto_header. scripts/gen-seeds renames each file to the SHA-256 of
 * its content and files it under corpus/<target>/ with an index.txt
 * (hash, descriptive name). Same binary, same output, every time.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "frame_input.h"
#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "spwire/sp_header.h"

static const char *g_out;
static unsigned g_count;

/* A growable byte buffer. */
typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void die(const char *what)
{
    fprintf(stderr, "gen_seeds: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void b_reserve(buf *b, size_t more)
{
    if (b->n + more <= b->cap) {
        return;
    }
    size_t ncap = b->cap ? b->cap : 256;
    while (ncap < b->n + more) {
        ncap *= 2;
    }
    uint8_t *np = realloc(b->p, ncap);
    if (!np) {
        die("realloc");
    }
    b->p = np;
    b->cap = ncap;
}

static void b_put(buf *b, const void *src, size_t n)
{
    b_reserve(b, n);
    if (n) {
        memcpy(b->p + b->n, src, n);
    }
    b->n += n;
}

static void b_byte(buf *b, uint8_t v)
{
    b_put(b, &v, 1);
}

static void b_fill(buf *b, size_t n, uint8_t seed)
{
    b_reserve(b, n);
    for (size_t i = 0; i < n; i++) {
        b->p[b->n + i] = (uint8_t)(seed + i * 17);
    }
    b->n += n;
}

/* A whole frame via spw_frame_encode. */
static void b_frame(buf *b, size_t body_len, uint8_t seed)
{
    uint8_t *body = malloc(body_len ? body_len : 1);
    if (!body) {
        die("malloc");
    }
    for (size_t i = 0; i < body_len; i++) {
        body[i] = (uint8_t)(seed ^ (i * 31));
    }
    b_reserve(b, body_len + SPW_FRAME_HEADER_SIZE);
    size_t written = 0;
    if (spw_frame_encode(b->p + b->n, b->cap - b->n, body, body_len, &written) != 0) {
        fprintf(stderr, "gen_seeds: spw_frame_encode failed\n");
        exit(1);
    }
    b->n += written;
    free(body);
}

/* A bare length header via spw_frame_encode_header (possibly a lie). */
static void b_header(buf *b, uint64_t len)
{
    uint8_t h[SPW_FRAME_HEADER_SIZE];
    spw_frame_encode_header(h, len);
    b_put(b, h, sizeof(h));
}

static void b_hs(buf *b, uint16_t proto)
{
    uint8_t h[SPW_HANDSHAKE_SIZE];
    spw_handshake_encode(h, proto);
    b_put(b, h, sizeof(h));
}

static void mkdir_p(const char *path)
{
    if (mkdir(path, 0777) != 0 && errno != EEXIST) {
        die(path);
    }
}

static void emit(const char *target, const char *name, const buf *b)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", g_out, target);
    mkdir_p(path);
    snprintf(path, sizeof(path), "%s/%s/%s", g_out, target, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        die(path);
    }
    if (b->n && fwrite(b->p, 1, b->n, f) != b->n) {
        die(path);
    }
    if (fclose(f) != 0) {
        die(path);
    }
    g_count++;
}

/* ---- handshake ------------------------------------------------------------ */

/* fuzz_handshake inputs are <local side> <cuts> <peer bytes>: every peer
 * byte string is written with local side 11 (the valid partner of what it
 * announces), cut in one of a few ways chosen by the seed's number. */
static void emit_hs(const char *name, const buf *peer)
{
    static const uint8_t cuts[] = {0x00, 0xFF, 0x34, 0x15, 0x26, 0x08, 0x71};
    static unsigned nth;
    buf b = {0};
    b_byte(&b, 11);
    b_byte(&b, cuts[nth++ % sizeof(cuts)]);
    b_put(&b, peer->p, peer->n);
    emit("handshake", name, &b);
    free(b.p);
}

static void gen_handshake(void)
{
    buf b = {0};
    char name[128];
    for (int i = 0; i < SPW_PROTO_COUNT; i++) {
        uint16_t id = (uint16_t)spw_proto_at(i);
        b.n = 0;
        b_hs(&b, id);
        snprintf(name, sizeof(name), "announce-%s", spw_proto_name(id));
        emit_hs(name, &b);
        /* header followed by the first frame, as on the wire */
        b_frame(&b, 5, (uint8_t)i);
        snprintf(name, sizeof(name), "announce-%s-then-frame", spw_proto_name(id));
        emit_hs(name, &b);
    }
    /* One wrong byte at each offset (req header). */
    for (int off = 0; off < SPW_HANDSHAKE_SIZE; off++) {
        b.n = 0;
        b_hs(&b, SPW_PROTO_REQ);
        b.p[off] ^= 0x80;
        snprintf(name, sizeof(name), "req-bad-byte-%d", off);
        emit_hs(name, &b);
    }
    /* Prefixes of a valid header. */
    for (int len = 0; len < SPW_HANDSHAKE_SIZE; len++) {
        b.n = 0;
        b_hs(&b, SPW_PROTO_PAIR1);
        b.n = (size_t)len;
        snprintf(name, sizeof(name), "pair1-prefix-%d", len);
        emit_hs(name, &b);
    }
    static const uint16_t odd[] = {0x0000, 0xFFFF, 0x0012, 0x1000, 0x0110};
    for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
        b.n = 0;
        b_hs(&b, odd[i]);
        snprintf(name, sizeof(name), "unknown-proto-%04x", odd[i]);
        emit_hs(name, &b);
    }
    b.n = 0;
    b_put(&b, "GET / HTTP/1.1\r\n\r\n", 18);
    emit_hs("http-get", &b);
    b.n = 0;
    b_hs(&b, SPW_PROTO_SUB);
    b.p[3] = 1;
    emit_hs("sub-version-1", &b);
    free(b.p);
}

/* ---- frame --------------------------------------------------------------- */

/* Start a fuzz_frame input: selector, mode byte, splits (frame_input.h). */
static void frame_prefix(buf *b, uint8_t sel, unsigned fail_at, const uint8_t *splits,
                         size_t nsplits)
{
    b->n = 0;
    b_byte(b, sel);
    b_byte(b, spw_frame_input_mode(0, fail_at, nsplits));
    b_put(b, splits, nsplits);
}

/* fuzz_frame decodes each input one way only, so every frame seed is also
 * written in the zero-copy mode and, when short, one byte per call. */
static void emit_frame(const char *name, const buf *b)
{
    char vname[160];
    spw_frame_input in;
    spw_frame_input_parse(b->p, b->n, &in);
    emit("frame", name, b);
    buf v = {0};
    b_put(&v, b->p, b->n);
    v.p[1] = (uint8_t)(v.p[1] | SPW_FRAME_INPUT_DIRECT);
    snprintf(vname, sizeof(vname), "%s+zero-copy", name);
    emit("frame", vname, &v);
    if (in.stream_len <= 4096 && !(in.nsplits == 1 && in.splits[0] == 1)) {
        static const uint8_t one[] = {1};
        v.n = 0;
        b_byte(&v, b->p[0]);
        b_byte(&v, spw_frame_input_mode(0, in.fail_at, 1));
        b_put(&v, one, 1);
        b_put(&v, in.stream, in.stream_len);
        snprintf(vname, sizeof(vname), "%s+bytewise", name);
        emit("frame", vname, &v);
    }
    free(v.p);
}

static void gen_frame(void)
{
    buf b = {0};
    static const uint8_t sp_none[1] = {0};
    static const uint8_t sp_bytes[] = {1};
    static const uint8_t sp_mixed[] = {3, 0, 7, 255};
    static const uint8_t sp_odd[] = {9, 1, 16, 2};

    frame_prefix(&b, 0, 0, sp_none, 0);
    emit_frame("empty-stream", &b);

    frame_prefix(&b, 0, 0, sp_none, 0);
    b_frame(&b, 0, 0);
    emit_frame("one-empty-frame", &b);

    frame_prefix(&b, 65, 0, sp_mixed, sizeof(sp_mixed));
    for (uint8_t i = 0; i < 6; i++) {
        b_frame(&b, (size_t)i * 3, i);
    }
    emit_frame("six-small-frames-default-limit-mixed-splits", &b);

    /* Limit 16: frames of 15, 16 accepted; 17 refused. */
    frame_prefix(&b, 16, 0, sp_bytes, sizeof(sp_bytes));
    b_frame(&b, 15, 1);
    b_frame(&b, 16, 2);
    emit_frame("limit16-at-limit", &b);
    b_frame(&b, 17, 3);
    emit_frame("limit16-over-limit", &b);

    /* Limit 1 and the smallest frames. */
    frame_prefix(&b, 1, 0, sp_odd, sizeof(sp_odd));
    b_frame(&b, 0, 0);
    b_frame(&b, 1, 1);
    b_frame(&b, 2, 2);
    emit_frame("limit1-0-1-2", &b);

    /* Announced giants with no limit: reserved bits and beyond. */
    static const uint64_t giants[] = {
        UINT64_C(0x0FFFFFFFFFFFFFFF), UINT64_C(0x1000000000000000), UINT64_C(0x7FFFFFFFFFFFFFFF),
        UINT64_C(0x8000000000000000), UINT64_MAX,                    UINT64_C(0xFFFFFFFF),
        UINT64_C(0x100000000),        (uint64_t)1 << 30,
    };
    for (size_t i = 0; i < sizeof(giants) / sizeof(giants[0]); i++) {
        char name[96];
        frame_prefix(&b, 0, 0, sp_mixed, sizeof(sp_mixed));
        b_frame(&b, 4, 9);
        b_header(&b, giants[i]);
        b_fill(&b, 10, 0x42);
        snprintf(name, sizeof(name), "nolimit-announce-%016llx", (unsigned long long)giants[i]);
        emit_frame(name, &b);
    }

    /* Partial header and partial body at the end. */
    frame_prefix(&b, 65, 0, sp_none, 0);
    b_frame(&b, 3, 1);
    b_header(&b, 100);
    b.n -= 3;
    emit_frame("partial-header", &b);
    frame_prefix(&b, 65, 0, sp_bytes, sizeof(sp_bytes));
    b_frame(&b, 3, 1);
    b_header(&b, 100);
    b_fill(&b, 40, 7);
    emit_frame("partial-body", &b);

    /* Bodies around the decoder's first chunk, no limit, odd splits. */
    static const uint8_t sp_big[] = {255};
    frame_prefix(&b, 0, 0, sp_big, sizeof(sp_big));
    b_frame(&b, SPW_DECODER_FIRST_CHUNK - 1, 1);
    b_frame(&b, SPW_DECODER_FIRST_CHUNK, 2);
    emit_frame("first-chunk-edges", &b);
    frame_prefix(&b, 0, 0, sp_odd, sizeof(sp_odd));
    b_frame(&b, SPW_DECODER_FIRST_CHUNK + 1, 3);
    emit_frame("first-chunk-plus-1", &b);

    /* Allocation-failure passes. */
    for (unsigned k = 1; k <= 3; k++) {
        char name[64];
        frame_prefix(&b, 0, k, sp_mixed, sizeof(sp_mixed));
        b_frame(&b, 10, 1);
        b_frame(&b, 20, 2);
        b_frame(&b, 30, 3);
        snprintf(name, sizeof(name), "fail-alloc-%u", k);
        emit_frame(name, &b);
    }

    /* Power-of-two and all-ones limits with frames just under/over. */
    frame_prefix(&b, 128 + 5, 0, sp_none, 0); /* limit 32 */
    b_frame(&b, 32, 1);
    b_frame(&b, 33, 2);
    emit_frame("limit32-pow2", &b);
    frame_prefix(&b, 192 + 59, 0, sp_mixed, sizeof(sp_mixed)); /* limit 31 */
    b_frame(&b, 31, 1);
    b_frame(&b, 32, 2);
    emit_frame("limit31-ones", &b);
    frame_prefix(&b, 192, 0, sp_none, 0); /* limit 2^64-1 */
    b_header(&b, UINT64_C(0x0FFFFFFFFFFFFFFF));
    emit_frame("limit-max-announce-2^60-1", &b);
    free(b.p);
}

/* ---- roundtrip ----------------------------------------------------------- */

static void rt_msg(buf *b, size_t len, uint8_t seed)
{
    if (len < 0xFF) {
        b_byte(b, (uint8_t)len);
    } else {
        b_byte(b, 0xFF);
        b_byte(b, (uint8_t)((len >> 16) & 0x0F));
        b_byte(b, (uint8_t)((len >> 8) & 0xFF));
        b_byte(b, (uint8_t)(len & 0xFF));
    }
    /* Give a short body from the input; long ones are padded by the harness. */
    b_fill(b, len < 32 ? len : 32, seed);
}

static void gen_roundtrip(void)
{
    buf b = {0};
    char name[64];
    for (unsigned mode = 0; mode < 4; mode++) {
        b.n = 0;
        b_byte(&b, (uint8_t)mode);
        rt_msg(&b, 0, 1);
        rt_msg(&b, 1, 2);
        rt_msg(&b, 7, 3);
        rt_msg(&b, 8, 4);
        rt_msg(&b, 200, 5);
        snprintf(name, sizeof(name), "mode%u-small", mode);
        emit("roundtrip", name, &b);
    }
    b.n = 0;
    b_byte(&b, (uint8_t)(1 | (5 << 2)));
    rt_msg(&b, SPW_DECODER_FIRST_CHUNK + 1, 9);
    rt_msg(&b, 3, 1);
    emit("roundtrip", "big-body-chunk5", &b);
    b.n = 0;
    b_byte(&b, (uint8_t)(2 | (1 << 2)));
    rt_msg(&b, 300, 1);
    rt_msg(&b, 4000, 2);
    rt_msg(&b, 10, 3);
    emit("roundtrip", "limit-below-largest-bytewise", &b);
    b.n = 0;
    b_byte(&b, 0);
    emit("roundtrip", "no-messages", &b);
    free(b.p);
}

/* ---- session ------------------------------------------------------------- */

static void gen_session(void)
{
    buf b = {0};
    char name[128];
    for (int i = 0; i < SPW_PROTO_COUNT; i++) {
        uint16_t id = (uint16_t)spw_proto_at(i);
        uint16_t peer = (uint16_t)spw_proto_peer(id);
        for (unsigned end = 0; end < 4; end++) {
            b.n = 0;
            b_byte(&b, (uint8_t)i);
            b_byte(&b, (uint8_t)end);
            b_byte(&b, 200); /* early close after 200/256 of the stream */
            b_hs(&b, peer);
            b_frame(&b, 0, 1);
            b_frame(&b, 12, 2);
            b_frame(&b, 100, 3);
            snprintf(name, sizeof(name), "%s-end%u-three-msgs", spw_proto_name(id), end);
            emit("session", name, &b);
        }
        /* Wrong peer: our own id (valid only for pair and bus). */
        b.n = 0;
        b_byte(&b, (uint8_t)i);
        b_byte(&b, 0);
        b_byte(&b, 0);
        b_hs(&b, (uint16_t)(id ^ 0x0100));
        b_frame(&b, 3, 1);
        snprintf(name, sizeof(name), "%s-bad-peer", spw_proto_name(id));
        emit("session", name, &b);
    }
    /* Limits: on the listener and on the pipe, exactly at and over. */
    for (unsigned on_pipe = 0; on_pipe < 2; on_pipe++) {
        b.n = 0;
        b_byte(&b, 4); /* req */
        b_byte(&b, (uint8_t)((2u << 2) | (on_pipe << 4)));
        b_byte(&b, 10); /* limit 10 */
        b_hs(&b, SPW_PROTO_REP);
        b_frame(&b, 10, 1);
        b_frame(&b, 11, 2);
        snprintf(name, sizeof(name), "req-limit10-over%s", on_pipe ? "-pipe" : "");
        emit("session", name, &b);
    }
    b.n = 0;
    b_byte(&b, 6); /* push */
    b_byte(&b, 1u << 2);
    b_byte(&b, 0);
    b_hs(&b, SPW_PROTO_PULL);
    b_header(&b, UINT64_C(0x1000000000000000));
    emit("session", "push-nolimit-reserved-length", &b);
    b.n = 0;
    b_byte(&b, 10); /* bus */
    b_byte(&b, 1u << 2);
    b_byte(&b, 0);
    b_hs(&b, SPW_PROTO_BUS);
    b_frame(&b, SPW_DECODER_FIRST_CHUNK + 5, 7);
    b_frame(&b, 2, 8);
    emit("session", "bus-nolimit-big-body", &b);
    b.n = 0;
    b_byte(&b, 1);
    b_byte(&b, 0);
    b_byte(&b, 0);
    b_hs(&b, SPW_PROTO_PAIR1);
    b_header(&b, 50);
    b_fill(&b, 20, 1);
    emit("session", "pair1-eof-mid-frame", &b);
    free(b.p);
}

/* ---- nng, nanomsg ----------------------------------------------------------
 * Inputs of the reference targets (fuzz/ref_peer.h): protocol index, mode
 * byte (bits 0-1 limit: 0 the implementation's default, 1 1 MiB, 2 256
 * bytes; bit 2 the implementation sends; bits 3-4 end: 0 shutdown and read,
 * 1 close, 2 reset), the write cut / send size byte, then the stream. The
 * protocol index is the position in the target's own table: fuzz_nng's
 * follows spw_proto_at, fuzz_nanomsg's the same without pair1 (nanomsg has
 * none). */
typedef struct ref_target {
    const char *name;       /* corpus directory, and "-<name>-sends" */
    const char *limit0;     /* what limit 0 is there, for seed names */
    int has_pair1;
} ref_target;

static const ref_target REF_NNG = {"nng", "nolimit", 1};
static const ref_target REF_NANOMSG = {"nanomsg", "default-limit", 0};

/* The target's protocol index of id; -1 when it does not have it. */
static int ref_index(const ref_target *t, uint16_t id)
{
    int k = 0;
    for (int i = 0; i < SPW_PROTO_COUNT; i++) {
        uint16_t p = (uint16_t)spw_proto_at(i);
        if (p == SPW_PROTO_PAIR1 && !t->has_pair1) {
            if (id == p) {
                return -1;
            }
            continue;
        }
        if (p == id) {
            return k;
        }
        k++;
    }
    return -1;
}

/* A frame whose body starts with an SP header word (request id, survey id,
 * or a pair1 hop count) so the protocols get past their header checks. */
static void b_frame_sp(buf *b, uint32_t word, size_t payload, uint8_t seed)
{
    b_header(b, 4 + payload);
    uint8_t w[4] = {(uint8_t)(word >> 24), (uint8_t)(word >> 16), (uint8_t)(word >> 8), (uint8_t)word};
    b_put(b, w, sizeof(w));
    b_fill(b, payload, seed);
}

static void ref_prefix(buf *b, const ref_target *t, uint16_t id, uint8_t mode, uint8_t cut)
{
    int i = ref_index(t, id);
    if (i < 0) {
        fprintf(stderr, "gen_seeds: %s has no protocol 0x%02x\n", t->name, id);
        exit(1);
    }
    b->n = 0;
    b_byte(b, (uint8_t)i);
    b_byte(b, mode);
    b_byte(b, cut);
}

/* A frame whose body starts with the SP header words w[0..nw), then payload
 * bytes: a backtrace of several hops. */
static void b_frame_words(buf *b, const uint32_t *w, size_t nw, size_t payload, uint8_t seed)
{
    b_header(b, 4 * nw + payload);
    for (size_t i = 0; i < nw; i++) {
        uint8_t x[4] = {(uint8_t)(w[i] >> 24), (uint8_t)(w[i] >> 16), (uint8_t)(w[i] >> 8), (uint8_t)w[i]};
        b_put(b, x, sizeof(x));
    }
    b_fill(b, payload, seed);
}

/* NNG's hop limit (its default max TTL, 8): rep and respondent move the
 * backtrace word by word into the header and drop a message still without
 * its end word after 8 (the pipe stays); pair1 drops a hop count above 8.
 * Each seed: a three-hop message (delivered), one over the limit (dropped),
 * then a one-hop message (delivered on the same pipe). */
static void gen_nng_hops(void)
{
    buf b = {0};
    char name[128];
    for (int k = 0; k < SPW_PROTO_COUNT; k++) {
        const spw_proto_desc *d = spw_proto_desc_at(k);
        if (d->hdr_kind != SPW_HDR_BACKTRACE) {
            continue;
        }
        uint16_t id = d->id;
        uint32_t three[] = {0x00000001u, 0x00000002u, 0x80000003u};
        uint32_t nine[9];
        for (int i = 0; i < 8; i++) {
            nine[i] = (uint32_t)(i + 1);
        }
        nine[8] = 0x80000009u;
        uint32_t one[] = {0x8000000Au};
        ref_prefix(&b, &REF_NNG, id, 0, 0);
        b_hs(&b, (uint16_t)spw_proto_peer(id));
        b_frame_words(&b, three, 3, 6, 1);
        b_frame_words(&b, nine, 9, 6, 2);
        b_frame_words(&b, one, 1, 6, 3);
        snprintf(name, sizeof(name), "%s-backtrace-3-then-9-hops-then-1", spw_proto_name(id));
        emit("nng", name, &b);
    }
    ref_prefix(&b, &REF_NNG, SPW_PROTO_PAIR1, 0, 0);
    b_hs(&b, SPW_PROTO_PAIR1);
    b_frame_sp(&b, 3, 6, 1);
    b_frame_sp(&b, 9, 6, 2);
    b_frame_sp(&b, 1, 6, 3);
    emit("nng", "pair1-hops-3-then-9-then-1", &b);
    free(b.p);
}

static void gen_ref(const ref_target *t)
{
    buf b = {0};
    char name[128];
    static const char *ends[] = {"shutdown", "close", "reset"};
    for (int i = 0; i < SPW_PROTO_COUNT; i++) {
        uint16_t id = (uint16_t)spw_proto_at(i);
        if (ref_index(t, id) < 0) {
            continue;
        }
        uint16_t peer = (uint16_t)spw_proto_peer(id);
        /* pair1 carries a hop count word; req/rep and surveyor/respondent a
         * request id with the top bit set; the rest take any body. */
        uint32_t word = spw_hdr_kind_for(id) == SPW_HDR_PAIR1 ? 1u : SPW_REQID_FLAG | 1u;
        for (unsigned end = 0; end < 3; end++) {
            for (unsigned sends = 0; sends < 2; sends++) {
                ref_prefix(&b, t, id, (uint8_t)((end << 3) | (sends << 2)), sends ? 16 : 0);
                b_hs(&b, peer);
                b_frame_sp(&b, word, 5, 1);
                b_frame(&b, 0, 2);
                b_frame_sp(&b, word + 1, 40, 3);
                snprintf(name, sizeof(name), "%s-%s%s%s%s-three-msgs", spw_proto_name(id),
                         ends[end], sends ? "-" : "", sends ? t->name : "", sends ? "-sends" : "");
                emit(t->name, name, &b);
            }
        }
        ref_prefix(&b, t, id, 0, 0);
        b_hs(&b, (uint16_t)(id ^ 0x0100));
        b_frame(&b, 3, 1);
        snprintf(name, sizeof(name), "%s-bad-peer", spw_proto_name(id));
        emit(t->name, name, &b);
    }
    /* Limits: the small one (256) exactly and one over, 1 MiB + 1 announced. */
    ref_prefix(&b, t, SPW_PROTO_PULL, 2, 0);
    b_hs(&b, SPW_PROTO_PUSH);
    b_frame(&b, 256, 1);
    b_frame(&b, 257, 2);
    emit(t->name, "pull-limit256-at-and-over", &b);
    ref_prefix(&b, t, SPW_PROTO_PULL, 1, 0);
    b_hs(&b, SPW_PROTO_PUSH);
    b_header(&b, (UINT64_C(1) << 20) + 1);
    b_fill(&b, 64, 3);
    emit(t->name, "pull-limit1m-over", &b);
    /* Limit 0: lengths the implementation must refuse or fail to allocate,
     * not trust. */
    static const uint64_t giants[] = {UINT64_C(0xFFFFFFFFFFFFFFFF), UINT64_C(0xFFFFFFFFFFFFFFF8),
                                      UINT64_C(0x8000000000000000), UINT64_C(0x1000000000000000),
                                      UINT64_C(0x100000000)};
    for (size_t g = 0; g < sizeof(giants) / sizeof(giants[0]); g++) {
        ref_prefix(&b, t, SPW_PROTO_PULL, 0, 0);
        b_hs(&b, SPW_PROTO_PUSH);
        b_header(&b, giants[g]);
        b_fill(&b, 16, 4);
        snprintf(name, sizeof(name), "pull-%s-length-%016llx", t->limit0,
                 (unsigned long long)giants[g]);
        emit(t->name, name, &b);
    }
    /* An EOF inside a frame written in 7-byte pieces: pair1 where there is
     * one (its hop count word is then part of the cut-up body). */
    uint16_t pair = t->has_pair1 ? SPW_PROTO_PAIR1 : SPW_PROTO_PAIR0;
    ref_prefix(&b, t, pair, 0, 7);
    b_hs(&b, pair);
    b_header(&b, 50);
    b_fill(&b, 20, 1);
    snprintf(name, sizeof(name), "%s-eof-mid-frame-cut7", spw_proto_name(pair));
    emit(t->name, name, &b);
    ref_prefix(&b, t, SPW_PROTO_PAIR0, 0, 0);
    b_put(&b, "GET / HTTP/1.0\r\n\r\n", 18);
    emit(t->name, "pair0-http", &b);
    free(b.p);
}

/* ---- proto_header --------------------------------------------------------- */

static void b_be32(buf *b, uint32_t v)
{
    uint8_t w[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    b_put(b, w, sizeof(w));
}

static void gen_proto_header(void)
{
    buf b = {0};
    uint8_t w[4];
    char name[64];
    /* Backtraces of 1..9 words with the default ttl and ttl 1. */
    for (unsigned ttl = 1; ttl <= SPW_TTL_DEFAULT; ttl += SPW_TTL_DEFAULT - 1) {
        for (unsigned hops = 0; hops <= 8; hops++) {
            b.n = 0;
            b_byte(&b, (uint8_t)ttl);
            for (unsigned i = 0; i < hops; i++) {
                b_be32(&b, 0x100 + i); /* pipe ids: high bit clear */
            }
            spw_reqid_encode(w, 0x1234 + hops);
            b_put(&b, w, sizeof(w));
            b_fill(&b, 5, (uint8_t)hops); /* the body after the header */
            snprintf(name, sizeof(name), "backtrace-ttl%u-hops%u", ttl, hops + 1);
            emit("proto_header", name, &b);
        }
    }
    /* pair1 hop counts around ttl and 0xff. */
    static const unsigned pair_hops[] = {0, 1, 7, 8, 9, 0xff};
    for (size_t i = 0; i < sizeof(pair_hops) / sizeof(pair_hops[0]); i++) {
        b.n = 0;
        b_byte(&b, SPW_TTL_DEFAULT);
        spw_pair1_encode(w, pair_hops[i]);
        b_put(&b, w, sizeof(w));
        b_fill(&b, 3, 1);
        snprintf(name, sizeof(name), "pair1-hops-%u", pair_hops[i]);
        emit("proto_header", name, &b);
    }
    b.n = 0;
    b_byte(&b, SPW_TTL_DEFAULT);
    b_be32(&b, 0x100); /* pair1 count above 0xff, or a hop with no end */
    emit("proto_header", "pair1-0x100-or-unterminated", &b);
    b.n = 0;
    b_byte(&b, SPW_TTL_MAX);
    b_put(&b, "\x80\x00\x00", 3); /* a request id cut short */
    emit("proto_header", "short-reqid", &b);
    free(b.p);
}

static void usage(FILE *to)
{
    fprintf(to, "usage: spw_gen_seeds OUTDIR\n"
                "       spw_gen_seeds --help\n"
                "Writes OUTDIR/<target>/<name>, deterministic seeds for every fuzz\n"
                "target (scripts/gen-seeds files them under corpus/).\n"
                "Exit status: 0 written, 1 an I/O error, 2 bad usage.\n");
}

int main(int argc, char **argv)
{
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "spw_gen_seeds: expected one argument, OUTDIR (got %d)\n", argc - 1);
        usage(stderr);
        return 2;
    }
    if (argv[1][0] == '-') {
        /* Not a directory name we write into: an option we do not know
         * (a directory really called so can be given as ./-name). */
        fprintf(stderr, "spw_gen_seeds: unknown option '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    if (argv[1][0] == '\0') {
        fprintf(stderr, "spw_gen_seeds: OUTDIR is empty\n");
        usage(stderr);
        return 2;
    }
    g_out = argv[1];
    mkdir_p(g_out);
    gen_handshake();
    gen_frame();
    gen_roundtrip();
    gen_session();
    gen_ref(&REF_NNG);
    gen_nng_hops();
    gen_ref(&REF_NANOMSG);
    gen_proto_header();
    printf("gen_seeds: %u files under %s\n", g_count, g_out);
    return 0;
}
