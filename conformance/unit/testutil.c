#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int test_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own fd */
}

static int fds_at_setup;

int test_fd_setup(void **state)
{
    (void)state;
    fds_at_setup = test_count_fds();
    return 0;
}

int test_fd_teardown(void **state)
{
    (void)state;
    int now = test_count_fds();
    if (now != fds_at_setup) {
        fprintf(stderr, "fd count changed: %d at setup, %d at teardown\n", fds_at_setup, now);
        return -1;
    }
    return 0;
}

int test_fd_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1 || errno != EBADF;
}

void test_write_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            abort();
        p += w;
        len -= (size_t)w;
    }
}

#include <poll.h>
#include <sys/socket.h>

#include "spwire/error.h"
#include "spwire/handshake.h"

int test_raw_peer(spw_listener *l)
{
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        abort();
    if (spw_listener_set_int(l, SPW_OPT_SOCKET_FD, sv[0]) != SPW_OK)
        abort();
    return sv[1];
}

void test_send_header(int fd, uint16_t proto)
{
    uint8_t hdr[SPW_HANDSHAKE_SIZE];
    spw_handshake_encode(hdr, proto);
    test_write_all(fd, hdr, sizeof hdr);
}

size_t test_read_full(int fd, void *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 5000) <= 0)
            break;
        ssize_t r = read(fd, (char *)buf + got, len - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    return got;
}

void test_pipe_pair(uint16_t proto_a, uint16_t proto_b, spw_pipe **a, spw_pipe **b)
{
    int sv[2];
    spw_listener *la, *lb;
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 ||
        spw_listener_create(&la, proto_a, SPW_URL, NULL) != SPW_OK ||
        spw_listener_create(&lb, proto_b, SPW_URL, NULL) != SPW_OK ||
        spw_listener_set_int(la, SPW_OPT_SOCKET_FD, sv[0]) != SPW_OK ||
        spw_listener_set_int(lb, SPW_OPT_SOCKET_FD, sv[1]) != SPW_OK ||
        spw_listener_accept(la, a, 5000) != SPW_OK || spw_listener_accept(lb, b, 5000) != SPW_OK)
        abort();
    spw_listener_close(la);
    spw_listener_close(lb);
}
