/* peer_ctl.h -- the receiving end of the {ctl} adapter (--ctl FD).
 *
 * A persistent socket:// IUT gets one connection per message on its ctl
 * socket (a UNIX-domain stream socket): one data byte 'F' with exactly one
 * fd in an SCM_RIGHTS control message.  The peer sets each fd on its
 * socket:// listener, as --fd does for the fds it starts with.  Nothing is
 * ever written back; EOF means no more connections will come.  The protocol
 * is documented for IUT authors in conformance/peers/README.md ("The {ctl}
 * adapter").
 */
#ifndef SPW_PEER_CTL_H
#define SPW_PEER_CTL_H

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
int spw_peer_ctl_recv(int ctl, int nonblock, const char *prog, int *fd);

#endif /* SPW_PEER_CTL_H */
