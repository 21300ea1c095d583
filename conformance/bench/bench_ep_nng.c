/* bench_ep_nng110 — the NNG 1.10.1 end of bench_transport: a pair1 socket
 * with a socket:// listener adopting the fd it is given (one listener, one
 * fd). Sends with nng_send (NNG copies the payload into a message, as for
 * any caller with a buffer), receives with nng_recvmsg, echoes with
 * nng_sendmsg of the received message (no copy). NNG's defaults are kept
 * except the receive limit (raised for the 1 MiB + pair1 header case).
 * Started by bench_transport; see bench_roles.h for the roles.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <nng/nng.h>
#include <nng/protocol/pair1/pair.h>

#include "bench_roles.h"
#include "bench_util.h"

typedef struct ep_ctx {
    nng_socket s;
    nng_listener l;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int removed;
} ep_ctx;

static int nsend(void *c, uint8_t *payload, size_t len)
{
    ep_ctx *x = c;
    int rv = nng_send(x->s, payload, len, 0);
    if (rv != 0)
        fprintf(stderr, "nng_send: %s\n", nng_strerror(rv));
    return rv ? -1 : 0;
}

static int nrecv(void *c, size_t *len)
{
    ep_ctx *x = c;
    nng_msg *m;
    int rv = nng_recvmsg(x->s, &m, 0);
    if (rv != 0) {
        fprintf(stderr, "nng_recvmsg: %s\n", nng_strerror(rv));
        return -1;
    }
    *len = nng_msg_len(m);
    bench_sink(nng_msg_body(m), *len);
    nng_msg_free(m);
    return 0;
}

static int necho(void *c)
{
    ep_ctx *x = c;
    nng_msg *m;
    int rv = nng_recvmsg(x->s, &m, 0);
    if (rv == 0) {
        rv = nng_sendmsg(x->s, m, 0);
        if (rv != 0)
            nng_msg_free(m);
    }
    if (rv != 0)
        fprintf(stderr, "nng echo: %s\n", nng_strerror(rv));
    return rv ? -1 : 0;
}

static void on_remove(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)ev;
    ep_ctx *x = arg;
    pthread_mutex_lock(&x->mu);
    x->removed = 1;
    pthread_cond_broadcast(&x->cv);
    pthread_mutex_unlock(&x->mu);
}

/* nng_send returns once the message is queued; closing the socket then may
 * drop it. Wait until the peer, having received everything, hangs up. */
static void ndrain(void *c)
{
    ep_ctx *x = c;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&x->mu);
    while (!x->removed)
        if (pthread_cond_timedwait(&x->cv, &x->mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&x->mu);
}

int main(int argc, char **argv)
{
    bench_args a;
    if (bench_parse_endpoint(argc - 1, argv + 1, &a) != 0)
        return 2;
    ep_ctx x;
    memset(&x, 0, sizeof x);
    pthread_mutex_init(&x.mu, NULL);
    pthread_cond_init(&x.cv, NULL);
    int rv = nng_pair1_open(&x.s);
    if (rv == 0)
        rv = nng_socket_set_size(x.s, NNG_OPT_RECVMAXSZ, 2u * 1024u * 1024u);
    if (rv == 0)
        rv = nng_pipe_notify(x.s, NNG_PIPE_EV_REM_POST, on_remove, &x);
    if (rv == 0)
        rv = nng_listener_create(&x.l, x.s, "socket://");
    if (rv == 0)
        rv = nng_listener_start(x.l, 0);
    if (rv == 0)
        rv = nng_listener_set_int(x.l, NNG_OPT_SOCKET_FD, a.fd);
    if (rv != 0) {
        fprintf(stderr, "nng endpoint: %s\n", nng_strerror(rv));
        return 1;
    }
    static const bench_ops ops = {nsend, nrecv, necho, ndrain};
    int status = bench_run_role(&a, &ops, &x);
    nng_close(x.s);
    return status;
}
