/* spw-conform engine — the script steps of a case: ONE table of step types,
 * each with its keyword, how it is parsed, how it renders bytes (sending
 * steps) and how it runs (the others). A new keyword is one enum value, one
 * row and its functions, all in steps.c (and its line in
 * conformance/cases/README.md). */
#ifndef SPW_CONFORM_STEPS_H
#define SPW_CONFORM_STEPS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct cf_framing;
struct cf_exec;

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
    CF_S_RESET,
    CF_S_EXPECT_BYTES,
    CF_S_STOP_READING,
    CF_S_COUNT
};

/* A length or size in a script: a literal, or the receive limit plus an
 * offset ("limit", "limit+1", "limit-1"). */
typedef struct cf_expr {
    int rel_limit;  /* 1: value = limit + off */
    int64_t off;    /* literal value (as u64 bits) when !rel_limit */
} cf_expr;

/* Parse "123", "0x1f", "limit", "limit+N", "limit-N". 0 ok, -1 bad. */
int cf_expr_parse(const char *s, cf_expr *e);
uint64_t cf_expr_eval(const cf_expr *e, uint64_t limit);

/* send message id= for a requesting IUT (req, surveyor): which id the
 * reply carries */
enum { CF_ID_SAME = 0, CF_ID_OTHER, CF_ID_NOHIBIT };

/* handshake protocol selector */
enum { CF_HS_PEER = 0, CF_HS_SELF, CF_HS_VALUE, CF_HS_SWAPPED };

typedef struct cf_step {
    int kind;
    int line;
    int conn;            /* connection the step acts on (0-based; 'on fdK') */
    /* send handshake */
    int hs_sel;          /* CF_HS_* */
    uint16_t hs_proto;   /* CF_HS_VALUE */
    int hs_byte[8];      /* -1 = leave, else override of byte i */
    int hs_len;          /* bytes of the header to send, 8 = all */
    /* send bytes; send frame/message data=; send message header= */
    uint8_t *data;
    size_t data_len;
    uint8_t *hdr;
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
    /* split N gap=MS / pause MS / on fdK / expect bytes N */
    int n;
    int gap_ms;
} cf_step;

/* A step's new defaults (hs_len 8, hops -1, count 1, no byte overrides). */
void cf_step_init(cf_step *s, int kind, int line, int conn);
/* The protocol id a 'send handshake' step announces to an IUT speaking iut
 * (before per-byte overrides). */
uint16_t cf_step_handshake_proto(const cf_step *s, uint16_t iut);

/* What a sending step's bytes depend on. */
typedef struct cf_render {
    uint16_t iut;                      /* the IUT's protocol */
    uint64_t limit;                    /* its receive limit ('limit' in sizes) */
    const struct cf_framing *framing;  /* the transport's message framing */
    /* The SP header id of the next message of step s: a fresh request id
     * for a responder, the answer to the IUT's last request for a
     * requester; -1 when there is nothing to answer (not sent). */
    int64_t (*next_id)(void *ctx, const cf_step *s);
    /* Called with every message (SP header + body) rendered, or NULL. The
     * callee may take m's buffer (leaving *m zeroed). */
    void (*sent)(void *ctx, const cf_step *s, cf_buf *m);
    void *ctx;
} cf_render;

/* Parse context: the case's connection count ('on fdK' range); a parse
 * function writes its complaint (no file:line, the caller adds it). */
typedef struct cf_step_parse {
    int nconns;
    char *err;
    size_t errlen;
} cf_step_parse;

enum {
    CF_STEP_SENDS = 1u << 0,  /* renders bytes; allowed inside a batch */
    CF_STEP_ALWAYS = 1u << 1, /* runs also when the current connection is closed */
};

typedef struct cf_step_type {
    const char *keyword;   /* first word */
    const char *object;    /* second word ("send handshake"), NULL for none */
    int kind;
    unsigned flags;        /* CF_STEP_* */
    /* the words after keyword [object]; 0, or -1 with a message in ctx->err */
    int (*parse)(cf_step *s, const cf_step_parse *ctx, char **tok, int n);
    /* sending steps: append the bytes to out */
    void (*render)(const cf_step *s, const cf_render *r, cf_buf *out);
    /* the other steps: act on the running case (runner.c's state) */
    void (*run)(const cf_step *s, struct cf_exec *x);
} cf_step_type;

/* The row of a kind (never NULL for 0 <= kind < CF_S_COUNT). */
const cf_step_type *cf_step_type_of(int kind);
/* The row whose keyword is tok[0] (and object tok[1] when it has one);
 * NULL when none. *words: how many of tok the keyword used. A known
 * keyword with an unknown object returns NULL with *words 0 and the
 * objects it takes in objects (for the error message). */
const cf_step_type *cf_step_type_find(char **tok, int n, int *words, char *objects,
                                      size_t objlen);
/* Free a step's owned buffers. */
void cf_step_free(cf_step *s);

#endif
