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

/* A pending fd: handshake in progress, or done and waiting for accept. */
enum pending_state {
    PENDING_HANDSHAKE = 0,
    PENDING_READY,
};

struct pending {
    spw_pipe *pipe;
    int64_t deadline; /* absolute, -1 none: fixed when the fd was set */
    enum pending_state state;
};

/* Why a handshake failed: one counter each (options.h). */
enum fail_reason {
    FAIL_TIMEOUT = 0,
    FAIL_PROTO,
    FAIL_CLOSED,
    FAIL_SYSTEM,
    FAIL_REASONS,
};

struct spw_listener {
    const spw_allocator *alloc;
    uint16_t proto;
    uint64_t recvmax;
    int hs_timeout_ms;
    int pending_max;
    int failures[FAIL_REASONS];
    struct pending *q; /* in the order the fds were set */
    size_t q_cap;
    /* One slot per queue slot, grown by the set, so accept never
     * allocates (it has no SPW_ENOMEM in its contract). */
    struct pollfd *pfds;
    size_t pfds_cap;
    size_t n;
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
    l->pending_max = SPW_PENDING_MAX_DEFAULT;
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

static enum fail_reason reason_of(int code)
{
    switch (code) {
    case SPW_ETIMEDOUT:
        return FAIL_TIMEOUT;
    case SPW_EPROTO:
        return FAIL_PROTO;
    case SPW_ECLOSED:
    case SPW_ECONNRESET:
        return FAIL_CLOSED;
    default:
        return FAIL_SYSTEM;
    }
}

/* Close a pending fd whose handshake failed with code, and count it. */
static void reap(spw_listener *l, size_t i, int code)
{
    spw_pipe_close(l->q[i].pipe);
    remove_at(l, i);
    l->failures[reason_of(code)]++;
}

static int total_failures(const spw_listener *l)
{
    int t = 0;
    for (int r = 0; r < FAIL_REASONS; r++)
        t += l->failures[r];
    return t;
}

/* Grow the queue and the poll array to hold one more fd. */
static int reserve_slot(spw_listener *l)
{
    size_t need = l->n + 1;
    if (l->q_cap < need) {
        size_t ncap = l->q_cap ? l->q_cap * 2 : 4;
        void *nq = l->alloc->realloc(l->alloc->ctx, l->q, l->q_cap * sizeof l->q[0],
                                     ncap * sizeof l->q[0]);
        if (!nq)
            return SPW_ENOMEM;
        l->q = nq;
        l->q_cap = ncap;
    }
    if (l->pfds_cap < need) {
        size_t ncap = l->q_cap;
        void *np = l->alloc->realloc(l->alloc->ctx, l->pfds, l->pfds_cap * sizeof l->pfds[0],
                                     ncap * sizeof l->pfds[0]);
        if (!np)
            return SPW_ENOMEM;
        l->pfds = np;
        l->pfds_cap = ncap;
    }
    return SPW_OK;
}

/* One non-blocking pass over the pending pipes: close the late first (a
 * handshake must be complete by its deadline, not merely when a call
 * happens to look), advance the rest, close the failed. Fills l->pfds for
 * those still waiting and returns how many; *first_deadline gets the
 * earliest handshake deadline among them (-1 none). */
static size_t drive(spw_listener *l, int64_t *first_deadline)
{
    size_t np = 0;
    int64_t now = spw__now_ms();
    *first_deadline = -1;
    for (size_t i = 0; i < l->n;) {
        struct pending *pe = &l->q[i];
        if (pe->state == PENDING_READY) {
            i++;
            continue;
        }
        if (pe->deadline >= 0 && now >= pe->deadline) {
            reap(l, i, SPW_ETIMEDOUT);
            continue;
        }
        short ev = 0;
        int rc = spw__pipe_handshake_step(pe->pipe, &ev);
        if (rc == SPW_HANDSHAKE_DONE) {
            pe->state = PENDING_READY;
            i++;
            continue;
        }
        if (rc < 0) {
            reap(l, i, rc);
            continue;
        }
        if (pe->deadline >= 0 && (*first_deadline < 0 || pe->deadline < *first_deadline))
            *first_deadline = pe->deadline;
        l->pfds[np++] = (struct pollfd){.fd = spw_pipe_fd(pe->pipe), .events = ev};
        i++;
    }
    return np;
}

static void service(spw_listener *l)
{
    int64_t ignored;
    (void)drive(l, &ignored);
}

static int add_fd(spw_listener *l, int fd)
{
    int rc = spw__check_stream_socket(fd);
    if (rc != SPW_OK)
        return rc;
    /* Slots freed by late or failed handshakes count before the cap does. */
    service(l);
    if (l->n >= (size_t)l->pending_max)
        return SPW_ENOSPC;
    /* Allocate everything before touching the fd, so SPW_ENOMEM leaves it
     * exactly as it was. */
    if ((rc = reserve_slot(l)) != SPW_OK)
        return rc;
    spw_pipe *p;
    if ((rc = spw__pipe_new(&p, fd, l->proto, l->recvmax, l->alloc)) != SPW_OK)
        return rc;
    struct spw__fd_flags old;
    if ((rc = spw__make_nonblocking(fd, &old)) != SPW_OK) {
        spw__pipe_disown(p);
        return rc;
    }
    /* Our header goes out now, so a peer that waits for it before sending
     * its own is not stalled until accept. If that first write fails with
     * nothing sent, the peer is already gone: the fd goes back as it was. */
    if ((rc = spw__pipe_handshake_start(p)) != SPW_OK) {
        spw__pipe_disown(p);
        spw__restore_flags(fd, &old);
        return rc == SPW_ECONNRESET ? SPW_ECLOSED : rc;
    }
    /* From here spwire owns the fd; any later failure is a counted
     * handshake failure. */
    l->q[l->n++] = (struct pending){p, spw__deadline(l->hs_timeout_ms), PENDING_HANDSHAKE};
    service(l);
    return SPW_OK;
}

int spw_listener_accept(spw_listener *l, spw_pipe **pipe, int timeout_ms)
{
    if (!l || !pipe)
        return SPW_EINVAL;
    *pipe = 0;
    int64_t deadline = spw__deadline(timeout_ms);
    for (;;) {
        int64_t hs_deadline;
        size_t np = drive(l, &hs_deadline);
        for (size_t i = 0; i < l->n; i++) {
            if (l->q[i].state == PENDING_READY) {
                *pipe = l->q[i].pipe;
                remove_at(l, i);
                return SPW_OK;
            }
        }
        /* One thread per listener: no fd can be set while we wait, so with
         * nothing pending waiting could only ever time out. */
        if (l->n == 0)
            return SPW_EIDLE;
        if (spw__remaining(deadline) == 0)
            return SPW_ETIMEDOUT;
        int64_t wake = deadline;
        if (hs_deadline >= 0 && (wake < 0 || hs_deadline < wake))
            wake = hs_deadline;
        if (poll(l->pfds, (nfds_t)np, spw__remaining(wake)) < 0 && errno != EINTR)
            return SPW_ESYSTEM;
    }
}

int spw_listener_pending(spw_listener *l)
{
    if (!l)
        return 0;
    service(l);
    return (int)l->n;
}

void spw_listener_close(spw_listener *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        spw_pipe_close(l->q[i].pipe);
    if (l->q)
        l->alloc->free(l->alloc->ctx, l->q, l->q_cap * sizeof l->q[0]);
    if (l->pfds)
        l->alloc->free(l->alloc->ctx, l->pfds, l->pfds_cap * sizeof l->pfds[0]);
    l->alloc->free(l->alloc->ctx, l, sizeof *l);
}

/* The read-only failure counts: the index into l->failures, FAIL_REASONS
 * for the total, -1 for another name. */
static int failure_option(const char *name)
{
    static const struct {
        const char *name;
        int reason;
    } opts[] = {
        {SPW_OPT_HANDSHAKE_FAILURES, FAIL_REASONS},
        {SPW_OPT_HANDSHAKE_FAILURES_TIMEOUT, FAIL_TIMEOUT},
        {SPW_OPT_HANDSHAKE_FAILURES_PROTO, FAIL_PROTO},
        {SPW_OPT_HANDSHAKE_FAILURES_CLOSED, FAIL_CLOSED},
        {SPW_OPT_HANDSHAKE_FAILURES_SYSTEM, FAIL_SYSTEM},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        if (strcmp(name, opts[i].name) == 0)
            return opts[i].reason;
    return -1;
}

static int is_listener_opt(const char *name)
{
    return strcmp(name, SPW_OPT_SOCKET_FD) == 0 || strcmp(name, SPW_OPT_RECVMAXSZ) == 0 ||
           strcmp(name, SPW_OPT_HANDSHAKE_TIMEOUT) == 0 || failure_option(name) >= 0 ||
           strcmp(name, SPW_OPT_PENDING_MAX) == 0 || strcmp(name, SPW_OPT_PROTO) == 0 ||
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
    if (strcmp(name, SPW_OPT_PENDING_MAX) == 0) {
        if (val < 1)
            return SPW_EINVAL;
        l->pending_max = val;
        return SPW_OK;
    }
    if (failure_option(name) >= 0 || strcmp(name, SPW_OPT_PROTO) == 0)
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
    if (strcmp(name, SPW_OPT_PENDING_MAX) == 0) {
        *val = l->pending_max;
        return SPW_OK;
    }
    int reason = failure_option(name);
    if (reason >= 0) {
        /* Count what has already failed, not what failed at the last
         * accept: a late peer is closed here too. */
        service(l);
        *val = reason == FAIL_REASONS ? total_failures(l) : l->failures[reason];
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
