/* spwire — the SP connection handshake, sans I/O.
 *
 * Wire: each side sends 8 bytes, 00 'S' 'P' <version 00> <proto u16 BE>
 * <reserved u16 00 00>, and checks the peer's. Anything else — bad magic, a
 * non-zero version or reserved byte, a peer protocol that is not our valid
 * peer — is SPW_EPROTO and the connection must be closed.
 *
 * The engine holds both directions: bytes we must send (take them with
 * spw_handshake_output, acknowledge with spw_handshake_sent) and bytes we
 * received (spw_handshake_feed). It never reads past the peer's 8 bytes, so
 * whatever follows in the same buffer belongs to the frame decoder.
 * Bytes are judged as they arrive: a wrong first byte fails at once instead
 * of waiting for eight (an HTTP request is refused on its 'G').
 */
#ifndef SPWIRE_HANDSHAKE_H
#define SPWIRE_HANDSHAKE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SPW_HANDSHAKE_SIZE 8

/* Positive results of spw_handshake_feed. */
enum spw_handshake_result {
    SPW_HANDSHAKE_NEED_MORE = 1, /* all input consumed, peer header incomplete */
    SPW_HANDSHAKE_DONE = 2,      /* peer header complete and valid */
};

/* Why a handshake failed; kept for reports. */
enum spw_handshake_fault {
    SPW_HS_FAULT_NONE = 0,
    SPW_HS_FAULT_MAGIC,       /* byte 0, 1 or 2 is not 00 'S' 'P' */
    SPW_HS_FAULT_VERSION,     /* byte 3 is not 0 */
    SPW_HS_FAULT_PEER_PROTO,  /* bytes 4-5 are not our valid peer */
    SPW_HS_FAULT_RESERVED,    /* byte 6 or 7 is not 0 */
    SPW_HS_FAULT_LOCAL_PROTO, /* we were initialised with an unknown protocol */
};

/* Parser states, in wire order. */
enum spw_handshake_state {
    SPW_HS_RECEIVING = 0,
    SPW_HS_COMPLETE,
    SPW_HS_FAILED,
};

/* Caller-owned; no pointers inside, so it may be copied or kept on the
 * stack. Fields are exposed for sizing only: use the functions. */
typedef struct spw_handshake {
    uint8_t tx[SPW_HANDSHAKE_SIZE];
    uint8_t rx[SPW_HANDSHAKE_SIZE];
    uint8_t tx_done;
    uint8_t rx_have;
    uint16_t self;
    uint16_t peer;
    uint8_t state;         /* enum spw_handshake_state */
    uint8_t fault;         /* enum spw_handshake_fault */
    uint8_t fault_offset;  /* byte offset that failed */
} spw_handshake;

/* Write our 8 header bytes for protocol proto into out. Any u16 is encoded,
 * known or not: tests need to send ids that do not exist. */
void spw_handshake_encode(uint8_t out[SPW_HANDSHAKE_SIZE], uint16_t proto);

/* One-shot check of a complete peer header against our protocol self.
 * Returns SPW_OK and stores the peer id in *peer_proto (may be NULL), or
 * SPW_EPROTO; *fault (may be NULL) receives an spw_handshake_fault. */
int spw_handshake_check(const uint8_t in[SPW_HANDSHAKE_SIZE], uint16_t self,
                        uint16_t *peer_proto, int *fault);

/* Start a handshake as protocol self. An unknown self is accepted here and
 * fails at the first spw_handshake_feed call (even one with no bytes) with
 * SPW_EPROTO / SPW_HS_FAULT_LOCAL_PROTO, so a caller has one place to handle
 * errors. */
void spw_handshake_init(spw_handshake *hs, uint16_t self);

/* Feed received bytes. Consumes at most the bytes still missing from the
 * peer header (*consumed says how many; it may be less than len only when
 * DONE or failing). Returns SPW_HANDSHAKE_NEED_MORE, SPW_HANDSHAKE_DONE, or
 * SPW_EPROTO. Errors are sticky: once failed, every call returns SPW_EPROTO
 * and consumes nothing. Feeding after DONE consumes nothing and returns DONE.
 * hs, consumed must not be NULL; buf may be NULL when len is 0. */
int spw_handshake_feed(spw_handshake *hs, const uint8_t *buf, size_t len, size_t *consumed);

/* Bytes of our header not yet acknowledged as sent: returns a pointer into
 * hs and stores the count in *len (0 when all was sent). */
const uint8_t *spw_handshake_output(const spw_handshake *hs, size_t *len);

/* Acknowledge n bytes of output as written. n larger than what is pending
 * is clamped. */
void spw_handshake_sent(spw_handshake *hs, size_t n);

/* 1 when our header is all sent and the peer's is complete and valid. */
int spw_handshake_finished(const spw_handshake *hs);

/* Peer protocol id; meaningful once feed returned DONE. */
uint16_t spw_handshake_peer(const spw_handshake *hs);

/* Static English description of a fault ("bad magic", ...). Never NULL. */
const char *spw_handshake_fault_str(int fault);

#ifdef __cplusplus
}
#endif
#endif
