/* spw-conform engine — run one case script, the preflight, or a raw byte
 * stream against a target, and collect what happened. */
#ifndef SPW_CONFORM_RUNNER_H
#define SPW_CONFORM_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "catalogue.h"
#include "target.h"

typedef struct cf_result {
    const cf_case *c;
    int verdict;
    int outcome;             /* -1 when the case did not run */
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

/* Run c against t. Always fills r (a case that could not run is an
 * ERROR with the reason); returns 0. Free r with cf_result_free. */
int cf_run_case(const cf_target *t, const cf_case *c, cf_result *r);
/* A result that did not run: SKIP or ERROR with a reason (copied). */
void cf_result_not_run(cf_result *r, const cf_case *c, int verdict, const char *reason);
void cf_result_free(cf_result *r);

/* The preflight: one connection to a fresh IUT, our valid header, and the
 * IUT's 8 bytes expected within --start-timeout. A requesting IUT (req,
 * surveyor) is then left unanswered for a window to measure how soon it
 * re-requests on its own (retry_ms, 0 when it does not). 0 when the IUT
 * answered; -1 with a one-paragraph reason in err (the IUT's output tail
 * included) when it did not start, exited, or sent no or a wrong header. */
int cf_probe(const cf_target *t, int *retry_ms, char *err, size_t errlen);

/* Render a case's send steps on its first connection into one byte stream
 * (fuzz seeds), framed as f frames (NULL: socket/tcp framing). */
void cf_render_case(const cf_case *c, uint16_t iut, uint64_t limit, const cf_framing *f,
                    cf_buf *out);

#endif
