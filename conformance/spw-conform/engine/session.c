/* spw-conform engine — what came back on a connection, analysed
 * (session.h). */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "conn.h"
#include "sp_msg.h"
#include "spwire/handshake.h"
#include "spwire/sp_header.h"

void cf_rx_init(cf_rx *s, uint16_t proto, const cf_framing *f, cf_wire *w)
{
    memset(s, 0, sizeof *s);
    s->proto = proto;
    s->framing = f;
    s->w = w;
    spw_handshake_encode(s->hs_want, proto);
}

void cf_rx_free(cf_rx *s)
{
    for (int i = 0; i < s->nexpected; i++)
        cf_buf_free(&s->expected[i]);
    free(s->expected);
    s->expected = NULL;
    s->nexpected = 0;
    cf_buf_free(&s->rx);
}

void cf_rx_analyse(cf_rx *s)
{
    s->matched = s->wrong = s->garbage = s->frames = 0;
    if (s->rx.len <= 8)
        return;
    const uint8_t *p = s->rx.p + 8;
    size_t left = s->rx.len - 8;
    for (;;) {
        size_t body, flen;
        int rc = cf_framing_parse(s->framing, p, left, &body, &flen);
        if (rc == 0)
            return;
        if (rc < 0) {
            s->garbage = 1;
            return;
        }
        const uint8_t *msg = p + flen - body;
        s->frames++;
        if (s->nexpected > 0) {
            if (s->matched < s->nexpected &&
                cf_echo_matches(s->proto, s->expected[s->matched].p, s->expected[s->matched].len,
                                msg, body))
                s->matched++;
            else
                s->wrong = 1;
        }
        p += flen;
        left -= flen;
    }
}

static int was_answered(const cf_rx *s, uint32_t id)
{
    for (int i = 0; i < s->nanswered; i++)
        if (s->answered[i] == id)
            return 1;
    return 0;
}

int cf_rx_scan_requests(cf_rx *s, int stop_at_fresh)
{
    if (s->req_off == 0)
        s->req_off = 8;
    while (!s->req_bad && !s->req_reused && s->rx.len > s->req_off) {
        size_t body, flen;
        int rc = cf_framing_parse(s->framing, s->rx.p + s->req_off, s->rx.len - s->req_off, &body,
                                  &flen);
        if (rc != 1)
            return 0; /* need more, or garbage (judged by cf_rx_analyse) */
        const uint8_t *msg = s->rx.p + s->req_off + flen - body;
        s->req_off += flen;
        uint32_t id;
        char m[160];
        if (spw_reqid_parse(msg, body, &id) != SPW_HDR_ACCEPT) {
            s->req_bad = 1;
            snprintf(m, sizeof m, "request of %zu bytes without a request id (4 bytes, top bit "
                     "set)", body);
            cf_log_note(s->w, m);
            return 0;
        }
        long now = cf_now_ms(), since = now - s->last_req_ms;
        if (s->outstanding && id == s->last_id) {
            s->last_req_ms = now;
            snprintf(m, sizeof m, "request 0x%08x again: a resend", id);
            cf_log_note(s->w, m);
            continue;
        }
        if (was_answered(s, id)) {
            s->req_reused = 1;
            snprintf(m, sizeof m, "request 0x%08x: an id we already answered", id);
            cf_log_note(s->w, m);
            return 0;
        }
        /* An IUT whose own timer re-requests (a new survey, a retried
         * request with a new id) does so about retry_ms after its last
         * request; one that took an answer asks at once after it. A request
         * that comes at the timer's period and long after our last write is
         * the timer's, not an answer taken. */
        int timer = s->seen_request && s->retry_ms > 0 && since >= s->retry_ms * 3 / 4 &&
                    now - s->last_send_ms >= s->retry_ms / 2;
        s->last_id = id;
        s->outstanding = 1;
        s->seen_request = 1;
        s->last_req_ms = now;
        if (timer) {
            snprintf(m, sizeof m, "request 0x%08x %ld ms after the last: the IUT's own retry "
                     "(about every %d ms), not an answer taken", id, since, s->retry_ms);
            cf_log_note(s->w, m);
            continue;
        }
        snprintf(m, sizeof m, "request 0x%08x", id);
        cf_log_note(s->w, m);
        if (stop_at_fresh)
            return 1;
    }
    return 0;
}

int cf_rx_done_request(void *ctx)
{
    cf_rx *s = ctx;
    return s->rx.len >= 8 && (cf_rx_scan_requests(s, 1) || s->req_bad || s->req_reused);
}

int cf_rx_done_handshake(void *ctx)
{
    cf_rx *s = ctx;
    return s->rx.len >= 8 || (s->rx.len > 0 && memcmp(s->rx.p, s->hs_want, s->rx.len) != 0);
}

int cf_rx_done_echo(void *ctx)
{
    cf_rx *s = ctx;
    cf_rx_analyse(s);
    return s->wrong || s->garbage || s->matched >= s->nexpected;
}

static int done_first(void *ctx)
{
    return ((cf_rx *)ctx)->rx.len > 0;
}

void cf_rx_wait_first(int fd, cf_rx *s, int *closed, cf_wire *w, int start_ms)
{
    if (fd < 0 || *closed || s->rx.len > 0)
        return;
    cf_io_read_until(fd, cf_now_ms() + start_ms, &s->rx, closed, w, done_first, s);
}
