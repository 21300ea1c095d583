/* spw-conform engine — SP messages as the valid peer of the IUT builds them,
 * and the comparison of an echo with what was sent. Pure; the header
 * formats themselves are spwire's (spwire/sp_header.h), which protocol
 * carries which comes from the protocol table (spwire/proto.h). */
#ifndef SPW_CONFORM_SP_MSG_H
#define SPW_CONFORM_SP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append a protocol message (SP header + body) as the valid peer of
 * iut_proto sends it. The header: has_hdr's bytes when given; else a
 * request id with the top bit forced for an IUT that receives a backtrace
 * (rep, respondent), reqid exactly as given (an answer, right or
 * deliberately wrong) for one that receives a request id (req, surveyor),
 * a hop count (hops, -1 = 1) for pair1, nothing for the rest. */
void cf_build_message(cf_buf *out, uint16_t iut_proto, uint32_t reqid, int hops,
                      const uint8_t *hdr, size_t hdr_len, int has_hdr, const uint8_t *body,
                      size_t body_len);
/* Is rx the correct echo of sent (the bytes of a message we sent)? pair1's
 * hop count may change on the way back; nothing else may. */
int cf_echo_matches(uint16_t iut_proto, const uint8_t *sent, size_t slen, const uint8_t *rx,
                    size_t rlen);

#endif
