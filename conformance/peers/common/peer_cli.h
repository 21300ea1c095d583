/* peer_cli.h -- command line shared by every spwire conformance peer.
 *
 * All peers (nng 1.5, nng 1.10, nanomsg, spwire's own spw-peer) accept the
 * same options; a backend states what it cannot do through spw_peer_caps and
 * the parser turns such requests into usage errors (exit code 2).
 */
#ifndef SPW_PEER_CLI_H
#define SPW_PEER_CLI_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "spwire/proto.h"

/* Behaviour modes. */
enum spw_mode {
    SPW_MODE_NONE = 0,
    SPW_MODE_SEND = 1, /* --send/--send-file/--size */
    SPW_MODE_RECV = 2, /* --recv */
    SPW_MODE_ECHO = 4  /* --echo */
};

enum spw_ep_kind {
    SPW_EP_NONE,
    SPW_EP_FD,         /* --fd N: inherited connected stream socket */
    SPW_EP_CTL,        /* --ctl N: connections arrive over a control socket
                        * (conformance/common/spw_ctl.h), for socket:// like --fd */
    SPW_EP_TCP_LISTEN, /* --tcp-listen URL, --ipc-listen URL */
    SPW_EP_TCP_CONNECT /* --tcp-connect URL, --ipc-connect URL */
};

/* What a backend supports; unsupported requests are usage errors. */
typedef struct spw_peer_caps {
    const char *prog; /* program name for messages */
    /* the program's name in --version ("NAME VERSION"): prog may be another
     * file's (a packaged NNG's wrapper runs spw-nngNNN-peer-bin) */
    const char *name;
    /* 1 when the backend can open protocol id (a row of spwire's table,
     * spwire/proto.h); NULL: every protocol of the table. */
    int (*proto_ok)(uint16_t id);
    int fd_ok;                  /* --fd and --ctl (socket://) supported */
    const char *fd_unsupported; /* message when they are not */
    int raw_ok;                 /* --raw supported */
    int wait_close_ok;          /* --wait-close supported */
    int ipc_ok;                 /* --ipc-listen/--ipc-connect (ipc:// URLs) supported */
} spw_peer_caps;

/* 1 when protocol d only ever sends in answer to what it received, back
 * down the pipe it came from (rep, respondent): it echoes but never sends
 * first. */
int spw_peer_proto_replies(const spw_proto_desc *d);

/* Most --fd options one command line may carry. */
#define SPW_PEER_MAX_FDS 16
#define SPW_PEER_MAX_SIZES 64

typedef struct spw_peer_opts {
    const spw_proto_desc *proto; /* --proto, a row of spwire's table */
    enum spw_ep_kind ep;
    int fd;                    /* SPW_EP_FD: the first --fd */
    int fds[SPW_PEER_MAX_FDS]; /* SPW_EP_FD: every --fd, in order */
    int nfds;
    int fd_one_by_one; /* --fd-one-by-one */
    int ctl;           /* SPW_EP_CTL: the control socket, else -1 */
    const char *url;   /* SPW_EP_TCP_*: a tcp:// or (ipc_ok) ipc:// URL */
    enum spw_mode mode;
    unsigned char *payload; /* --send / --send-file (owned) */
    size_t payload_len;
    long long size;   /* --size S, or -1 */
    long long *sizes; /* --sizes LIST (owned), or NULL */
    size_t nsizes;
    int seq;           /* --seq: message index in the first 8 bytes */
    long long count;   /* default 1 */
    long long recvmax; /* --recvmax; valid when recvmax_set */
    int recvmax_set;
    int timeout_ms; /* default 5000; -1 = infinite */
    int raw;
    int wait_peers;    /* default 0 */
    int linger_ms;     /* default SPW_DEFAULT_LINGER_MS */
    int wait_close_ms; /* --wait-close MS, or -2 when not given */
} spw_peer_opts;

#define SPW_DEFAULT_TIMEOUT_MS 5000
#define SPW_DEFAULT_LINGER_MS 100

enum { SPW_CLI_OK = 0, SPW_CLI_HELP = 1, SPW_CLI_USAGE = 2 };

/* Parses argv into o.  Returns SPW_CLI_OK, SPW_CLI_HELP (usage, or for
 * --version "NAME VERSION" with spwire's version, already printed on
 * stdout: exit 0) or SPW_CLI_USAGE (message already printed on
 * stderr: exit 2). */
int spw_peer_parse(spw_peer_opts *o, const spw_peer_caps *caps, int argc, char **argv);
void spw_peer_usage(FILE *f, const char *prog);
void spw_peer_opts_free(spw_peer_opts *o);

/* Payload of message k (0-based), malloc'ed (never NULL unless out of
 * memory; a zero-length payload still returns a 1-byte allocation).
 * With --size S, byte i of message k is (k*31 + i) & 0xff; with --sizes
 * LIST the same bytes, message k being LIST[k % n] long.  With --seq the
 * first min(8, len) bytes are then replaced by k as a u64, big-endian. */
unsigned char *spw_peer_payload(const spw_peer_opts *o, long long k, size_t *len);

#endif /* SPW_PEER_CLI_H */
