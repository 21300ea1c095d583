/* spwire — the SP protocol table.
 *
 * A protocol id is a u16: the major number in the high 12 bits, the version
 * in the low 4 (pair1 is 0x11: pair, version 1). Each protocol accepts
 * exactly one peer protocol; the handshake refuses every other.
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

/* 1 if id is one of the protocols above, else 0. */
int spw_proto_known(uint16_t id);

/* The valid peer of id, or -1 when id is unknown. */
int spw_proto_peer(uint16_t id);

/* Canonical lower-case name ("req", "respondent"), or NULL when unknown. */
const char *spw_proto_name(uint16_t id);

/* Id for a name, or -1. Accepts the canonical names plus the usual aliases
 * "pair" (pair1), "survey" (surveyor), "surveyor0"/"req0"-style names with a
 * version suffix. Case-sensitive. */
int spw_proto_by_name(const char *name);

/* The i-th protocol id in table order (0 <= i < SPW_PROTO_COUNT), or -1. */
int spw_proto_at(int i);

#ifdef __cplusplus
}
#endif
#endif
