/* spw-conform engine — the connection seam: how the tool reaches an IUT,
 * chosen by URL scheme. One driver per transport:
 *
 *   socket   a socketpair end handed to a fresh IUT process ({fd}, {fds});
 *            no address; several fds per IUT possible
 *   tcp      tcp://HOST:PORT, the IUT listens (--connect) or dials (--listen)
 *   ipc      ipc:///PATH, a UNIX-domain stream socket, likewise
 *
 * A driver also declares its framing: after the 8-byte SP header, socket
 * and tcp frame a message as a u64 BE length and the bytes; NNG's and
 * nanomsg's ipc put a one-byte message type (1) in front of the length.
 * Adding a transport = one driver row in conn.c (and a case may name it in
 * 'transports'). */
#ifndef SPW_CONFORM_CONN_H
#define SPW_CONFORM_CONN_H

#include <stddef.h>
#include <stdint.h>

enum cf_transport { CF_TR_SOCKET = 0, CF_TR_TCP, CF_TR_IPC, CF_TR_COUNT };

/* How a message is framed after the handshake. */
typedef struct cf_framing {
    size_t hdr_len;   /* bytes in front of a message body: 8, or 9 with a type byte */
    int type_byte;    /* -1: none; else the byte that opens every frame */
} cf_framing;

/* Write the hdr_len bytes of a frame header for a body of len bytes. */
void cf_framing_encode(const cf_framing *f, uint8_t *hdr, uint64_t len);
/* One frame at p (n bytes available; no receive limit applied).
 * 1: a whole frame, body of *body bytes at p + hdr_len, *flen in all;
 * 0: more bytes needed; -1: not a frame (a wrong type byte). */
int cf_framing_parse(const cf_framing *f, const uint8_t *p, size_t n, size_t *body,
                     size_t *flen);

/* An address of an address transport (tcp, ipc). */
typedef struct cf_addr {
    char host[128];   /* tcp */
    int port;         /* tcp; 0 = pick a free one (cf_driver.pick) */
    char path[108];   /* ipc: the socket file */
    char url[256];    /* as the IUT is told it ({url}) */
} cf_addr;

typedef struct cf_driver {
    const char *scheme;    /* "socket", "tcp", "ipc" */
    int transport;         /* CF_TR_* */
    cf_framing framing;
    /* address transports only (NULL for socket). Errors: -1 with errno,
     * parse writes "URL: expected ..." into err. */
    int (*parse)(const char *url, cf_addr *a, char *err, size_t errlen);
    /* make a concrete address of a wildcard one (tcp port 0: a free port;
     * ipc: nothing to do) */
    int (*pick)(cf_addr *a);
    int (*connect)(const cf_addr *a, int timeout_ms);  /* non-blocking fd */
    int (*listen)(const cf_addr *a);                   /* listening fd */
    /* remove what listen left behind (ipc: the socket file) */
    void (*cleanup)(const cf_addr *a);
} cf_driver;

/* The driver of a transport (0 <= t < CF_TR_COUNT). */
const cf_driver *cf_driver_of(int transport);
/* The driver of a URL's scheme ("tcp://..."), NULL when none. */
const cf_driver *cf_driver_for_url(const char *url);
/* CF_TR_* of a name ("socket", "tcp", "ipc"), -1 when unknown; the name of
 * a transport. */
int cf_transport_by_name(const char *name);
const char *cf_transport_name(int transport);

/* Accept one connection within timeout_ms: fd, or -1 (errno ETIMEDOUT). */
int cf_accept(int lfd, int timeout_ms);
/* A connected pair of stream sockets, both close-on-exec. */
int cf_socketpair(int sv[2]);
int cf_set_nonblock(int fd);

#endif
