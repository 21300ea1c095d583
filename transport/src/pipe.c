#include "spwire/pipe.h"

#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <errno.h>

#include "fdio.h"
#include "pipe_internal.h"
#include "spwire/error.h"
#include "spwire/handshake.h"

/* Read buffer size: large enough that a 64 KiB message needs few syscalls.
 * Allocated by the first receive, so a pending fd (still in its handshake)
 * costs only the struct below. */
#define PIPE_RBUF_SIZE ((size_t)64 * 1024)

struct spw_pipe {
    int fd;
    int sys_errno;
    int broken; /* sticky fatal code, 0 while healthy */
    const spw_allocator *alloc;
    spw_handshake hs;
    spw_decoder dec;
    uint8_t *rbuf; /* NULL until the first receive */
    size_t rpos, rlen;
};

int spw__pipe_new(spw_pipe **out, int fd, uint16_t proto, uint64_t recvmax,
                  const spw_allocator *alloc)
{
    const spw_allocator *a = spw_allocator_or_default(alloc);
    spw_pipe *p = a->realloc(a->ctx, 0, 0, sizeof *p);
    if (!p)
        return SPW_ENOMEM;
    memset(p, 0, sizeof *p);
    p->fd = fd;
    p->alloc = a;
    spw_handshake_init(&p->hs, proto);
    spw_decoder_init(&p->dec, recvmax, a);
    *out = p;
    return SPW_OK;
}

/* A fatal error: remember it and tell the peer at once, so it does not wait
 * on a connection we will never use again. The fd stays open until close. */
static int break_pipe(spw_pipe *p, int code)
{
    if (code == SPW_ESYSTEM)
        p->sys_errno = errno;
    if (!p->broken) {
        p->broken = code;
        (void)shutdown(p->fd, SHUT_RDWR);
    }
    return code;
}

int spw__pipe_handshake_start(spw_pipe *p)
{
    size_t pending;
    const uint8_t *out = spw_handshake_output(&p->hs, &pending);
    ssize_t w = spw__write_some(p->fd, out, pending, 0, 0);
    if (w < 0) {
        /* No break_pipe: its shutdown would change an fd that goes back
         * to the caller. */
        if (w == SPW_ESYSTEM)
            p->sys_errno = errno;
        return (int)w;
    }
    spw_handshake_sent(&p->hs, (size_t)w);
    return SPW_OK;
}

void spw__pipe_disown(spw_pipe *p)
{
    const spw_allocator *a = p->alloc;
    spw_decoder_fini(&p->dec);
    a->free(a->ctx, p, sizeof *p);
}

int spw__pipe_handshake_step(spw_pipe *p, short *events)
{
    if (p->broken)
        return p->broken;
    size_t pending;
    const uint8_t *out = spw_handshake_output(&p->hs, &pending);
    if (pending) {
        ssize_t w = spw__write_some(p->fd, out, pending, 0, 0);
        if (w < 0)
            return break_pipe(p, (int)w);
        spw_handshake_sent(&p->hs, (size_t)w);
    }
    /* Read no more than the header bytes still missing: the engine would
     * leave the rest unconsumed, and keeping it needs the read buffer a
     * pending fd does not have. Whatever follows stays in the socket. */
    while (p->hs.state == SPW_HS_RECEIVING) {
        uint8_t in[SPW_HANDSHAKE_SIZE];
        ssize_t r = spw__read_some(p->fd, in, SPW_HANDSHAKE_SIZE - (size_t)p->hs.rx_have);
        if (r < 0)
            return break_pipe(p, (int)r);
        if (r == 0)
            break;
        size_t used;
        int rc = spw_handshake_feed(&p->hs, in, (size_t)r, &used);
        if (rc < 0)
            return break_pipe(p, rc);
    }
    if (spw_handshake_finished(&p->hs))
        return SPW_HANDSHAKE_DONE;
    spw_handshake_output(&p->hs, &pending);
    *events = (short)((pending ? POLLOUT : 0) | (p->hs.state == SPW_HS_RECEIVING ? POLLIN : 0));
    return SPW_HANDSHAKE_NEED_MORE;
}

int spw_pipe_send(spw_pipe *p, const void *data, size_t len, int timeout_ms)
{
    if (!p || (!data && len))
        return SPW_EINVAL;
    if (p->broken)
        return SPW_ECLOSED;
    uint8_t hdr[SPW_FRAME_HEADER_SIZE];
    spw_frame_encode_header(hdr, len);
    int64_t deadline = spw__deadline(timeout_ms);
    size_t total = len + SPW_FRAME_HEADER_SIZE, sent = 0;
    while (sent < total) {
        size_t hoff = sent < SPW_FRAME_HEADER_SIZE ? sent : SPW_FRAME_HEADER_SIZE;
        size_t boff = sent - hoff;
        /* No offset on NULL: pipe.h allows (NULL, 0), and NULL + 0 is
         * undefined in C. */
        const void *body = len ? (const uint8_t *)data + boff : data;
        ssize_t w = spw__write_some(p->fd, hdr + hoff, SPW_FRAME_HEADER_SIZE - hoff, body,
                                    len - boff);
        if (w < 0)
            return break_pipe(p, (int)w);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        int rc = spw__wait_fd(p->fd, POLLOUT, deadline);
        if (rc == SPW_ETIMEDOUT && sent == 0)
            return SPW_ETIMEDOUT;
        if (rc == SPW_ETIMEDOUT) {
            break_pipe(p, SPW_ECLOSED);
            return SPW_ECLOSED;
        }
        if (rc != SPW_OK)
            return break_pipe(p, rc);
    }
    return SPW_OK;
}

int spw_pipe_recv(spw_pipe *p, spw_msg *msg, int timeout_ms)
{
    if (!p || !msg)
        return SPW_EINVAL;
    msg->data = 0;
    msg->len = 0;
    if (p->broken)
        return p->broken;
    if (!p->rbuf) {
        p->rbuf = p->alloc->realloc(p->alloc->ctx, 0, 0, PIPE_RBUF_SIZE);
        if (!p->rbuf)
            return break_pipe(p, SPW_ENOMEM);
    }
    int64_t deadline = spw__deadline(timeout_ms);
    for (;;) {
        while (p->rpos < p->rlen) {
            size_t used;
            int rc = spw_decoder_feed(&p->dec, p->rbuf + p->rpos, p->rlen - p->rpos, &used, msg);
            p->rpos += used;
            if (rc == SPW_FRAME_MESSAGE)
                return SPW_OK;
            if (rc < 0)
                return break_pipe(p, rc);
        }
        p->rpos = p->rlen = 0;
        /* Inside a large body, read straight into the message: one copy
         * less, and reads as large as the body has room for. */
        uint8_t *direct;
        size_t room;
        int drc = spw_decoder_body_space(&p->dec, &direct, &room);
        if (drc < 0)
            return break_pipe(p, drc);
        ssize_t r;
        /* While much of the body is still to come, read straight into it
         * even when only a sliver of room is left: the next round finds the
         * buffer full and doubles it, and from then on reads are large. Going
         * through rbuf instead would copy every byte once more (the decoder
         * grows to exactly what a feed brings, so the room stays small). */
        size_t left = spw_decoder_body_remaining(&p->dec);
        if (room >= PIPE_RBUF_SIZE / 2 || (room > 0 && left >= PIPE_RBUF_SIZE / 2)) {
            r = spw__read_some(p->fd, direct, room);
            if (r > 0) {
                if (spw_decoder_body_commit(&p->dec, (size_t)r, msg) == SPW_FRAME_MESSAGE)
                    return SPW_OK;
                continue;
            }
        } else {
            r = spw__read_some(p->fd, p->rbuf, PIPE_RBUF_SIZE);
            if (r > 0) {
                p->rlen = (size_t)r;
                continue;
            }
        }
        if (r < 0) {
            /* EOF mid-frame: the partial message is dropped, never delivered. */
            spw_decoder_reset(&p->dec);
            return break_pipe(p, (int)r);
        }
        int rc = spw__wait_fd(p->fd, POLLIN, deadline);
        if (rc == SPW_ETIMEDOUT)
            return rc;
        if (rc != SPW_OK)
            return break_pipe(p, rc);
    }
}

void spw_pipe_msg_free(spw_pipe *p, spw_msg *msg)
{
    spw_msg_free(msg, p ? p->alloc : 0);
}

void spw_pipe_close(spw_pipe *p)
{
    if (!p)
        return;
    const spw_allocator *a = p->alloc;
    spw_decoder_fini(&p->dec);
    (void)close(p->fd);
    if (p->rbuf)
        a->free(a->ctx, p->rbuf, PIPE_RBUF_SIZE);
    a->free(a->ctx, p, sizeof *p);
}

static int pipe_creds(spw_pipe *p, const char *name, uint64_t *val)
{
    uint64_t uid, gid, pid;
    if (strcmp(name, SPW_OPT_PEER_ZONEID) == 0)
        return SPW_ENOTSUP; /* zones exist only on illumos/Solaris */
    int rc = spw__peer_creds(p->fd, &uid, &gid, &pid);
    if (rc != SPW_OK)
        return rc;
    if (strcmp(name, SPW_OPT_PEER_UID) == 0)
        *val = uid;
    else if (strcmp(name, SPW_OPT_PEER_GID) == 0)
        *val = gid;
    else if (pid == UINT64_MAX)
        return SPW_ENOTSUP;
    else
        *val = pid;
    return SPW_OK;
}

static int is_cred(const char *name)
{
    return strcmp(name, SPW_OPT_PEER_UID) == 0 || strcmp(name, SPW_OPT_PEER_GID) == 0 ||
           strcmp(name, SPW_OPT_PEER_PID) == 0 || strcmp(name, SPW_OPT_PEER_ZONEID) == 0;
}

static int is_addr(const char *name)
{
    return strcmp(name, SPW_OPT_LOCADDR) == 0 || strcmp(name, SPW_OPT_REMADDR) == 0;
}

static int is_proto(const char *name)
{
    return strcmp(name, SPW_OPT_PROTO) == 0 || strcmp(name, SPW_OPT_PEER) == 0;
}

int spw_pipe_get_int(spw_pipe *p, const char *name, int *val)
{
    if (!p || !name || !val)
        return SPW_EINVAL;
    if (strcmp(name, SPW_OPT_PROTO) == 0) {
        *val = p->hs.self;
        return SPW_OK;
    }
    if (strcmp(name, SPW_OPT_PEER) == 0) {
        *val = spw_handshake_peer(&p->hs);
        return SPW_OK;
    }
    if (is_cred(name) || is_addr(name) || strcmp(name, SPW_OPT_RECVMAXSZ) == 0)
        return SPW_EBADTYPE;
    return SPW_ENOENT;
}

/* The one u64 accessor; spw_pipe_get_size is the same under NNG's other
 * name (options.h). */
int spw_pipe_get_u64(spw_pipe *p, const char *name, uint64_t *val)
{
    if (!p || !name || !val)
        return SPW_EINVAL;
    if (is_cred(name))
        return pipe_creds(p, name, val);
    if (strcmp(name, SPW_OPT_RECVMAXSZ) == 0) {
        *val = p->dec.limit;
        return SPW_OK;
    }
    if (is_proto(name) || is_addr(name))
        return SPW_EBADTYPE;
    return SPW_ENOENT;
}

int spw_pipe_get_size(spw_pipe *p, const char *name, uint64_t *val)
{
    return spw_pipe_get_u64(p, name, val);
}

int spw_pipe_set_size(spw_pipe *p, const char *name, uint64_t val)
{
    if (!p || !name)
        return SPW_EINVAL;
    if (strcmp(name, SPW_OPT_RECVMAXSZ) == 0) {
        spw_decoder_set_limit(&p->dec, val);
        return SPW_OK;
    }
    if (is_cred(name) || is_proto(name) || is_addr(name))
        return SPW_EREADONLY;
    return SPW_ENOENT;
}

int spw_pipe_get_addr(spw_pipe *p, const char *name, spw_sockaddr *val)
{
    if (!p || !name || !val)
        return SPW_EINVAL;
    if (is_addr(name)) {
        val->family = SPW_AF_UNSPEC;
        return SPW_OK;
    }
    if (is_cred(name) || is_proto(name) || strcmp(name, SPW_OPT_RECVMAXSZ) == 0)
        return SPW_EBADTYPE;
    return SPW_ENOENT;
}

int spw_pipe_fd(const spw_pipe *p)
{
    return p ? p->fd : -1;
}

size_t spw_pipe_buffered(const spw_pipe *p)
{
    return p ? p->rlen - p->rpos : 0;
}

int spw_pipe_sys_errno(const spw_pipe *p)
{
    return p ? p->sys_errno : 0;
}
