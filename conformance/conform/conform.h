/* spw-conform — shared types.
 *
 * Layers:
 *   cases.c   parse the catalogue (pure: text in, cases or file:line errors out)
 *   judge.c   classify an observation into an outcome, an outcome into a
 *             verdict; globs, expressions, expectations files (pure)
 *   io.c      every syscall: processes, socketpairs, TCP, poll loops
 *   runner.c  run one case script against one target (uses io.c)
 *   report.c  console, JUnit and JSON reports
 *   fuzz.c    black-box fuzzing, replay and differential replay
 *   main.c    command line
 */
#ifndef SPW_CONFORM_H
#define SPW_CONFORM_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ------------------------------------------------------------ expressions */

/* A length or size in a script: a literal, or the receive limit plus an
 * offset ("limit", "limit+1", "limit-1"). */
typedef struct cf_expr {
    int rel_limit;  /* 1: value = limit + off */
    int64_t off;    /* literal value (as u64 bits) when !rel_limit */
} cf_expr;

/* Parse "123", "0x1f", "limit", "limit+N", "limit-N". 0 ok, -1 bad. */
int cf_expr_parse(const char *s, cf_expr *e);
uint64_t cf_expr_eval(const cf_expr *e, uint64_t limit);

/* ------------------------------------------------------------ cases */

enum cf_level { CF_MUST = 0, CF_SHOULD, CF_INFO };

/* Observed outcomes. The robustness ones (crashed, exited, hung, leaked)
 * fail every case whatever its level. */
enum cf_outcome {
    CF_O_CLOSED = 0,          /* the IUT closed, nothing expected came back */
    CF_O_CLOSED_AFTER_REPLY,  /* the IUT closed after echoing what was expected */
    CF_O_ECHOED,              /* open, every expected message came back */
    CF_O_OPEN,                /* open, nothing was expected back */
    CF_O_NOT_ECHOED,          /* open, an expected message never came back */
    CF_O_WRONG_ECHO,          /* a frame came back that is not the one expected */
    CF_O_NO_HANDSHAKE,        /* open, but the IUT never sent its 8 bytes */
    CF_O_BAD_HANDSHAKE,       /* the IUT's own header is not valid for --proto */
    CF_O_GARBAGE,             /* the IUT sent bytes that are no valid frame */
    CF_O_CRASHED,             /* the IUT process died by a signal */
    CF_O_HUNG,                /* the IUT did not exit when asked / stopped answering */
    CF_O_LEAKED,              /* the IUT kept the connection after we closed ours */
    CF_O_REQUESTED,           /* open, every awaited request came from the IUT */
    CF_O_NO_REQUEST,          /* open, an awaited request never came */
    CF_O_BAD_REQUEST,         /* the IUT's request has a malformed SP header */
    CF_O_REUSED_ID,           /* a request carried an id we had already answered */
    CF_O_EXITED,              /* the IUT process exited on its own (any status that
                               * --iut-exit-ok does not declare) while a case ran */
    CF_O_COUNT,
    /* pseudo outcome, only in case files: open/echoed when the handshake's
     * protocol is the valid peer of --proto, else closed */
    CF_O_PAIRED = 100,
};

enum cf_verdict { CF_PASS = 0, CF_NONSTRICT, CF_INFORMATIONAL, CF_FAIL, CF_ERROR, CF_SKIP };

enum cf_step_kind {
    CF_S_SEND_HANDSHAKE = 0,
    CF_S_SEND_BYTES,
    CF_S_SEND_FRAME,
    CF_S_SEND_MESSAGE,
    CF_S_SPLIT,
    CF_S_PAUSE,
    CF_S_BATCH,
    CF_S_FLUSH,
    CF_S_SHUTDOWN_WRITE,
    CF_S_CLOSE,
    CF_S_EXPECT_HANDSHAKE,
    CF_S_EXPECT_ECHO,
    CF_S_EXPECT_REQUEST,
    CF_S_ON,
};

/* send message id= for a requesting IUT (req, surveyor): which id the
 * reply carries */
enum { CF_ID_SAME = 0, CF_ID_OTHER, CF_ID_NOHIBIT };

/* handshake protocol selector */
enum { CF_HS_PEER = 0, CF_HS_SELF, CF_HS_VALUE, CF_HS_SWAPPED };

typedef struct cf_step {
    int kind;
    int line;
    /* send handshake */
    int hs_sel;          /* CF_HS_* */
    uint16_t hs_proto;   /* CF_HS_VALUE */
    int hs_byte[8];      /* -1 = leave, else override of byte i */
    int hs_len;          /* bytes of the header to send, 8 = all */
    /* send bytes; send message data=; header= */
    uint8_t *data;
    size_t data_len;
    uint8_t *hdr;        /* explicit SP header for send message */
    size_t hdr_len;
    int has_hdr;
    /* send frame len= body=; send message size= */
    cf_expr len;
    cf_expr body;
    int has_len, has_body, has_size, has_data;
    int hops;            /* pair1 hop count for send message, -1 = default */
    int count;           /* send message count=N */
    int drop;            /* send message drop: not expected back */
    int reply_id;        /* CF_ID_*: send message to a requesting IUT */
    int conn;            /* connection the step acts on (0-based; 'on K') */
    /* split / pause / on */
    int n;
    int gap_ms;
} cf_step;

#define CF_MAX_OUTCOMES 8
#define CF_MAX_PROTOS 16
#define CF_MAX_CONNS 8

typedef struct cf_case {
    char *id;
    char *rule;
    char *file;
    int line;
    int level;
    int needs_echo;
    int needs_fd;          /* only meaningful with --exec {fd} */
    int needs_requester;   /* the IUT must send requests (req, surveyor) */
    int nconns;            /* fds handed to one IUT process ('fds N'), >= 1 */
    int nprotos;           /* 0 = every protocol */
    uint16_t protos[CF_MAX_PROTOS];
    int noutcomes;
    int outcomes[CF_MAX_OUTCOMES];
    /* 'outcome fdK ...': connection K's own set (count 0 = the case's) */
    int conn_noutcomes[CF_MAX_CONNS];
    int conn_outcomes[CF_MAX_CONNS][CF_MAX_OUTCOMES];
    int timeout_ms;        /* 0 = the run's --timeout */
    /* 'unlimited O...': the acceptable set when the IUT has no receive limit
     * (--recvmax 0); cf_catalogue_no_limit swaps it in */
    int nunlimited;
    int unlimited[CF_MAX_OUTCOMES];
    int uses_limit;        /* a step's size is relative to 'limit' */
    int limit_skip;        /* set by cf_catalogue_no_limit: uses 'limit', no
                            * 'unlimited' line, and the IUT has no limit */
    int nsteps;
    cf_step *steps;
} cf_case;

typedef struct cf_catalogue {
    cf_case *cases;
    int ncases;
} cf_catalogue;

/* Parse one file's text into cat (appending). On error returns -1 and writes
 * "file:line: message" into err. Cases are checked for duplicate ids across
 * the catalogue. */
int cf_parse_text(cf_catalogue *cat, const char *file, const char *text, char *err,
                  size_t errlen);
/* Load a file, or every *.cases file of a directory (sorted). */
int cf_load(cf_catalogue *cat, const char *path, char *err, size_t errlen);
void cf_catalogue_free(cf_catalogue *cat);
/* The IUT runs without a receive limit (--recvmax 0, NNG's "none"): every
 * case with an 'unlimited' line takes that set as its acceptable outcomes;
 * a case whose script is relative to 'limit' without one is marked to be
 * skipped (cf_skip_reason says why). */
void cf_catalogue_no_limit(cf_catalogue *cat);

const char *cf_level_name(int level);
const char *cf_outcome_name(int outcome);
int cf_outcome_by_name(const char *name);
const char *cf_verdict_name(int verdict);
int cf_verdict_by_name(const char *name);
/* 1 for the outcomes about the IUT as a process or a connection holder
 * (crashed, exited, hung, leaked): never acceptable, FAIL at any level. */
int cf_outcome_is_robustness(int outcome);

/* 1 if the protocol can echo (pair0, pair1, bus, rep, respondent). */
int cf_proto_can_echo(uint16_t proto);
/* 1 if the protocol sends requests its peer answers (req, surveyor). */
int cf_proto_requests(uint16_t proto);

/* ------------------------------------------------------------ judging */

/* What the runner saw; input of the pure classifier. */
typedef struct cf_obs {
    int closed;          /* EOF or reset from the IUT (or we closed) */
    int we_closed;       /* the script closed its end: nothing more observable */
    size_t hs_have;      /* bytes of the IUT's handshake received (<= 8) */
    int hs_valid;        /* 1 when the 8 bytes are valid for --proto */
    int hs_timeout;      /* an expect handshake step timed out */
    int expected;        /* messages expected back */
    int matched;         /* of them, received in order and correct */
    int wrong;           /* a frame that is not the next expected one */
    int garbage;         /* undecodable bytes after the handshake */
    int req_waits;       /* 'expect request' steps run */
    int req_got;         /* of them, answered by a fresh request */
    int req_bad;         /* a request with a malformed SP header */
    int req_reused;      /* a request with an id we had already answered */
    int crashed, exited, hung, leaked;
} cf_obs;

int cf_classify(const cf_obs *o);

/* Resolve connection conn's acceptable outcome set for protocol iut_proto
 * and the protocol named by that connection's last handshake step. */
int cf_resolve_outcomes(const cf_case *c, int conn, uint16_t iut_proto, int *out, int max);

/* Verdict for connection conn's outcome. strict turns NON-STRICT into FAIL. */
int cf_verdict(const cf_case *c, int conn, uint16_t iut_proto, int outcome, int strict);
/* The worse of two verdicts (FAIL over NON-STRICT over INFORMATIONAL over
 * PASS), for a case judged on several connections. */
int cf_verdict_worse(int a, int b);

/* Why a case does not apply, or NULL when it does. fd_slots: 0 the target
 * has no fd (TCP), 1 one fd ({fd}), CF_MAX_CONNS several ({fds}). */
const char *cf_skip_reason(const cf_case *c, uint16_t iut_proto, int fd_slots, char *buf,
                           size_t len);

/* A request as the IUT sent it (an SP message body with its header).
 * 0 and *id set when the header is a valid request id (4 bytes, top bit
 * set), -1 when it is malformed. */
int cf_request_id(const uint8_t *msg, size_t len, uint32_t *id);

/* A whole number (decimal or 0x hex, no sign) in [lo, hi]: the one number
 * parser of case files and command lines. 0 ok, -1 not one. */
int cf_parse_num(const char *s, unsigned long long lo, unsigned long long hi,
                 unsigned long long *out);

/* Shell-style glob: '*', '?'. */
int cf_glob(const char *pat, const char *s);

/* The value of one hex digit, -1 for any other character. */
int cf_hexval(int c);
/* Hex: "00 53 50", "005350", "\"GET \"" strings. Returns malloc'ed buffer. */
int cf_parse_hex(const char *s, uint8_t **out, size_t *len);

/* Expectations: "case-id VERDICT" lines; "VERDICT|VERDICT" where the IUT
 * races (the alternatives are all accepted). */
typedef struct cf_expect_entry {
    char *id;
    unsigned verdicts;   /* bit per accepted verdict */
} cf_expect_entry;
typedef struct cf_expectations {
    cf_expect_entry *e;
    int n;
} cf_expectations;
int cf_expect_parse(cf_expectations *x, const char *file, const char *text, char *err,
                    size_t errlen);
void cf_expect_free(cf_expectations *x);
/* The accepted verdicts' bits, 0 when the id is absent. */
unsigned cf_expect_lookup(const cf_expectations *x, const char *id);

/* Append to a growable buffer (abort on OOM). */
typedef struct cf_buf {
    uint8_t *p;
    size_t len, cap;
} cf_buf;
void cf_buf_add(cf_buf *b, const void *p, size_t n);
void cf_buf_free(cf_buf *b);

/* Whole text file, NUL-terminated, malloc'ed (caller frees). NULL with a
 * message in err when it cannot be read or holds a NUL byte. */
char *cf_read_file(const char *path, char *err, size_t errlen);
void cf_buf_printf(cf_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Build the bytes of a protocol message as the valid peer of iut_proto
 * sends it: SP header + body. The header is a request id with the top bit
 * forced for a rep/respondent IUT, reqid exactly as given (an answer, right
 * or deliberately wrong) for a req/surveyor IUT, a hop count for pair1. */
void cf_build_message(cf_buf *out, uint16_t iut_proto, uint32_t reqid, int hops,
                      const uint8_t *hdr, size_t hdr_len, int has_hdr, const uint8_t *body,
                      size_t body_len);
/* Is rx the correct echo of sent (the bytes of a message we sent)? */
int cf_echo_matches(uint16_t iut_proto, const uint8_t *sent, size_t slen, const uint8_t *rx,
                    size_t rlen);

/* ------------------------------------------------------------ running */

enum cf_target_kind { CF_T_EXEC_FD = 0, CF_T_CONNECT, CF_T_LISTEN };

typedef struct cf_target {
    int kind;
    const char *exec;        /* command template or NULL */
    const char *url;         /* tcp://H:P for connect/listen */
    char host[128];
    int port;
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

typedef struct cf_result {
    const cf_case *c;
    int verdict;
    int outcome;
    char *reason;            /* malloc'ed, may be NULL */
    char *acceptable;        /* malloc'ed "closed | closed-after-reply" */
    cf_buf wire;             /* hex wire log text */
    char *iut_log;           /* tail of the IUT's output */
    long ms;
    /* each connection's own judgement ('fds N'); outcome/verdict above are
     * the worst connection's */
    int nconns;
    int conn_outcome[CF_MAX_CONNS];
    int conn_verdict[CF_MAX_CONNS];
} cf_result;

void cf_result_free(cf_result *r);

/* A raw script run: bytes to send (already rendered) for fuzz/diff. */
typedef struct cf_raw_run {
    int outcome;             /* closed / open / crashed / hung / leaked / ... */
    int harness_error;
    char errmsg[256];
    cf_buf rx;               /* everything received after the IUT handshake */
    int nframes;
    uint8_t digest[32];      /* sha-free digest: FNV of frames (see fuzz.c) */
    long ms;
} cf_raw_run;

int cf_run_case(const cf_target *t, const cf_case *c, cf_result *r);

/* The preflight: one connection to a fresh IUT, our valid header, and the
 * IUT's 8 bytes expected within --start-timeout. A requesting IUT (req,
 * surveyor) is then left unanswered for a window to measure how soon it
 * re-requests on its own (retry_ms, 0 when it does not). 0 when the IUT
 * answered; -1 with a one-paragraph reason in err (the IUT's output tail
 * included) when it did not start, exited, or sent no or a wrong header. */
int cf_probe(const cf_target *t, int *retry_ms, char *err, size_t errlen);
int cf_run_raw(const cf_target *t, const uint8_t *bytes, size_t len, int split, int
               wait_ms, cf_raw_run *out);

/* Render a case's send steps on its first connection into one byte stream
 * (for fuzz seeds). */
void cf_render_case(const cf_case *c, uint16_t iut_proto, uint64_t limit, cf_buf *out);

/* ------------------------------------------------------------ io (io.c) */

typedef struct cf_proc {
    int pid;
    int status;
    int exited;
    char *logpath;
} cf_proc;

/* Expand {fd} (the first of fds) {fds} (all, comma-separated) {url}
 * {proto} {recvmax} {behaviour} in tmpl. */
char *cf_expand(const char *tmpl, const int *fds, int nfds, const char *url, uint16_t proto,
                uint64_t recvmax);
/* Spawn "sh -c CMD" in its own process group, keeping the nkeep fds of
 * keep open (blocking, inheritable) in the child. */
int cf_spawn(const char *cmd, const int *keep, int nkeep, const char *logpath, cf_proc *p);
/* Non-blocking check; 1 when the process has ended (p->status set). */
int cf_proc_poll(cf_proc *p);
/* SIGTERM, wait grace ms, SIGKILL. Returns 0 exited in time, 1 had to kill. */
int cf_proc_stop(cf_proc *p, int grace_ms);
/* The signal that ended the process (a shell's 128+N exit included), 0 when
 * it exited. */
int cf_proc_signal(const cf_proc *p);
/* "exit status 2", "killed by signal 11 (Segmentation fault)" */
void cf_proc_describe(const cf_proc *p, char *buf, size_t len);
char *cf_file_tail(const char *path, size_t max);

int cf_socketpair(int sv[2]);
int cf_tcp_connect(const char *host, int port, int timeout_ms);
int cf_tcp_listen(const char *host, int port, int *bound_port);
int cf_tcp_accept(int lfd, int timeout_ms);
int cf_free_port(const char *host);
int cf_set_nonblock(int fd);
long cf_now_ms(void);
long long cf_wall_us(void); /* wall clock, for capture time stamps */
void cf_sleep_ms(int ms);

struct cf_pcap;
/* Where one connection's traffic is recorded. Every member may be absent
 * (NULL text, NULL pcap): the I/O loops take a NULL wire as well. */
typedef struct cf_wire {
    cf_buf *text;          /* the hex wire log of the report */
    long t0;               /* cf_now_ms() at the start of the case */
    int conn;              /* connection index (pcap stream, text label) */
    int label;             /* prefix text lines with "fdK" (several fds) */
    struct cf_pcap *pcap;  /* a capture of the case (see pcap.h) */
} cf_wire;

/* Write all of buf (non-blocking fd), reading into rx meanwhile; chunk>0
 * writes chunk bytes at a time with gap_ms between. Returns 0, -1 when the
 * peer closed/reset (sets *closed), -2 when the peer took nothing for 3 s. */
int cf_io_write(int fd, const uint8_t *buf, size_t len, size_t chunk, int gap_ms, cf_buf *rx,
                int *closed, cf_wire *w);
/* Read into rx until done(ctx) says stop, closed, or deadline. */
int cf_io_read_until(int fd, long deadline, cf_buf *rx, int *closed, cf_wire *w,
                     int (*done)(void *ctx), void *ctx);
/* Half-close (FIN) our side / close it, recorded on the wire. */
void cf_io_shutdown(int fd, cf_wire *w);
void cf_io_close(int fd, cf_wire *w);

/* Wire log: bytes (from_iut: direction) and notes. */
void cf_log_bytes(cf_wire *w, int from_iut, const uint8_t *p, size_t n);
void cf_log_note(cf_wire *w, const char *msg);

/* ------------------------------------------------------------ reports */

typedef struct cf_run_summary {
    int n[6]; /* per verdict */
    int total;
} cf_run_summary;

void cf_report_console(FILE *f, const cf_result *r, int verbose);
int cf_report_junit(const char *path, const cf_result *rs, int n, const char *suite);
int cf_report_json(const char *path, const cf_result *rs, int n, const cf_target *t);
void cf_xml_escape(cf_buf *b, const char *s);
void cf_json_escape(cf_buf *b, const char *s);

/* ------------------------------------------------------------ commands */

/* main.c: target options shared by run, fuzz, replay and diff */
int cf_fuzz_main(int argc, char **argv);
int cf_diff_main(int argc, char **argv);
int cf_replay_main(int argc, char **argv);
int cf_target_option(cf_target *t, const char *prefix, int argc, char **argv, int *i, char *err,
                     size_t errlen);
int cf_target_finish(cf_target *t, char *err, size_t errlen);
void cf_target_defaults(cf_target *t);
char *cf_make_logdir(void);

/* Up-front checks of where results go (io.c). A file: not a directory, its
 * directory exists and is writable (nothing is created). A directory:
 * created when missing (its parent must exist), then must be writable.
 * 0 ok; -1 with "OPTION PATH: why" in err. */
int cf_check_out_file(const char *option, const char *path, char *err, size_t errlen);
int cf_check_out_dir(const char *option, const char *path, char *err, size_t errlen);

/* A requester that asks again by itself sooner than this cannot be judged:
 * its timer and an answer taken are too close to tell apart. */
#define CF_MIN_RETRY_MS 100
void cf_remove_logdir(char *dir);

#endif
