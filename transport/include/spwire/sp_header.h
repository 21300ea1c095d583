/* spwire — SP protocol headers at the front of a message body, sans I/O.
 *
 * The transport does not look inside messages; the protocols do:
 *  - req/rep and surveyor/respondent: a request (survey) carries a backtrace
 *    of u32 BE words; every hop pushes one, and the originator's request id
 *    is the last word, marked by its high bit. A replier copies the whole
 *    backtrace in front of its reply; the requester reads the first word as
 *    the id it is waiting for.
 *  - pair1: one u32 BE hop count, at most 0xff (the upper 24 bits are 0).
 *  - pair0, pub/sub, push/pull, bus: no header.
 *
 * Verdicts follow the reference (NNG) behaviour: a header that runs out
 * before its end is malformed (the receiver closes the pipe); one with too
 * many hops is dropped silently and the pipe stays up, since devices forward
 * legitimately. Pure functions: no state, no allocation.
 */
#ifndef SPWIRE_SP_HEADER_H
#define SPWIRE_SP_HEADER_H

#include <stddef.h>
#include <stdint.h>

#include "spwire/proto.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SPW_TTL_DEFAULT 8
#define SPW_TTL_MAX 255
#define SPW_REQID_FLAG UINT32_C(0x80000000)

enum spw_hdr_verdict {
    SPW_HDR_ACCEPT = 0,    /* header valid; deliver the body after it */
    SPW_HDR_DROP = 1,      /* too many hops: discard the message, keep the pipe */
    SPW_HDR_MALFORMED = 2, /* garbage: discard and close the pipe */
};

/* Header kind (enum spw_hdr_kind, proto.h) for messages received by
 * protocol proto: its table row's hdr_kind; SPW_HDR_NONE for unknown
 * protocols too. */
int spw_hdr_kind_for(uint16_t proto);

/* Backtrace at the front of msg (rep/respondent side). ttl (1..255) is the
 * most words accepted, the terminating id included. On ACCEPT *hdr_len is
 * the backtrace size in bytes (a multiple of 4) and *hops the word count. */
int spw_backtrace_parse(const uint8_t *msg, size_t len, int ttl, size_t *hdr_len, int *hops);

/* Request or survey id at the front of a reply (req/surveyor side): ACCEPT
 * with *id (high bit included), or MALFORMED when shorter than 4 bytes or
 * the high bit is clear. Whether the id is one we wait for is the caller's
 * question: an unknown id is dropped, not malformed. */
int spw_reqid_parse(const uint8_t *msg, size_t len, uint32_t *id);

/* pair1 hop count: MALFORMED when shorter than 4 bytes or above 0xff; DROP
 * when above ttl; else ACCEPT with *hops. */
int spw_pair1_parse(const uint8_t *msg, size_t len, int ttl, unsigned *hops);

/* Encoders: 4 bytes each. spw_reqid_encode sets the high bit. */
void spw_reqid_encode(uint8_t out[4], uint32_t id);
void spw_pair1_encode(uint8_t out[4], unsigned hops);

/* Static name of a verdict ("accept", "drop", "malformed"). */
const char *spw_hdr_verdict_str(int verdict);

#ifdef __cplusplus
}
#endif
#endif
