#include "spwire/handshake.h"

#include "spwire/error.h"
#include "spwire/proto.h"

void spw_handshake_encode(uint8_t out[SPW_HANDSHAKE_SIZE], uint16_t proto)
{
    out[0] = 0x00;
    out[1] = 'S';
    out[2] = 'P';
    out[3] = 0x00;
    out[4] = (uint8_t)(proto >> 8);
    out[5] = (uint8_t)(proto & 0xff);
    out[6] = 0x00;
    out[7] = 0x00;
}

/* Judges byte `off` of the peer header given the bytes before it (rx holds
 * off + 1 valid bytes). Returns a fault, or SPW_HS_FAULT_NONE. Byte-wise so
 * the one-shot and incremental paths share one definition of "valid". */
static int judge_byte(const uint8_t *rx, unsigned off, uint16_t self)
{
    static const uint8_t magic[3] = {0x00, 'S', 'P'};
    switch (off) {
    case 0:
    case 1:
    case 2:
        return rx[off] == magic[off] ? SPW_HS_FAULT_NONE : SPW_HS_FAULT_MAGIC;
    case 3:
        return rx[3] == 0 ? SPW_HS_FAULT_NONE : SPW_HS_FAULT_VERSION;
    case 4:
        /* Our one valid peer fixes the high byte: no need to wait for 5. */
        return rx[4] == (uint8_t)(spw_proto_peer(self) >> 8) ? SPW_HS_FAULT_NONE
                                                             : SPW_HS_FAULT_PEER_PROTO;
    case 5:
        return rx[5] == (uint8_t)(spw_proto_peer(self) & 0xff) ? SPW_HS_FAULT_NONE
                                                               : SPW_HS_FAULT_PEER_PROTO;
    default:
        return rx[off] == 0 ? SPW_HS_FAULT_NONE : SPW_HS_FAULT_RESERVED;
    }
}

int spw_handshake_check(const uint8_t in[SPW_HANDSHAKE_SIZE], uint16_t self,
                        uint16_t *peer_proto, int *fault)
{
    int f = spw_proto_known(self) ? SPW_HS_FAULT_NONE : SPW_HS_FAULT_LOCAL_PROTO;
    for (unsigned i = 0; i < SPW_HANDSHAKE_SIZE && f == SPW_HS_FAULT_NONE; i++)
        f = judge_byte(in, i, self);
    if (fault)
        *fault = f;
    if (f != SPW_HS_FAULT_NONE)
        return SPW_EPROTO;
    if (peer_proto)
        *peer_proto = (uint16_t)((in[4] << 8) | in[5]);
    return SPW_OK;
}

void spw_handshake_init(spw_handshake *hs, uint16_t self)
{
    *hs = (spw_handshake){0};
    hs->self = self;
    spw_handshake_encode(hs->tx, self);
    hs->state = SPW_HS_RECEIVING;
}

static int fail(spw_handshake *hs, int fault, unsigned offset)
{
    hs->state = SPW_HS_FAILED;
    hs->fault = (uint8_t)fault;
    hs->fault_offset = (uint8_t)offset;
    return SPW_EPROTO;
}

int spw_handshake_feed(spw_handshake *hs, const uint8_t *buf, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (hs->state == SPW_HS_FAILED)
        return SPW_EPROTO;
    if (hs->state == SPW_HS_COMPLETE)
        return SPW_HANDSHAKE_DONE;
    if (!spw_proto_known(hs->self))
        return fail(hs, SPW_HS_FAULT_LOCAL_PROTO, 0);
    size_t n = 0;
    while (n < len && hs->rx_have < SPW_HANDSHAKE_SIZE) {
        unsigned off = hs->rx_have;
        hs->rx[off] = buf[n++];
        hs->rx_have++;
        int f = judge_byte(hs->rx, off, hs->self);
        if (f != SPW_HS_FAULT_NONE) {
            *consumed = n;
            return fail(hs, f, off);
        }
    }
    *consumed = n;
    if (hs->rx_have < SPW_HANDSHAKE_SIZE)
        return SPW_HANDSHAKE_NEED_MORE;
    hs->peer = (uint16_t)((hs->rx[4] << 8) | hs->rx[5]);
    hs->state = SPW_HS_COMPLETE;
    return SPW_HANDSHAKE_DONE;
}

const uint8_t *spw_handshake_output(const spw_handshake *hs, size_t *len)
{
    *len = (size_t)(SPW_HANDSHAKE_SIZE - hs->tx_done);
    return hs->tx + hs->tx_done;
}

void spw_handshake_sent(spw_handshake *hs, size_t n)
{
    size_t left = (size_t)(SPW_HANDSHAKE_SIZE - hs->tx_done);
    hs->tx_done = (uint8_t)(hs->tx_done + (n < left ? n : left));
}

int spw_handshake_finished(const spw_handshake *hs)
{
    return hs->state == SPW_HS_COMPLETE && hs->tx_done == SPW_HANDSHAKE_SIZE;
}

uint16_t spw_handshake_peer(const spw_handshake *hs)
{
    return hs->peer;
}

const char *spw_handshake_fault_str(int fault)
{
    switch (fault) {
    case SPW_HS_FAULT_NONE:
        return "no fault";
    case SPW_HS_FAULT_MAGIC:
        return "bad magic (expected 00 53 50)";
    case SPW_HS_FAULT_VERSION:
        return "non-zero version byte";
    case SPW_HS_FAULT_PEER_PROTO:
        return "peer protocol is not our valid peer";
    case SPW_HS_FAULT_RESERVED:
        return "non-zero reserved byte";
    case SPW_HS_FAULT_LOCAL_PROTO:
        return "local protocol unknown";
    default:
        return "unknown fault";
    }
}
