/* spwire — umbrella header.
 *
 * Include graph (each header includes only what is listed under it):
 *   spwire.h
 *     error.h
 *     alloc.h
 *     proto.h
 *     handshake.h
 *     frame.h     -> alloc.h
 *     sp_header.h -> proto.h
 *     options.h
 *     pipe.h      -> frame.h, options.h
 *     listener.h  -> alloc.h, options.h, pipe.h
 * error, alloc, proto, handshake, frame and sp_header are the sans-I/O core: no
 * syscalls, no locks, no global mutable state. pipe and listener are the fd
 * layer on top of them.
 */
#ifndef SPWIRE_SPWIRE_H
#define SPWIRE_SPWIRE_H

#include "spwire/alloc.h"
#include "spwire/error.h"
#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/listener.h"
#include "spwire/options.h"
#include "spwire/pipe.h"
#include "spwire/proto.h"
#include "spwire/sp_header.h"

#define SPWIRE_VERSION_MAJOR 0
#define SPWIRE_VERSION_MINOR 1
#define SPWIRE_VERSION_PATCH 0
#define SPWIRE_VERSION_STRING "0.1.0"

#endif
