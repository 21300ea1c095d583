/* spwire — the SP protocol table: the one home of what an SP protocol is.
 *
 * A protocol id is a u16: the major number in the high 12 bits, the version
 * in the low 4 (pair1 is 0x11: pair, version 1). Each protocol accepts
 * exactly one peer protocol; the handshake refuses every other. Its name,
 * aliases, the header its received messages carry and how it behaves on the
 * wire (sends, receives, echoes, requests, broadcasts, sends first) are one
 * row of one table; every tool asks the table rather than switching on ids.
 * Pure table look-ups: no state, no allocation.
 */
#ifndef SPWIRE_PROTO_H
#define SPWIRE_PROTO_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum spw_proto_id {
    SPW_PROTO_PAIR0 = 0x10,
    SPW_PROTO_PAIR1 = 0x11,
    SPW_PROTO_PUB = 0x20,
    SPW_PROTO_SUB = 0x21,
    SPW_PROTO_REQ = 0x30,
    SPW_PROTO_REP = 0x31,
    SPW_PROTO_PUSH = 0x50,
    SPW_PROTO_PULL = 0x51,
    SPW_PROTO_SURVEYOR = 0x62,
    SPW_PROTO_RESPONDENT = 0x63,
    SPW_PROTO_BUS = 0x70,
};

#define SPW_PROTO_COUNT 11

/* Which header a protocol's messages carry (as received by it). */
enum spw_hdr_kind {
    SPW_HDR_NONE = 0,
    SPW_HDR_BACKTRACE, /* rep, respondent: a request or survey arrives */
    SPW_HDR_REQID,     /* req, surveyor: a reply or response arrives */
    SPW_HDR_PAIR1,     /* pair1: a hop count */
};

/* What a protocol does on the wire, as a bit set in spw_proto_desc.flags. */
enum spw_proto_flag {
    /* can send messages (every protocol but sub, pull) */
    SPW_PF_SENDS = 1u << 0,
    /* can receive (every protocol but pub, push) */
    SPW_PF_RECEIVES = 1u << 1,
    /* can send back what it received: pair0, pair1, bus, rep, respondent */
    SPW_PF_ECHOES = 1u << 2,
    /* sends requests its peer answers, matched by id: req, surveyor */
    SPW_PF_REQUESTS = 1u << 3,
    /* one send reaches every pipe: pub, surveyor, bus */
    SPW_PF_BROADCASTS = 1u << 4,
    /* sends unprompted: pair0, pair1, pub, req, push, surveyor, bus */
    SPW_PF_SENDS_FIRST = 1u << 5,
};

typedef struct spw_proto_desc {
    uint16_t id;
    uint16_t peer;          /* the one valid peer protocol */
    const char *name;       /* canonical lower-case name */
    const char *aliases[4]; /* other accepted names, NULL-terminated */
    int hdr_kind;           /* enum spw_hdr_kind of the messages it receives */
    unsigned flags;         /* SPW_PF_* */
} spw_proto_desc;

/* The row of id, or NULL when id is unknown. The row is static: never freed. */
const spw_proto_desc *spw_proto_desc_of(uint16_t id);

/* The i-th row in table order (0 <= i < SPW_PROTO_COUNT), or NULL. Table
 * order is stable: tools may index bit masks by it. */
const spw_proto_desc *spw_proto_desc_at(int i);

/* The row's index in table order, or -1 when id is unknown. */
int spw_proto_index(uint16_t id);

/* 1 when id is known and has every SPW_PF_* bit of flags, else 0. */
int spw_proto_has(uint16_t id, unsigned flags);

/* The rest are short-hands for fields of spw_proto_desc_of(id). */

/* 1 if id is one of the protocols above, else 0. */
int spw_proto_known(uint16_t id);

/* The valid peer of id, or -1 when id is unknown. */
int spw_proto_peer(uint16_t id);

/* Canonical lower-case name ("req", "respondent"), or NULL when unknown. */
const char *spw_proto_name(uint16_t id);

/* Id for a name, or -1. Accepts the canonical names and each row's aliases
 * ("pair" is pair1, "survey" surveyor, "req0"-style names carry NNG's version
 * suffix). Case-sensitive. */
int spw_proto_by_name(const char *name);

/* The i-th protocol id in table order (0 <= i < SPW_PROTO_COUNT), or -1. */
int spw_proto_at(int i);

#ifdef __cplusplus
}
#endif
#endif
