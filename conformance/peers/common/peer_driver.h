/* peer_driver.h -- backend-neutral behaviour loop of the conformance peers.
 *
 * A backend (nng, nanomsg, spwire) opens the socket and the endpoint, emits
 * the start/add/rem events itself, and hands the driver a small vtable.  The
 * driver runs the behaviour chosen on the command line and emits the msg,
 * sent, error and done events.
 */
#ifndef SPW_PEER_DRIVER_H
#define SPW_PEER_DRIVER_H

#include "peer_cli.h"

#include <stddef.h>

/* An error from the library: name is a portable NNG-style name such as
 * "ETIMEDOUT" (see spw_peer_backend), detail the library's own text. */
typedef struct spw_peer_err {
    const char *name;
    const char *detail;
} spw_peer_err;

/* A received message; handle belongs to the backend. */
typedef struct spw_peer_rmsg {
    const unsigned char *data;
    size_t len;
    void *handle;
} spw_peer_rmsg;

typedef struct spw_peer_backend {
    void *ctx;
    /* 0 on success, else fills err. */
    int (*send)(void *ctx, const void *data, size_t len, spw_peer_err *err);
    /* 0 on success, else fills err.  A timeout must be named "ETIMEDOUT";
     * a surveyor whose survey expired may also answer "ESTATE". */
    int (*recv)(void *ctx, spw_peer_rmsg *m, spw_peer_err *err);
    void (*release)(void *ctx, spw_peer_rmsg *m);
    /* Wait until n pipes are connected or timeout_ms passes (-1: forever).
     * May be NULL, then --wait-peers is ignored. */
    int (*wait_peers)(void *ctx, int n, int timeout_ms, spw_peer_err *err);
    /* Closes the socket; pipe events it causes are emitted before "done". */
    void (*close)(void *ctx);
    /* --wait-close: wait until the peers closed every pipe, or timeout_ms
     * passes; 0 when they did, else fills err.  NULL when unsupported (the
     * parser refuses --wait-close then, see spw_peer_caps). */
    int (*wait_close)(void *ctx, int timeout_ms, spw_peer_err *err);
} spw_peer_backend;

/* Runs the behaviour; returns the process exit code (0 completed, 1 not). */
int spw_peer_run(const spw_peer_opts *o, const spw_peer_backend *b);

/* Sleeps ms milliseconds (restarting after signals). */
void spw_sleep_ms(int ms);

#endif /* SPW_PEER_DRIVER_H */
