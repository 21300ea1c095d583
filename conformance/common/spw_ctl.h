/* spw_ctl.h -- the {ctl} adapter, both ends: spw-conform hands a persistent
 * socket:// IUT its connections over a control socket (spw_ctl_send); the
 * peers and the self-test IUT receive them (spw_ctl_recv, --ctl FD).
 *
 * A persistent socket:// IUT gets one connection per message on its ctl
 * socket (a UNIX-domain stream socket): one data byte 'F' with exactly one
 * fd in an SCM_RIGHTS control message.  The peer sets each fd on its
 * socket:// listener, as --fd does for the fds it starts with.  Nothing is
 * ever written back; EOF means no more connections will come.  The protocol
 * is documented for IUT authors in conformance/peers/README.md ("The {ctl}
 * adapter").
 */
#ifndef SPW_CTL_H
#define SPW_CTL_H

/* The data byte of every ctl message. */
#define SPW_CTL_BYTE 'F'

enum spw_ctl_result {
    /* *fd is a new connection; the caller owns it. */
    SPW_CTL_FD = 1,
    /* No more connections: the other end closed ctl, or recvmsg failed
     * (reported on stderr). */
    SPW_CTL_EOF = 0,
    /* A malformed message (another byte, no fd, more than one fd, truncated
     * control data): one line on stderr, every fd it carried closed; read
     * on. */
    SPW_CTL_BAD = -1,
    /* nonblock only: no message waiting. */
    SPW_CTL_AGAIN = -2
};

/* Receives one message from ctl and returns an spw_ctl_result; *fd is set
 * (close-on-exec) only for SPW_CTL_FD, else -1.  nonblock: do not wait
 * (MSG_DONTWAIT), for callers that poll ctl themselves; else block until a
 * message or EOF.  EINTR is retried.  prog names the program in the stderr
 * lines. */
int spw_ctl_recv(int ctl, int nonblock, const char *prog, int *fd);

/* Hand fd to the IUT as one message on ctl: the byte SPW_CTL_BYTE and fd
 * in an SCM_RIGHTS control message. The caller still owns (and closes)
 * its copy of fd. 0, or -1 (errno; EPIPE: the IUT closed its end). */
int spw_ctl_send(int ctl, int fd);

#endif /* SPW_CTL_H */
