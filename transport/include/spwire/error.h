/* spwire — error codes shared by every module.
 *
 * Contract: every spwire function that can fail returns an int that is
 * SPW_OK (0) or one of the negative codes below; functions that report
 * progress (decoders) return small positive event values, documented in their
 * own header. Codes are stable: new ones are appended, none is renumbered.
 */
#ifndef SPWIRE_ERROR_H
#define SPWIRE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum spw_error {
    SPW_OK = 0,
    SPW_EINVAL = -1,      /* bad argument (NULL where a pointer is required, bad size) */
    SPW_ENOMEM = -2,      /* the allocator refused */
    SPW_EPROTO = -3,      /* peer broke the wire protocol (handshake, pairing) */
    SPW_EMSGSIZE = -4,    /* announced frame length above the receive limit */
    SPW_ECLOSED = -5,     /* peer closed, or the object was closed */
    SPW_ETIMEDOUT = -6,   /* deadline passed */
    SPW_EADDRINVAL = -7,  /* URL is not exactly "socket://" */
    SPW_ENOTSUP = -8,     /* operation or option not supported here */
    SPW_EWRITEONLY = -9,  /* option can be set but never read */
    SPW_EREADONLY = -10,  /* option can be read but never set */
    SPW_ENOENT = -11,     /* no option by that name */
    SPW_EBADTYPE = -12,   /* option exists, but not with that value type */
    SPW_EBADF = -13,      /* fd is negative or not open */
    SPW_ENOTSOCK = -14,   /* fd is open but not a socket */
    SPW_ESOCKTYPE = -15,  /* socket is not SOCK_STREAM */
    SPW_ENOTCONN = -16,   /* stream socket is not connected */
    SPW_ESYSTEM = -17,    /* unexpected OS error; see errno kept by the object */
    SPW_ESTATE = -18,     /* call not valid in the object's current state */
    SPW_ECONNRESET = -19, /* peer reset the connection */
    SPW_EIDLE = -20,      /* listener has nothing pending: only a new fd brings a pipe */
    SPW_ENOSPC = -21,     /* listener already holds SPW_OPT_PENDING_MAX pending fds */
};

/* Number of codes, for tables and tests: codes run from SPW_OK down to
 * -(SPW_ERROR_COUNT - 1). */
#define SPW_ERROR_COUNT 22

/* Human-readable description of a code. Never NULL: an unknown code yields
 * "unknown spwire error". The string is static. */
const char *spw_strerror(int code);

/* Symbolic name of a code ("EPROTO", "OK", ...), as used in conformance
 * reports and JSON events. Never NULL: an unknown code yields "EUNKNOWN". */
const char *spw_errname(int code);

#ifdef __cplusplus
}
#endif
#endif
