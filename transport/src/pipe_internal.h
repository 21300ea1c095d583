/* Internal: what the listener needs from a pipe before it is handed out. */
#ifndef SPWIRE_PIPE_INTERNAL_H
#define SPWIRE_PIPE_INTERNAL_H

#include <stdint.h>

#include "spwire/alloc.h"
#include "spwire/pipe.h"

/* Allocate a pipe for an fd already checked (the fd is neither read nor
 * changed here). SPW_OK or SPW_ENOMEM. The fd is made non-blocking by the
 * caller before any I/O; spw_pipe_close closes it, spw__pipe_disown does
 * not. */
int spw__pipe_new(spw_pipe **p, int fd, uint16_t proto, uint64_t recvmax,
                  const spw_allocator *alloc);

/* First, non-blocking attempt to send our header, made while the fd may
 * still go back to the caller. SPW_OK (some, all or none of it went out);
 * else the write's code (SPW_ECLOSED, SPW_ECONNRESET, SPW_ESYSTEM) with
 * nothing sent and the fd untouched: no shutdown. */
int spw__pipe_handshake_start(spw_pipe *p);

/* Free a pipe without closing its fd: the set failed, the fd is the
 * caller's again. */
void spw__pipe_disown(spw_pipe *p);

/* Advance the handshake without blocking: write what is pending, read what
 * is there. Returns SPW_HANDSHAKE_DONE (our header sent, peer's valid),
 * SPW_HANDSHAKE_NEED_MORE with *events set to what to poll for, or a
 * negative code (the pipe is then failed and must be destroyed). */
int spw__pipe_handshake_step(spw_pipe *p, short *events);

#endif
