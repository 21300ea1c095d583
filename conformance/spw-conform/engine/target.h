/* spw-conform engine — the implementation under test as the tool reaches
 * it: how (a transport driver and a target kind), what it speaks, and the
 * timing of a case. Filled by the command line (cli/target_opts.c). */
#ifndef SPW_CONFORM_TARGET_H
#define SPW_CONFORM_TARGET_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

enum cf_target_kind {
    CF_T_EXEC_FD = 0,  /* socket driver: socketpair ends handed to the IUT, as {fd}/{fds} at
                        * its start or one by one over its control socket {ctl} */
    CF_T_CONNECT,      /* the IUT listens on addr; we connect */
    CF_T_LISTEN,       /* we listen on addr; the IUT dials */
};

typedef struct cf_target {
    int kind;                /* CF_T_*, -1 until set */
    const cf_driver *driver; /* the transport */
    const char *exec;        /* command template or NULL */
    int ctl;                 /* exec has {ctl}: connections go over the control socket */
    long quiet_us;           /* raw runs: end the observation after this long (µs) without
                              * an event once the IUT sent its header (0: the whole window) */
    const char *url;         /* --connect / --listen as given */
    int port_given;          /* tcp: the url named a port (not 0) */
    cf_addr addr;            /* parsed url */
    uint16_t proto;
    uint64_t recvmax;
    int timeout_ms;          /* per-case observation window */
    int kill_timeout_ms;     /* SIGTERM grace */
    int start_timeout_ms;    /* waiting for the IUT to listen / dial */
    int grace_ms;            /* after the last event, how long the IUT is watched
                              * for dying on its own before it is stopped */
    int exit_ok[8];          /* --iut-exit-ok: exit statuses that are the IUT's
                              * documented way to end (a one-shot IUT) */
    int nexit_ok;
    int retry_ms;            /* a requester's own re-request period measured by
                              * the preflight (0: none within the window) */
    int shared;              /* --connect without --exec: one IUT for all */
    int strict;              /* --strict: NON-STRICT counts as FAIL */
    int verbose;
    const char *pcap_dir;    /* run: DIR/CASE-ID.pcap per case */
    const char *pcap_file;   /* cf_run_raw: one capture of the run */
    const char *log_dir;     /* IUT stdout/stderr per case */
} cf_target;

/* A requester that asks again by itself sooner than this cannot be judged:
 * its timer and an answer taken are too close to tell apart. */
#define CF_MIN_RETRY_MS 100

void cf_target_defaults(cf_target *t);
/* --connect (CF_T_CONNECT) or --listen (CF_T_LISTEN) URL: the driver by
 * its scheme, the address parsed. 0 ok; -1 with the reason in err. */
int cf_target_set_url(cf_target *t, int kind, const char *url, char *err, size_t errlen);
/* Check the options together and complete them (the kind of an --exec
 * target, a free port for port 0). 0 ok; -1 with the reason in err. */
int cf_target_finish(cf_target *t, char *err, size_t errlen);
/* Before the tool starts an IUT on an address it picked itself (tcp port
 * 0 given): a new port for this start. A killed IUT's port can linger
 * (TIME_WAIT of the connections it held), and an implementation that does
 * not set SO_REUSEADDR would then fail to listen on it. 0, or -1 when no
 * port is free. Other targets are left as they are. */
int cf_target_fresh_addr(cf_target *t);
/* A copy of the target for worker k of several (--jobs): an IUT the tool
 * starts gets an address of its own (a tcp port picked again when the
 * given one was 0, ipc PATH.jobK). 0; -1 with the reason in err (a fixed
 * tcp port cannot be shared by several IUTs). */
int cf_target_for_job(cf_target *t, int k, char *err, size_t errlen);
/* How many fds the target can hand one IUT: 0 an address transport, 1
 * ({fd}), CF_MAX_CONNS ({fds} or {ctl}). */
int cf_target_fd_slots(const cf_target *t);
/* Expand {fd} (the first of fds) {fds} (all, comma-separated) {ctl} (the
 * control socket's fd, ctl) {url} {proto} {recvmax} {behaviour} in the
 * target's command; malloc'ed. */
char *cf_target_command(const cf_target *t, const int *fds, int nfds, int ctl);

#endif
