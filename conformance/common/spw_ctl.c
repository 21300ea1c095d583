/* spw_ctl.c -- the {ctl} adapter (spw_ctl.h). */
#define _GNU_SOURCE /* MSG_CMSG_CLOEXEC */
#include "spw_ctl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Counts the fds an SCM_RIGHTS message brought in, keeps the first in
 * *first (-1: none) and closes the others. */
static int take_rights(struct msghdr *mh, int *first)
{
    int n = 0;

    *first = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < k; i++) {
            int fd;
            memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
            if (n++ == 0)
                *first = fd;
            else
                close(fd);
        }
    }
    return n;
}

int spw_ctl_recv(int ctl, int nonblock, const char *prog, int *fd)
{
    /* Room for one int only: the kernel truncates (MSG_CTRUNC) and closes
     * whatever does not fit, so a message with more fds cannot leak them. */
    union {
        char buf[CMSG_SPACE(sizeof(int))];
        struct cmsghdr align;
    } u;
    unsigned char byte = 0;
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    struct msghdr mh;
    ssize_t n;
    int got, first;

    *fd = -1;
    for (;;) {
        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof u.buf;
        n = recvmsg(ctl, &mh, MSG_CMSG_CLOEXEC | (nonblock ? MSG_DONTWAIT : 0));
        if (n >= 0 || errno != EINTR)
            break;
    }
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return SPW_CTL_AGAIN;
        fprintf(stderr, "%s: --ctl %d: recvmsg: %s; no more connections\n", prog, ctl,
                strerror(errno));
        return SPW_CTL_EOF;
    }
    got = take_rights(&mh, &first);
    if (n == 0 && got == 0)
        return SPW_CTL_EOF;
    if (n == 1 && byte == SPW_CTL_BYTE && got == 1 && !(mh.msg_flags & MSG_CTRUNC)) {
        *fd = first;
        return SPW_CTL_FD;
    }
    if (first >= 0)
        close(first);
    fprintf(stderr, "%s: --ctl %d: ignored a bad message (byte 0x%02x, %d fd(s)%s)\n", prog, ctl,
            (unsigned)byte, got, (mh.msg_flags & MSG_CTRUNC) ? ", more fds truncated" : "");
    return SPW_CTL_BAD;
}

int spw_ctl_send(int ctl, int fd)
{
    char byte = SPW_CTL_BYTE;
    struct iovec iov = {&byte, 1};
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int))];
    } u;
    memset(&u, 0, sizeof u);
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
                       .msg_controllen = sizeof u.buf};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    for (;;) {
        ssize_t n = sendmsg(ctl, &m, MSG_NOSIGNAL);
        if (n == 1)
            return 0;
        if (n < 0 && errno == EINTR)
            continue;
        return -1;
    }
}
