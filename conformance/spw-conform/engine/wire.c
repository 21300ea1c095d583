/* spw-conform engine — byte loops and the wire log (wire.h). */
#include "wire.h"

#include <errno.h>
#include <stdint.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "pcap.h"

/* ------------------------------------------------------------ wire log */

#define CF_LOG_MAX (24 * 1024)

static int log_full(cf_wire *w)
{
    if (!w || !w->text)
        return 1;
    if (w->text->len > CF_LOG_MAX) {
        if (w->text->len < CF_LOG_MAX + 200)
            cf_buf_printf(w->text, "  ... (wire log truncated)\n");
        return 1;
    }
    cf_buf_printf(w->text, "  %+6ldms  ", cf_now_ms() - w->t0);
    if (w->label)
        cf_buf_printf(w->text, "fd%d ", w->conn + 1);
    return 0;
}

void cf_log_note(cf_wire *w, const char *msg)
{
    if (!log_full(w))
        cf_buf_printf(w->text, "** %s\n", msg);
}

void cf_log_bytes(cf_wire *w, int from_iut, const uint8_t *p, size_t n)
{
    if (w && w->pcap)
        cf_pcap_data(w->pcap, w->conn, from_iut, cf_wall_us(), p, n);
    if (log_full(w))
        return;
    cf_buf_printf(w->text, "%s %zu byte%s:", from_iut ? "<-" : "->", n, n == 1 ? "" : "s");
    size_t show = n > 48 ? 48 : n;
    for (size_t i = 0; i < show; i++)
        cf_buf_printf(w->text, "%s%02x", i % 8 == 0 ? "  " : " ", p[i]);
    if (show < n)
        cf_buf_printf(w->text, " ...");
    cf_buf_add(w->text, "\n", 1);
}

static void log_end(cf_wire *w, int from_iut, int reset)
{
    if (!w || !w->pcap)
        return;
    if (reset)
        cf_pcap_rst(w->pcap, w->conn, from_iut, cf_wall_us());
    else
        cf_pcap_fin(w->pcap, w->conn, from_iut, cf_wall_us());
}

void cf_io_shutdown(int fd, cf_wire *w)
{
    shutdown(fd, SHUT_WR);
    log_end(w, 0, 0);
}

void cf_io_close(int fd, cf_wire *w)
{
    close(fd);
    log_end(w, 0, 0);
}

void cf_io_reset(int fd, cf_wire *w)
{
    /* a zero linger time turns the close into an abort: RST on TCP; a
     * UNIX-domain peer sees ECONNRESET when data was unread, else EOF */
    struct linger l = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close(fd);
    log_end(w, 0, 1);
}

/* ------------------------------------------------------------ I/O loops */

#define CF_RX_CAP ((size_t)32 * 1024 * 1024)
#define CF_STALL_MS 3000
#define CF_HOLD_SNDBUF (1024 * 1024)
#define CF_XSTR(x) #x
#define CF_STR(x) CF_XSTR(x)

/* Drain until EAGAIN, but never past byte upto of the stream (SIZE_MAX:
 * no bound): what is left unread stays in the IUT's way. */
static int read_some(int fd, cf_buf *rx, size_t upto, int *closed, cf_wire *w)
{
    uint8_t tmp[65536];
    for (;;) {
        size_t want = sizeof tmp;
        if (upto != SIZE_MAX) {
            if (rx->len >= upto)
                return 0;
            if (upto - rx->len < want)
                want = upto - rx->len;
        }
        ssize_t n = read(fd, tmp, want);
        if (n > 0) {
            cf_log_bytes(w, 1, tmp, (size_t)n);
            if (rx->len + (size_t)n <= CF_RX_CAP)
                cf_buf_add(rx, tmp, (size_t)n);
            continue;
        }
        if (n == 0) {
            if (!*closed) {
                cf_log_note(w, "IUT closed the connection (EOF)");
                log_end(w, 1, 0);
            }
            *closed = 1;
            return -1;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        if (!*closed) {
            char m[96];
            snprintf(m, sizeof m, "read: %s (connection closed)", strerror(errno));
            cf_log_note(w, m);
            log_end(w, 1, errno == ECONNRESET);
        }
        *closed = 1;
        return -1;
    }
}

int cf_io_write(int fd, const uint8_t *buf, size_t len, size_t chunk, int gap_ms, cf_buf *rx,
                int *closed, cf_wire *w)
{
    size_t off = 0;
    /* a stall is time without progress: a slow reader is not a deaf one */
    long deadline = cf_now_ms() + CF_STALL_MS;
    while (off < len) {
        size_t want = len - off;
        if (chunk && want > chunk)
            want = chunk;
        struct pollfd pf = {fd, (short)(POLLOUT | (*closed || !rx ? 0 : POLLIN)), 0};
        long left = deadline - cf_now_ms();
        if (left <= 0) {
            cf_log_note(w, "write stalled: the IUT read nothing for " CF_STR(CF_STALL_MS) " ms");
            return -2;
        }
        int pr = poll(&pf, 1, (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (rx && (pf.revents & (POLLIN | POLLHUP | POLLERR)))
            read_some(fd, rx, SIZE_MAX, closed, w);
        if (!(pf.revents & POLLOUT)) {
            if (pf.revents & (POLLHUP | POLLERR)) {
                *closed = 1;
                return -1;
            }
            continue;
        }
        ssize_t n = send(fd, buf + off, want, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            char m[96];
            snprintf(m, sizeof m, "write: %s", strerror(errno));
            cf_log_note(w, m);
            *closed = 1;
            return -1;
        }
        cf_log_bytes(w, 0, buf + off, (size_t)n);
        off += (size_t)n;
        deadline = cf_now_ms() + CF_STALL_MS;
        if (chunk && gap_ms > 0 && off < len) {
            long until = cf_now_ms() + gap_ms;
            long l;
            while ((l = until - cf_now_ms()) > 0) {
                struct pollfd rp = {fd, POLLIN, 0};
                if (*closed || !rx) {
                    cf_sleep_ms((int)l);
                    break;
                }
                if (poll(&rp, 1, (int)l) > 0)
                    read_some(fd, rx, SIZE_MAX, closed, w);
            }
        }
    }
    return 0;
}

/* Read until done(ctx) (NULL: never) or rx holds upto bytes (SIZE_MAX: no
 * bound; never read past it): 0; closed: -1; the deadline: 1; quiet_us (0:
 * none) without a byte: 2. Waits use ppoll: poll's whole milliseconds would
 * make a sub-millisecond quiet window a whole one or more. */
static int read_loop(int fd, long deadline, cf_buf *rx, size_t upto, long quiet_us, int *closed,
                     cf_wire *w, int (*done)(void *ctx), void *ctx)
{
    for (;;) {
        if ((done && done(ctx)) || rx->len >= upto)
            return 0;
        if (*closed)
            return -1;
        long long left = (long long)deadline * 1000 - cf_now_us();
        if (left <= 0)
            return 1;
        long long wait = quiet_us > 0 && quiet_us < left ? quiet_us : left;
        struct timespec ts = {(time_t)(wait / 1000000), (long)(wait % 1000000) * 1000L};
        struct pollfd pf = {fd, POLLIN, 0};
        int pr = ppoll(&pf, 1, &ts, NULL);
        if (pr < 0 && errno != EINTR)
            return -1;
        if (pr == 0 && quiet_us > 0 && wait == quiet_us)
            return 2;
        if (pr > 0)
            read_some(fd, rx, upto, closed, w);
    }
}

int cf_io_read_until(int fd, long deadline, cf_buf *rx, int *closed, cf_wire *w,
                     int (*done)(void *ctx), void *ctx)
{
    return read_loop(fd, deadline, rx, SIZE_MAX, 0, closed, w, done, ctx);
}

int cf_io_read_until_quiet(int fd, long deadline, long quiet_us, cf_buf *rx, int *closed,
                           cf_wire *w, int (*done)(void *ctx), void *ctx)
{
    return read_loop(fd, deadline, rx, SIZE_MAX, quiet_us, closed, w, done, ctx);
}

int cf_io_read_upto(int fd, long deadline, cf_buf *rx, size_t upto, int *closed, cf_wire *w)
{
    return read_loop(fd, deadline, rx, upto, 0, closed, w, NULL, NULL);
}

int cf_io_read_quiet(int fd, long deadline, long quiet_us, cf_buf *rx, int *closed, cf_wire *w)
{
    return read_loop(fd, deadline, rx, SIZE_MAX, quiet_us, closed, w, NULL, NULL);
}

void cf_io_hold(int fd)
{
    /* our own send buffer at least CF_HOLD_SNDBUF (the kernel caps it at
     * net.core.wmem_max and doubles it): a burst the IUT cannot echo until
     * we read must still fit between us and it without stalling our write */
    int have = 0;
    socklen_t l = sizeof have;
    if (getsockopt(fd, SOL_SOCKET, SO_SNDBUF, &have, &l) == 0 && have < CF_HOLD_SNDBUF) {
        int want = CF_HOLD_SNDBUF;
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &want, sizeof want);
    }
}

/* ------------------------------------------------------------ output paths */
