/* spw-conform engine — moving bytes on one connection and recording them:
 * non-blocking write and read loops with deadlines, and the wire log (hex
 * text for the report, a pcap capture) they feed. */
#ifndef SPW_CONFORM_WIRE_H
#define SPW_CONFORM_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct cf_pcap;

/* Where one connection's traffic is recorded. Every member may be absent
 * (NULL text, NULL pcap): the I/O loops take a NULL wire as well. */
typedef struct cf_wire {
    cf_buf *text;          /* the hex wire log of the report */
    long t0;               /* cf_now_ms() at the start of the case */
    int conn;              /* connection index (pcap stream, text label) */
    int label;             /* prefix text lines with "fdK" (several fds) */
    struct cf_pcap *pcap;  /* a capture of the case (see pcap.h) */
} cf_wire;

/* Write all of buf (non-blocking fd), reading into rx meanwhile (rx NULL:
 * reading nothing, so what the IUT sends backs up in its way); chunk>0
 * writes chunk bytes at a time with gap_ms between. Returns 0, -1 when the
 * peer closed/reset (sets *closed), -2 when the peer took nothing for 3 s. */
int cf_io_write(int fd, const uint8_t *buf, size_t len, size_t chunk, int gap_ms, cf_buf *rx,
                int *closed, cf_wire *w);
/* Read into rx until quiet_us pass without a byte (2), closed (-1, *closed
 * set), or the deadline (1): poll's millisecond timeouts would make a
 * sub-millisecond quiet window a whole one or more. */
int cf_io_read_quiet(int fd, long deadline, long quiet_us, cf_buf *rx, int *closed, cf_wire *w);
/* Read into rx until done(ctx) says stop (0), closed (-1, *closed set), or
 * the deadline (1). done may be NULL: read until closed or the deadline. */
int cf_io_read_until(int fd, long deadline, cf_buf *rx, int *closed, cf_wire *w,
                     int (*done)(void *ctx), void *ctx);
/* cf_io_read_until, and also 2 once quiet_us pass without a byte: the peer
 * stopped sending before done() was reached. */
int cf_io_read_until_quiet(int fd, long deadline, long quiet_us, cf_buf *rx, int *closed,
                           cf_wire *w, int (*done)(void *ctx), void *ctx);
/* Read into rx until it holds upto bytes, never one more: 0 there, -1
 * closed (*closed set), 1 the deadline. */
int cf_io_read_upto(int fd, long deadline, cf_buf *rx, size_t upto, int *closed, cf_wire *w);
/* Before writes that will not read (rx NULL): raise our send buffer to 1 MiB
 * where it is smaller (capped by net.core.wmem_max), so a burst that the
 * IUT's blocked echoes hold up still fits on our side. */
void cf_io_hold(int fd);
/* Half-close (FIN) our side / close it, recorded on the wire. */
void cf_io_shutdown(int fd, cf_wire *w);
void cf_io_close(int fd, cf_wire *w);
/* Close abortively (SO_LINGER 0: a reset where the transport has one). */
void cf_io_reset(int fd, cf_wire *w);

/* Wire log: bytes (from_iut: direction) and notes. */
void cf_log_bytes(cf_wire *w, int from_iut, const uint8_t *p, size_t n);
void cf_log_note(cf_wire *w, const char *msg);

#endif
