/* peer_events.h -- JSON-lines event writer shared by the conformance peers.
 *
 * Every event is one JSON object on one line; keys appear in the order they
 * are added, "event" always first.  Each line is written with a single
 * fwrite under a mutex and flushed at once, so events from library threads
 * (pipe callbacks) never interleave with the main thread's.
 *
 * Event vocabulary (see conformance/peers/README.md):
 *   start  {"event":"start","impl":..,"version":..,"proto":..}
 *   add    {"event":"add","peer_proto":..[,"peer_pid":..,"peer_uid":..,"peer_gid":..]}
 *   rem    {"event":"rem"}
 *   msg    {"event":"msg","len":N,"sha256":HEX,"hex":HEX-of-first-32-bytes}
 *   sent   {"event":"sent","len":N}
 *   error  {"event":"error","op":..,"error":NAME,"detail":..}
 *   done   {"event":"done","sent":N,"received":M,"digest":HEX}
 */
#ifndef SPW_PEER_EVENTS_H
#define SPW_PEER_EVENTS_H

#include <stddef.h>
#include <stdio.h>

/* Number of leading payload bytes shown in the "hex" key of msg events. */
#define SPW_EV_HEX_PREFIX 32

/* Direct events to out (default stdout). Call before any other thread may
 * emit events. */
void spw_ev_init(FILE *out);

/* Low-level line builder. */
typedef struct spw_ev_line {
    char *buf;
    size_t len;
    size_t cap;
    int oom;
} spw_ev_line;

void spw_ev_begin(spw_ev_line *l, const char *event);
void spw_ev_str(spw_ev_line *l, const char *key, const char *val); /* JSON-escaped */
void spw_ev_int(spw_ev_line *l, const char *key, long long val);
void spw_ev_uint(spw_ev_line *l, const char *key, unsigned long long val);
void spw_ev_bool(spw_ev_line *l, const char *key, int val);
/* Closes the object, writes the line, flushes, frees the builder. */
void spw_ev_end(spw_ev_line *l);

/* Convenience emitters for the standard events. */
void spw_ev_start(const char *impl, const char *version, const char *proto);
void spw_ev_rem(void);
void spw_ev_msg(const void *data, size_t len);
void spw_ev_sent(size_t len);
void spw_ev_error(const char *op, const char *error, const char *detail);
void spw_ev_done(long long sent, long long received, const char *digest_hex);

#endif /* SPW_PEER_EVENTS_H */
