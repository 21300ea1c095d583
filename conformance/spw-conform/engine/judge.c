/* spw-conform engine — pure judgement (judge.h). */
#include "judge.h"

#include <stdio.h>
#include <string.h>

#include "conn.h"
#include "spwire/proto.h"

/* Outcomes that fail a case whatever its level or acceptable set: the IUT
 * broke the protocol on its own side or as a process. */
static int always_fails(int o)
{
    return cf_outcome_is_robustness(o) || o == CF_O_BAD_HANDSHAKE || o == CF_O_GARBAGE ||
           o == CF_O_BAD_REQUEST;
}

int cf_classify(const cf_obs *o)
{
    if (o->crashed)
        return CF_O_CRASHED;
    if (o->exited)
        return CF_O_EXITED;
    if (o->hung)
        return CF_O_HUNG;
    if (o->leaked)
        return CF_O_LEAKED;
    if (o->hs_have > 0 && !o->hs_valid)
        return CF_O_BAD_HANDSHAKE;
    if (o->garbage)
        return CF_O_GARBAGE;
    if (o->req_bad)
        return CF_O_BAD_REQUEST;
    if (o->req_reused)
        return CF_O_REUSED_ID;
    if (o->wrong)
        return CF_O_WRONG_ECHO;
    if (o->closed)
        return o->matched > 0 ? CF_O_CLOSED_AFTER_REPLY : CF_O_CLOSED;
    if (o->hs_have < 8)
        return CF_O_NO_HANDSHAKE;
    if (o->expected > 0)
        return o->matched == o->expected ? CF_O_ECHOED : CF_O_NOT_ECHOED;
    if (o->req_waits > 0)
        return o->req_got == o->req_waits ? CF_O_REQUESTED : CF_O_NO_REQUEST;
    return CF_O_OPEN;
}

/* The protocol id the last 'send handshake' step on connection conn
 * announces. */
/* Does the last 'send handshake' step on connection conn announce the
 * valid peer of the IUT's protocol? */
static int handshake_announces_peer(const cf_case *c, int conn, uint16_t iut)
{
    int peer = spw_proto_peer(iut);
    for (int i = c->nsteps - 1; i >= 0; i--) {
        const cf_step *s = &c->steps[i];
        if (s->kind != CF_S_SEND_HANDSHAKE || s->conn != conn)
            continue;
        uint16_t p = cf_step_handshake_proto(s, iut);
        int hi = s->hs_byte[4] >= 0 ? s->hs_byte[4] : p >> 8;
        int lo = s->hs_byte[5] >= 0 ? s->hs_byte[5] : p & 0xff;
        return peer >= 0 && ((hi << 8) | lo) == peer;
    }
    return 0;
}

int cf_resolve_outcomes(const cf_case *c, int conn, uint16_t iut, int *out, int max)
{
    int n = 0;
    int own = conn >= 0 && conn < CF_MAX_CONNS && c->conn_noutcomes[conn] > 0;
    int count = own ? c->conn_noutcomes[conn] : c->noutcomes;
    const int *set = own ? c->conn_outcomes[conn] : c->outcomes;
    for (int i = 0; i < count && n < max; i++) {
        if (set[i] == CF_O_PAIRED) {
            if (handshake_announces_peer(c, conn, iut)) {
                out[n++] = CF_O_OPEN;
                if (n < max)
                    out[n++] = CF_O_ECHOED;
            } else
                out[n++] = CF_O_CLOSED;
        } else
            out[n++] = set[i];
    }
    return n;
}

int cf_verdict(const cf_case *c, int conn, uint16_t iut, int outcome, int strict)
{
    if (always_fails(outcome))
        return CF_FAIL;
    int acc[CF_MAX_OUTCOMES * 2];
    int n = cf_resolve_outcomes(c, conn, iut, acc, CF_MAX_OUTCOMES * 2);
    if (c->level == CF_INFO)
        return CF_INFORMATIONAL;
    for (int i = 0; i < n; i++)
        if (acc[i] == outcome)
            return CF_PASS;
    if (c->level == CF_SHOULD)
        return strict ? CF_FAIL : CF_NONSTRICT;
    return CF_FAIL;
}

int cf_verdict_worse(int a, int b)
{
    static const int rank[] = {[CF_PASS] = 0, [CF_INFORMATIONAL] = 1, [CF_NONSTRICT] = 2,
                               [CF_FAIL] = 3, [CF_ERROR] = 4, [CF_SKIP] = -1};
    return rank[b] > rank[a] ? b : a;
}

const char *cf_skip_reason(const cf_case *c, const cf_offer *of, char *buf, size_t len)
{
    uint16_t iut = of->proto;
    int fd_slots = of->fd_slots;
    const char *name = spw_proto_name(iut);
    if (c->nprotos > 0) {
        int ok = 0;
        for (int i = 0; i < c->nprotos; i++)
            ok |= c->protos[i] == iut;
        if (!ok) {
            size_t off = (size_t)snprintf(buf, len, "applies to");
            for (int i = 0; i < c->nprotos && off < len; i++)
                off += (size_t)snprintf(buf + off, len - off, " %s",
                                        spw_proto_name(c->protos[i]));
            if (off < len)
                snprintf(buf + off, len - off, " only, not %s", name ? name : "?");
            return buf;
        }
    }
    if (c->transports && !(c->transports & (1u << of->transport))) {
        size_t off = (size_t)snprintf(buf, len, "applies to");
        for (int t = 0; t < CF_TR_COUNT && off < len; t++)
            if (c->transports & (1u << t))
                off += (size_t)snprintf(buf + off, len - off, " %s", cf_transport_name(t));
        if (off < len)
            snprintf(buf + off, len - off, " only, not %s", cf_transport_name(of->transport));
        return buf;
    }
    if (c->limit_skip) {
        snprintf(buf, len, "sized relative to the receive limit; the IUT has none (--recvmax 0)");
        return buf;
    }
    if (c->needs_echo && !spw_proto_has(iut, SPW_PF_ECHOES)) {
        snprintf(buf, len, "needs an echoing IUT; %s cannot echo", name ? name : "?");
        return buf;
    }
    if (c->needs_requester && !spw_proto_has(iut, SPW_PF_REQUESTS)) {
        snprintf(buf, len, "needs an IUT that sends requests (req, surveyor); %s does not",
                 name ? name : "?");
        return buf;
    }
    if (c->needs_fd && fd_slots == 0) {
        snprintf(buf, len, "needs the socket transport (--exec with {fd})");
        return buf;
    }
    if (c->nconns > fd_slots && fd_slots > 0) {
        snprintf(buf, len, "hands %d fds to one IUT: needs {fds} in the --exec command",
                 c->nconns);
        return buf;
    }
    return NULL;
}
