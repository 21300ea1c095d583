/* spw-conform — pure judgement: outcome classification, verdicts, globs,
 * expectations files, SP message building and echo comparison. */
#include "conform.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "spwire/proto.h"

int cf_outcome_is_robustness(int o)
{
    return o == CF_O_CRASHED || o == CF_O_EXITED || o == CF_O_HUNG || o == CF_O_LEAKED;
}

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
static int handshake_announces_peer(const cf_case *c, int conn, uint16_t iut)
{
    int peer = spw_proto_peer(iut);
    for (int i = c->nsteps - 1; i >= 0; i--) {
        const cf_step *s = &c->steps[i];
        if (s->kind != CF_S_SEND_HANDSHAKE || s->conn != conn)
            continue;
        uint16_t p = s->hs_sel == CF_HS_PEER      ? (uint16_t)peer
                     : s->hs_sel == CF_HS_SELF    ? iut
                     : s->hs_sel == CF_HS_SWAPPED ? (uint16_t)(((peer & 0xff) << 8) | (peer >> 8))
                                                  : s->hs_proto;
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

const char *cf_skip_reason(const cf_case *c, uint16_t iut, int fd_slots, char *buf, size_t len)
{
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
    if (c->limit_skip) {
        snprintf(buf, len, "sized relative to the receive limit; the IUT has none (--recvmax 0)");
        return buf;
    }
    if (c->needs_echo && !cf_proto_can_echo(iut)) {
        snprintf(buf, len, "needs an echoing IUT; %s cannot echo", name ? name : "?");
        return buf;
    }
    if (c->needs_requester && !cf_proto_requests(iut)) {
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

int cf_glob(const char *p, const char *s)
{
    for (;;) {
        if (*p == 0)
            return *s == 0;
        if (*p == '*') {
            while (*p == '*')
                p++;
            if (*p == 0)
                return 1;
            for (; *s; s++)
                if (cf_glob(p, s))
                    return 1;
            return 0;
        }
        if (*s == 0)
            return 0;
        if (*p != '?' && *p != *s)
            return 0;
        p++;
        s++;
    }
}

int cf_expect_parse(cf_expectations *x, const char *file, const char *text, char *err,
                    size_t errlen)
{
    int line = 0;
    const char *p = text;
    memset(x, 0, sizeof *x);
    while (*p) {
        line++;
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char buf[512];
        if (len >= sizeof buf) {
            snprintf(err, errlen, "%s:%d: line too long", file, line);
            return -1;
        }
        memcpy(buf, p, len);
        buf[len] = 0;
        p = nl ? nl + 1 : p + len;
        char *h = strchr(buf, '#');
        if (h)
            *h = 0;
        char id[256], v[64], extra[8];
        int n = sscanf(buf, "%255s %63s %7s", id, v, extra);
        if (n <= 0)
            continue;
        unsigned verdicts = 0;
        for (char *alt = n == 2 ? v : NULL, *save = NULL; n == 2; alt = NULL) {
            const char *name = strtok_r(alt, "|", &save);
            if (!name)
                break;
            int one = cf_verdict_by_name(name);
            if (one < 0) {
                verdicts = 0;
                break;
            }
            verdicts |= 1u << one;
        }
        if (n != 2 || !verdicts) {
            snprintf(err, errlen, "%s:%d: expected 'case-id VERDICT[|VERDICT...]' (PASS, "
                     "NON-STRICT, INFORMATIONAL, FAIL, ERROR, SKIP)", file, line);
            return -1;
        }
        if (cf_expect_lookup(x, id)) {
            snprintf(err, errlen, "%s:%d: duplicate id %s", file, line, id);
            return -1;
        }
        x->e = realloc(x->e, sizeof *x->e * (size_t)(x->n + 1));
        if (!x->e)
            abort();
        x->e[x->n].id = strdup(id);
        x->e[x->n].verdicts = verdicts;
        x->n++;
    }
    return 0;
}

void cf_expect_free(cf_expectations *x)
{
    for (int i = 0; i < x->n; i++)
        free(x->e[i].id);
    free(x->e);
    memset(x, 0, sizeof *x);
}

unsigned cf_expect_lookup(const cf_expectations *x, const char *id)
{
    for (int i = 0; i < x->n; i++)
        if (strcmp(x->e[i].id, id) == 0)
            return x->e[i].verdicts;
    return 0;
}

int cf_request_id(const uint8_t *msg, size_t len, uint32_t *id)
{
    if (len < 4 || !(msg[0] & 0x80))
        return -1;
    *id = (uint32_t)msg[0] << 24 | (uint32_t)msg[1] << 16 | (uint32_t)msg[2] << 8 | msg[3];
    return 0;
}

static void put32(cf_buf *b, uint32_t v)
{
    uint8_t w[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    cf_buf_add(b, w, 4);
}

void cf_build_message(cf_buf *out, uint16_t iut, uint32_t reqid, int hops, const uint8_t *hdr,
                      size_t hdr_len, int has_hdr, const uint8_t *body, size_t body_len)
{
    if (has_hdr)
        cf_buf_add(out, hdr, hdr_len);
    else if (iut == SPW_PROTO_PAIR1)
        put32(out, (uint32_t)(hops < 0 ? 1 : hops));
    else if (iut == SPW_PROTO_REP || iut == SPW_PROTO_RESPONDENT)
        put32(out, reqid | 0x80000000u);
    else if (iut == SPW_PROTO_REQ || iut == SPW_PROTO_SURVEYOR)
        put32(out, reqid); /* an answer: the caller picks the id, right or wrong */
    cf_buf_add(out, body, body_len);
}

int cf_echo_matches(uint16_t iut, const uint8_t *sent, size_t slen, const uint8_t *rx,
                    size_t rlen)
{
    if (iut == SPW_PROTO_PAIR1) {
        /* the hop count may change on the way back; the rest may not */
        if (slen < 4 || rlen < 4 || rx[0] || rx[1] || rx[2])
            return 0;
        return slen == rlen && memcmp(sent + 4, rx + 4, slen - 4) == 0;
    }
    return slen == rlen && (slen == 0 || memcmp(sent, rx, slen) == 0);
}
