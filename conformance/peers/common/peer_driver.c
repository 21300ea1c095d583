/* peer_driver.c -- behaviour loop shared by the conformance peers. */
#define _POSIX_C_SOURCE 200809L
#include "peer_driver.h"

#include "peer_events.h"
#include "spw_sha256.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void spw_sleep_ms(int ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = ms / 1000;
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

struct run {
    const spw_peer_opts *o;
    const spw_peer_backend *b;
    spw_sha256_ctx digest;
    long long sent;
    long long received;
};

/* 0 sent; -1 failed (an error event emitted), with *lost set when only the
 * connection it went to is gone (may be NULL). */
static int do_send_lost(struct run *r, const void *data, size_t len, int *lost)
{
    spw_peer_err err = {"EINTERNAL", ""};

    if (r->b->send(r->b->ctx, data, len, &err) != 0) {
        spw_ev_error("send", err.name, err.detail);
        if (lost)
            *lost = strcmp(err.name, "ECLOSED") == 0 || strcmp(err.name, "ECONNRESET") == 0 ||
                    strcmp(err.name, "ECONNSHUT") == 0 ||
                    strcmp(err.name, "EPIPE") == 0;
        return -1;
    }
    r->sent++;
    spw_ev_sent(len);
    return 0;
}

static int do_send(struct run *r, const void *data, size_t len)
{
    return do_send_lost(r, data, len, NULL);
}

static int send_payload(struct run *r, long long k)
{
    size_t len = 0;
    unsigned char *p = spw_peer_payload(r->o, k, &len);
    int rv;

    if (p == NULL) {
        spw_ev_error("send", "ENOMEM", "cannot allocate payload");
        return -1;
    }
    rv = do_send(r, p, len);
    free(p);
    return rv;
}

/* Receives one message.  Returns 0 and fills m, or -1 with err filled.  When
 * report is set, failures are emitted as error events. */
static int do_recv(struct run *r, spw_peer_rmsg *m, spw_peer_err *err, int report)
{
    err->name = "EINTERNAL";
    err->detail = "";
    memset(m, 0, sizeof(*m));
    if (r->b->recv(r->b->ctx, m, err) != 0) {
        if (report)
            spw_ev_error("recv", err->name, err->detail);
        return -1;
    }
    r->received++;
    spw_sha256_update(&r->digest, m->data, m->len);
    spw_ev_msg(m->data, m->len);
    return 0;
}

static int recv_report(struct run *r)
{
    spw_peer_rmsg m;
    spw_peer_err err;

    if (do_recv(r, &m, &err, 1) != 0)
        return -1;
    r->b->release(r->b->ctx, &m);
    return 0;
}

/* One survey: send, then collect responses until the survey times out (or
 * --wait-peers responses arrived).  Succeeds if at least one response came. */
static int survey(struct run *r, long long k)
{
    long long got = 0;

    if (send_payload(r, k) != 0)
        return -1;
    for (;;) {
        spw_peer_rmsg m;
        spw_peer_err err;

        if (do_recv(r, &m, &err, 0) != 0) {
            int expired = strcmp(err.name, "ETIMEDOUT") == 0 || strcmp(err.name, "ESTATE") == 0;
            if (!expired || got == 0) {
                spw_ev_error("recv", err.name, err.detail);
                return -1;
            }
            return 0;
        }
        r->b->release(r->b->ctx, &m);
        got++;
        if (r->o->wait_peers > 0 && got >= r->o->wait_peers)
            return 0;
    }
}

int spw_peer_run(const spw_peer_opts *o, const spw_peer_backend *b)
{
    struct run r;
    char digest_hex[SPW_SHA256_HEX_LEN + 1];
    int ok = 1;
    long long k;

    memset(&r, 0, sizeof(r));
    r.o = o;
    r.b = b;
    spw_sha256_init(&r.digest);

    if (o->wait_peers > 0 && b->wait_peers != NULL) {
        spw_peer_err err = {"EINTERNAL", ""};
        if (b->wait_peers(b->ctx, o->wait_peers, o->timeout_ms, &err) != 0) {
            spw_ev_error("wait-peers", err.name, err.detail);
            ok = 0;
        }
    }

    for (k = 0; ok && k < o->count; k++) {
        switch (o->mode) {
        case SPW_MODE_SEND:
            if (spw_peer_proto_replies(o->proto)) {
                /* Reply to each request with the payload. */
                ok = recv_report(&r) == 0 && send_payload(&r, k) == 0;
            } else if ((o->proto->flags & SPW_PF_REQUESTS) &&
                       (o->proto->flags & SPW_PF_BROADCASTS)) {
                /* A survey: collect the responses of every pipe. */
                ok = survey(&r, k) == 0;
            } else if (o->proto->flags & SPW_PF_REQUESTS) {
                ok = send_payload(&r, k) == 0 && recv_report(&r) == 0;
            } else {
                ok = send_payload(&r, k) == 0;
            }
            break;
        case SPW_MODE_RECV:
            ok = recv_report(&r) == 0;
            break;
        case SPW_MODE_ECHO: {
            spw_peer_rmsg m;
            spw_peer_err err;
            if (do_recv(&r, &m, &err, 1) != 0) {
                ok = 0;
                break;
            }
            /* The peer that sent it vanished before its echo went out (a
             * reset while we write: the send path a fuzzer drives). Like an
             * SP socket, lose that message and serve on; the next receive
             * ends the run if no connection is left. */
            int lost = 0;
            ok = do_send_lost(&r, m.data, m.len, &lost) == 0 || lost;
            b->release(b->ctx, &m);
            break;
        }
        default:
            spw_ev_error("run", "EINVAL", "no behaviour selected");
            ok = 0;
        }
    }

    if (o->wait_close_ms >= 0 && b->wait_close != NULL) {
        spw_peer_err err = {"EINTERNAL", ""};
        if (b->wait_close(b->ctx, o->wait_close_ms, &err) != 0) {
            spw_ev_error("wait-close", err.name, err.detail);
            ok = 0;
        }
    } else if (r.sent > 0) {
        spw_sleep_ms(o->linger_ms);
    }
    b->close(b->ctx);
    spw_sha256_final_hex(&r.digest, digest_hex);
    spw_ev_done(r.sent, r.received, digest_hex);
    return ok ? 0 : 1;
}
