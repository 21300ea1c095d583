/* fuzz_handshake — the SP handshake parser, one-shot and incremental.
 *
 * Input layout (the leading bytes choose, the rest is what the peer sends):
 *   byte 0   local side: k = byte % 16; 0..10 the k-th protocol of the
 *            table, 11 the valid partner of the id the peer announces
 *            (the announced id itself when it has none), 12 id 0x0000,
 *            13 id 0xFFFF, 14 the announced id, 15 the announced id ^ 1
 *   byte 1   how the peer bytes are cut into feed calls: 0xFF one byte
 *            per call; otherwise cuts at a = byte & 15 and a + (byte >> 4),
 *            so three calls [0,a) [a,b) [b,end) (empty calls included)
 *   rest     the peer's bytes (the announced id is rest[4..5])
 * Each input runs one local side and one cutting, so an execution costs a
 * handful of calls. For that side an independent model of the 8-byte
 * header decides the verdict and the fault; then
 *   - spw_handshake_check on the first 8 bytes must match the model (the
 *     one-shot reference);
 *   - spw_handshake_feed at the chosen cuts must reach the same verdict and
 *     fault; a failure is reported by the call that brought the offending
 *     byte (the peer id, bytes 4-5, may be judged on either byte), never
 *     earlier or later; errors are sticky; DONE consumes exactly 8 bytes,
 *     only for a valid header whose id is spw_proto_peer(self), and stays
 *     DONE; consumed never exceeds what was fed;
 *   - output/sent/finished behave (8 bytes = spw_handshake_encode(self),
 *     sent clamps);
 *   - the protocol table is self-consistent for the local and announced ids.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_common.h"
#include "spwire/error.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"

typedef struct hs_model {
    int known;          /* self is a known protocol */
    int fault;          /* fault for the first 8 bytes (when avail) */
    unsigned first_bad; /* index of first wrong byte, 8 if none */
    unsigned fail_hi;   /* last byte whose arrival may report it */
    uint8_t expect[SPW_HANDSHAKE_SIZE];
} hs_model;

static void model_build(hs_model *m, uint16_t self, const uint8_t *data, size_t size)
{
    int peer = spw_proto_peer(self);
    m->known = peer >= 0;
    m->expect[0] = 0x00;
    m->expect[1] = 'S';
    m->expect[2] = 'P';
    m->expect[3] = 0x00;
    m->expect[4] = (uint8_t)(((unsigned)peer >> 8) & 0xFF);
    m->expect[5] = (uint8_t)((unsigned)peer & 0xFF);
    m->expect[6] = 0x00;
    m->expect[7] = 0x00;
    m->first_bad = SPW_HANDSHAKE_SIZE;
    m->fault = SPW_HS_FAULT_NONE;
    if (!m->known) {
        m->fault = SPW_HS_FAULT_LOCAL_PROTO;
        m->first_bad = 0;
        m->fail_hi = 0;
        return;
    }
    for (unsigned i = 0; i < SPW_HANDSHAKE_SIZE && i < size; i++) {
        if (data[i] != m->expect[i]) {
            m->first_bad = i;
            break;
        }
    }
    m->fail_hi = m->first_bad;
    switch (m->first_bad) {
    case 0:
    case 1:
    case 2:
        m->fault = SPW_HS_FAULT_MAGIC;
        break;
    case 3:
        m->fault = SPW_HS_FAULT_VERSION;
        break;
    case 4:
    case 5:
        m->fault = SPW_HS_FAULT_PEER_PROTO;
        m->fail_hi = 5;
        break;
    case 6:
    case 7:
        m->fault = SPW_HS_FAULT_RESERVED;
        break;
    default:
        break;
    }
}

/* The verdict the parser must reach after seeing `size` bytes. */
static int model_verdict(const hs_model *m, size_t size)
{
    if (!m->known) {
        return SPW_EPROTO;
    }
    if (m->first_bad < SPW_HANDSHAKE_SIZE) {
        /* A wrong byte 4 may wait for byte 5 before it is judged. */
        if (size > m->fail_hi) {
            return SPW_EPROTO;
        }
        if (size > m->first_bad) {
            return -1000; /* either NEED_MORE or EPROTO */
        }
        return SPW_HANDSHAKE_NEED_MORE;
    }
    return size >= SPW_HANDSHAKE_SIZE ? SPW_HANDSHAKE_DONE : SPW_HANDSHAKE_NEED_MORE;
}

static void check_oneshot(const hs_model *m, uint16_t self, const uint8_t *data, size_t size)
{
    if (size < SPW_HANDSHAKE_SIZE) {
        return;
    }
    uint16_t peer = 0xBEEF;
    int fault = -1;
    int rc = spw_handshake_check(data, self, &peer, &fault);
    SPW_FUZZ_CHECK(fault == m->fault);
    if (m->fault == SPW_HS_FAULT_NONE) {
        SPW_FUZZ_CHECK(rc == SPW_OK);
        SPW_FUZZ_CHECK((int)peer == spw_proto_peer(self));
    } else {
        SPW_FUZZ_CHECK(rc == SPW_EPROTO);
    }
    SPW_FUZZ_CHECK(spw_handshake_check(data, self, NULL, NULL) == rc);
}

/* Feed data cut at the given ascending positions (the last piece runs to
 * the end of the input, past the 8 header bytes). */
static void check_feed(const hs_model *m, uint16_t self, const uint8_t *data, size_t size,
                       const size_t *cuts, size_t ncuts, int bytewise)
{
    spw_handshake hs;
    spw_handshake_init(&hs, self);
    size_t pos = 0;      /* bytes handed over */
    size_t taken = 0;    /* bytes consumed */
    int last = SPW_HANDSHAKE_NEED_MORE;
    size_t piece = 0;
    for (;;) {
        size_t end;
        if (bytewise) {
            end = pos < size ? pos + 1 : size;
        } else {
            end = piece < ncuts ? cuts[piece] : size;
            if (end > size) {
                end = size;
            }
            if (end < pos) {
                end = pos;
            }
        }
        piece++;
        size_t len = end - pos;
        size_t consumed = (size_t)-1;
        int rc = spw_handshake_feed(&hs, len ? data + pos : NULL, len, &consumed);
        SPW_FUZZ_CHECK(consumed <= len);
        if (last == SPW_EPROTO) {
            SPW_FUZZ_CHECK(rc == SPW_EPROTO && consumed == 0);
        } else if (last == SPW_HANDSHAKE_DONE) {
            SPW_FUZZ_CHECK(rc == SPW_HANDSHAKE_DONE && consumed == 0);
        } else if (rc == SPW_HANDSHAKE_NEED_MORE) {
            SPW_FUZZ_CHECK(consumed == len);
            SPW_FUZZ_CHECK(taken + consumed < SPW_HANDSHAKE_SIZE);
            int want = model_verdict(m, end);
            SPW_FUZZ_CHECK(want == SPW_HANDSHAKE_NEED_MORE || want == -1000 ||
                           (!m->known && len == 0));
        } else if (rc == SPW_HANDSHAKE_DONE) {
            SPW_FUZZ_CHECK(m->known && m->first_bad == SPW_HANDSHAKE_SIZE);
            SPW_FUZZ_CHECK(taken + consumed == SPW_HANDSHAKE_SIZE);
            SPW_FUZZ_CHECK(pos + len >= SPW_HANDSHAKE_SIZE);
            SPW_FUZZ_CHECK((int)spw_handshake_peer(&hs) == spw_proto_peer(self));
        } else {
            SPW_FUZZ_CHECK(rc == SPW_EPROTO);
            SPW_FUZZ_CHECK(m->fault != SPW_HS_FAULT_NONE);
            SPW_FUZZ_CHECK(hs.fault == m->fault);
            if (m->known) {
                /* Reported by the call that brought a byte in [first_bad, fail_hi]. */
                SPW_FUZZ_CHECK(end > m->first_bad);
                SPW_FUZZ_CHECK(pos <= m->fail_hi);
                SPW_FUZZ_CHECK(taken + consumed <= m->fail_hi + 1);
            } else {
                SPW_FUZZ_CHECK(pos == 0); /* the very first feed */
            }
        }
        taken += consumed;
        last = rc;
        pos = end;
        if (pos >= size && (bytewise || piece > ncuts)) {
            break;
        }
    }
    int want = model_verdict(m, size);
    if (want == -1000) {
        SPW_FUZZ_CHECK(last == SPW_EPROTO || last == SPW_HANDSHAKE_NEED_MORE);
    } else if (!m->known && size == 0) {
        SPW_FUZZ_CHECK(last == SPW_EPROTO || last == SPW_HANDSHAKE_NEED_MORE);
    } else {
        SPW_FUZZ_CHECK(last == want);
    }
    /* Sticky / stable once decided. */
    size_t c = 99;
    int again = spw_handshake_feed(&hs, data, size, &c);
    if (last != SPW_HANDSHAKE_NEED_MORE) {
        SPW_FUZZ_CHECK(again == last && c == 0);
    }
}

static void check_output(uint16_t self, const uint8_t *data, size_t size)
{
    spw_handshake hs;
    spw_handshake_init(&hs, self);
    uint8_t enc[SPW_HANDSHAKE_SIZE];
    spw_handshake_encode(enc, self);
    SPW_FUZZ_CHECK(enc[0] == 0 && enc[1] == 'S' && enc[2] == 'P' && enc[3] == 0);
    SPW_FUZZ_CHECK(enc[4] == (uint8_t)(self >> 8) && enc[5] == (uint8_t)(self & 0xFF));
    SPW_FUZZ_CHECK(enc[6] == 0 && enc[7] == 0);
    size_t len = 0;
    const uint8_t *out = spw_handshake_output(&hs, &len);
    SPW_FUZZ_CHECK(len == SPW_HANDSHAKE_SIZE);
    SPW_FUZZ_CHECK(memcmp(out, enc, SPW_HANDSHAKE_SIZE) == 0);
    SPW_FUZZ_CHECK(!spw_handshake_finished(&hs));

    size_t sent = 0;
    size_t steps[3];
    steps[0] = size > 0 ? (size_t)(data[0] % 10) : 3;
    steps[1] = size > 1 ? (size_t)data[1] : 5;
    steps[2] = (size_t)-1; /* clamps */
    size_t consumed = 0;
    int rc = spw_handshake_feed(&hs, data, size, &consumed);
    for (int i = 0; i < 3; i++) {
        spw_handshake_sent(&hs, steps[i]);
        sent += steps[i] < SPW_HANDSHAKE_SIZE - sent ? steps[i] : SPW_HANDSHAKE_SIZE - sent;
        out = spw_handshake_output(&hs, &len);
        SPW_FUZZ_CHECK(len == SPW_HANDSHAKE_SIZE - sent);
        if (len > 0) {
            SPW_FUZZ_CHECK(memcmp(out, enc + sent, len) == 0);
        }
        SPW_FUZZ_CHECK(spw_handshake_finished(&hs) ==
                       (rc == SPW_HANDSHAKE_DONE && sent == SPW_HANDSHAKE_SIZE));
    }
}

static void check_table(uint16_t id)
{
    int known = spw_proto_known(id);
    int peer = spw_proto_peer(id);
    const char *name = spw_proto_name(id);
    SPW_FUZZ_CHECK(known == 0 || known == 1);
    SPW_FUZZ_CHECK(known == (peer >= 0));
    SPW_FUZZ_CHECK(known == (name != NULL));
    if (known) {
        SPW_FUZZ_CHECK(peer <= 0xFFFF && spw_proto_known((uint16_t)peer));
        SPW_FUZZ_CHECK(spw_proto_peer((uint16_t)peer) == (int)id);
        SPW_FUZZ_CHECK(spw_proto_by_name(name) == (int)id);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t sel = size > 0 ? data[0] : 0;
    uint8_t cut = size > 1 ? data[1] : 0;
    size_t pre = size < 2 ? size : 2;
    const uint8_t *peer = data + pre;
    size_t n = size - pre;

    uint16_t announced = 0x1234;
    if (n >= 6) {
        announced = (uint16_t)((peer[4] << 8) | peer[5]);
    }
    uint16_t self;
    unsigned k = sel % 16u;
    if (k < (unsigned)SPW_PROTO_COUNT) {
        int id = spw_proto_at((int)k);
        SPW_FUZZ_CHECK(id >= 0 && id <= 0xFFFF);
        self = (uint16_t)id;
    } else if (k == 11) {
        int partner = spw_proto_peer(announced);
        self = partner >= 0 ? (uint16_t)partner : announced;
    } else if (k == 12) {
        self = 0x0000;
    } else if (k == 13) {
        self = 0xFFFF;
    } else if (k == 14) {
        self = announced;
    } else {
        self = (uint16_t)(announced ^ 0x0001);
    }
    check_table(self);
    check_table(announced);
    SPW_FUZZ_CHECK(spw_proto_at(-1) == -1 && spw_proto_at(SPW_PROTO_COUNT) == -1);

    hs_model m;
    model_build(&m, self, peer, n);
    check_oneshot(&m, self, peer, n);
    if (cut == 0xFF) {
        check_feed(&m, self, peer, n, NULL, 0, 1);
    } else {
        size_t cuts[2];
        cuts[0] = cut & 15u;
        cuts[1] = cuts[0] + (cut >> 4);
        check_feed(&m, self, peer, n, cuts, 2, 0);
    }
    check_output(self, peer, n);
    /* Every fault has a description. */
    SPW_FUZZ_CHECK(spw_handshake_fault_str(n > 0 ? peer[0] : 0) != NULL);
    return 0;
}
