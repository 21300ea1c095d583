/* Internal: what the listener needs from a pipe before it is handed out. */
#ifndef SPWIRE_PIPE_INTERNAL_H
#define SPWIRE_PIPE_INTERNAL_H

#include <stdint.h>

#include "spwire/alloc.h"
#include "spwire/pipe.h"

/* Allocate a pipe for an fd already checked and made non-blocking. Does not
 * take ownership unless it returns SPW_OK. SPW_ENOMEM. */
int spw__pipe_new(spw_pipe **p, int fd, uint16_t proto, uint64_t recvmax,
                  const spw_allocator *alloc);

/* Advance the handshake without blocking: write what is pending, read what
 * is there. Returns SPW_HANDSHAKE_DONE (our header sent, peer's valid),
 * SPW_HANDSHAKE_NEED_MORE with *events set to what to poll for, or a
 * negative code (the pipe is then failed and must be destroyed). */
int spw__pipe_handshake_step(spw_pipe *p, short *events);

#endif
