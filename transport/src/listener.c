#include "spwire/listener.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "pipe_internal.h"
#include "spwire/error.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"

struct pending {
    spw_pipe *pipe;
    int64_t deadline; /* absolute, -1 none: fixed when the fd was set */
    int ready;
};

struct spw_listener {
    const spw_allocator *alloc;
    uint16_t proto;
    uint64_t recvmax;
    int hs_timeout_ms;
    int failures;
    struct pending *q; /* in the order the fds were set */
    size_t n, cap;
};

int spw_listener_create(spw_listener **out, uint16_t proto, const char *url,
                        const spw_allocator *alloc)
{
    if (!out)
        return SPW_EINVAL;
    *out = 0;
    if (!url || strcmp(url, SPW_URL) != 0)
        return SPW_EADDRINVAL;
    if (!spw_proto_known(proto))
        return SPW_ENOTSUP;
    const spw_allocator *a = spw_allocator_or_default(alloc);
    spw_listener *l = a->realloc(a->ctx, 0, 0, sizeof *l);
    if (!l)
        return SPW_ENOMEM;
    *l = (spw_listener){0};
    l->alloc = a;
    l->proto = proto;
    l->recvmax = SPW_RECVMAX_DEFAULT;
    l->hs_timeout_ms = SPW_HANDSHAKE_TIMEOUT_DEFAULT_MS;
    *out = l;
    return SPW_OK;
}

int spw_dialer_create(spw_dialer **d, uint16_t proto, const char *url)
{
    (void)proto;
    (void)url;
    if (!d)
        return SPW_EINVAL;
    *d = 0;
    return SPW_ENOTSUP;
}

static void remove_at(spw_listener *l, size_t i)
{
    memmove(&l->q[i], &l->q[i + 1], (l->n - i - 1) * sizeof l->q[0]);
    l->n--;
}

static void reap(spw_listener *l, size_t i)
{
    spw_pipe_close(l->q[i].pipe);
    remove_at(l, i);
    l->failures++;
}

static int add_fd(spw_listener *l, int fd)
{
    int rc = spw__check_stream_socket(fd);
    if (rc != SPW_OK)
        return rc;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 4;
        void *nq = l->alloc->realloc(l->alloc->ctx, l->q, l->cap * sizeof l->q[0],
                                     ncap * sizeof l->q[0]);
        if (!nq)
            return SPW_ENOMEM;
        l->q = nq;
        l->cap = ncap;
    }
    int old_flags;
    if ((rc = spw__make_nonblocking(fd, &old_flags)) != SPW_OK)
        return rc;
    spw_pipe *p;
    if ((rc = spw__pipe_new(&p, fd, l->proto, l->recvmax, l->alloc)) != SPW_OK) {
        spw__restore_flags(fd, old_flags);
        return rc;
    }
    /* From here spwire owns the fd. Our header goes out now, so a peer that
     * waits for it before sending its own is not stalled until accept. */
    l->q[l->n++] = (struct pending){p, spw__deadline(l->hs_timeout_ms), 0};
    short ev;
    if (spw__pipe_handshake_step(p, &ev) == SPW_HANDSHAKE_DONE)
        l->q[l->n - 1].ready = 1;
    return SPW_OK;
}

/* One non-blocking pass over the pending pipes: advance each handshake,
 * drop the failed and the late. Fills pfds (for those still waiting) and
 * returns how many; *first_deadline gets the earliest handshake deadline. */
static size_t drive(spw_listener *l, struct pollfd *pfds, int64_t *first_deadline)
{
    size_t np = 0;
    int64_t now = spw__now_ms();
    *first_deadline = -1;
    for (size_t i = 0; i < l->n;) {
        struct pending *pe = &l->q[i];
        if (pe->ready) {
            i++;
            continue;
        }
        short ev = 0;
        int rc = spw__pipe_handshake_step(pe->pipe, &ev);
        if (rc == SPW_HANDSHAKE_DONE) {
            pe->ready = 1;
            i++;
            continue;
        }
        if (rc < 0 || (pe->deadline >= 0 && now >= pe->deadline)) {
            reap(l, i);
            continue;
        }
        if (pe->deadline >= 0 && (*first_deadline < 0 || pe->deadline < *first_deadline))
            *first_deadline = pe->deadline;
        pfds[np++] = (struct pollfd){.fd = spw_pipe_fd(pe->pipe), .events = ev};
        i++;
    }
    return np;
}

int spw_listener_accept(spw_listener *l, spw_pipe **pipe, int timeout_ms)
{
    if (!l || !pipe)
        return SPW_EINVAL;
    *pipe = 0;
    int64_t deadline = spw__deadline(timeout_ms);
    struct pollfd *pfds = 0;
    size_t pfds_cap = 0;
    int rc;
    for (;;) {
        if (pfds_cap < l->n) {
            void *np = l->alloc->realloc(l->alloc->ctx, pfds, pfds_cap * sizeof *pfds,
                                         l->n * sizeof *pfds);
            if (!np) {
                rc = SPW_ENOMEM;
                break;
            }
            pfds = np;
            pfds_cap = l->n;
        }
        int64_t hs_deadline;
        size_t np = drive(l, pfds, &hs_deadline);
        size_t i;
        for (i = 0; i < l->n && !l->q[i].ready; i++)
            ;
        if (i < l->n) {
            *pipe = l->q[i].pipe;
            remove_at(l, i);
            rc = SPW_OK;
            break;
        }
        /* Nothing pending: no fd can be set during this call (one thread per
         * listener), so waiting could only ever time out. */
        if (np == 0 || spw__remaining(deadline) == 0) {
            rc = SPW_ETIMEDOUT;
            break;
        }
        int64_t wake = deadline;
        if (hs_deadline >= 0 && (wake < 0 || hs_deadline < wake))
            wake = hs_deadline;
        int prc = poll(pfds, (nfds_t)np, spw__remaining(wake));
        if (prc < 0 && errno != EINTR) {
            rc = SPW_ESYSTEM;
            break;
        }
    }
    if (pfds)
        l->alloc->free(l->alloc->ctx, pfds, pfds_cap * sizeof *pfds);
    return rc;
}

int spw_listener_pending(const spw_listener *l)
{
    return l ? (int)l->n : 0;
}

void spw_listener_close(spw_listener *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        spw_pipe_close(l->q[i].pipe);
    if (l->q)
        l->alloc->free(l->alloc->ctx, l->q, l->cap * sizeof l->q[0]);
    l->alloc->free(l->alloc->ctx, l, sizeof *l);
}

static int is_listener_opt(const char *name)
{
    return strcmp(name, SPW_OPT_SOCKET_FD) == 0 || strcmp(name, SPW_OPT_RECVMAXSZ) == 0 ||
           strcmp(name, SPW_OPT_HANDSHAKE_TIMEOUT) == 0 ||
           strcmp(name, SPW_OPT_HANDSHAKE_FAILURES) == 0 || strcmp(name, SPW_OPT_PROTO) == 0 ||
           strcmp(name, SPW_OPT_LOCADDR) == 0;
}

int spw_listener_set_int(spw_listener *l, const char *name, int val)
{
    if (!l || !name)
        return SPW_EINVAL;
    if (strcmp(name, SPW_OPT_SOCKET_FD) == 0)
        return add_fd(l, val);
    if (strcmp(name, SPW_OPT_HANDSHAKE_TIMEOUT) == 0) {
        if (val < -1)
            return SPW_EINVAL;
        l->hs_timeout_ms = val;
        return SPW_OK;
    }
    if (strcmp(name, SPW_OPT_HANDSHAKE_FAILURES) == 0 || strcmp(name, SPW_OPT_PROTO) == 0)
        return SPW_EREADONLY;
    return is_listener_opt(name) ? SPW_EBADTYPE : SPW_ENOENT;
}

int spw_listener_get_int(spw_listener *l, const char *name, int *val)
{
    if (!l || !name || !val)
        return SPW_EINVAL;
    if (strcmp(name, SPW_OPT_SOCKET_FD) == 0)
        return SPW_EWRITEONLY;
    if (strcmp(name, SPW_OPT_HANDSHAKE_TIMEOUT) == 0) {
        *val = l->hs_timeout_ms;
        return SPW_OK;
    }
    if (strcmp(name, SPW_OPT_HANDSHAKE_FAILURES) == 0) {
        *val = l->failures;
        return SPW_OK;
    }
    if (strcmp(name, SPW_OPT_PROTO) == 0) {
        *val = l->proto;
        return SPW_OK;
    }
    return is_listener_opt(name) ? SPW_EBADTYPE : SPW_ENOENT;
}

int spw_listener_set_size(spw_listener *l, const char *name, uint64_t val)
{
    if (!l || !name)
        return SPW_EINVAL;
    if (strcmp(name, SPW_OPT_RECVMAXSZ) == 0) {
        l->recvmax = val;
        return SPW_OK;
    }
    return is_listener_opt(name) ? SPW_EBADTYPE : SPW_ENOENT;
}

int spw_listener_get_size(spw_listener *l, const char *name, uint64_t *val)
{
    if (!l || !name || !val)
        return SPW_EINVAL;
    if (strcmp(name, SPW_OPT_RECVMAXSZ) == 0) {
        *val = l->recvmax;
        return SPW_OK;
    }
    return is_listener_opt(name) ? SPW_EBADTYPE : SPW_ENOENT;
}

int spw_listener_get_addr(spw_listener *l, const char *name, spw_sockaddr *val)
{
    if (!l || !name || !val)
        return SPW_EINVAL;
    if (strcmp(name, SPW_OPT_LOCADDR) == 0) {
        val->family = SPW_AF_UNSPEC;
        return SPW_OK;
    }
    return is_listener_opt(name) ? SPW_EBADTYPE : SPW_ENOENT;
}
