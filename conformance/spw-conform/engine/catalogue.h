/* spw-conform engine — the case catalogue: parse case files into cases (pure
 * apart from cf_load). Format: conformance/cases/README.md. Strict: every
 * problem is an error naming file:line; nothing is skipped silently. */
#ifndef SPW_CONFORM_CATALOGUE_H
#define SPW_CONFORM_CATALOGUE_H

#include <stddef.h>
#include <stdint.h>

#include "outcome.h"
#include "steps.h"

#define CF_MAX_OUTCOMES 8
#define CF_MAX_PROTOS 16
#define CF_MAX_CONNS 8

typedef struct cf_case {
    char *id;
    char *rule;
    char *file;
    int line;
    int level;
    int has_level;         /* a 'level' line was read (it is required) */
    int needs_echo;
    int needs_fd;          /* only meaningful with --exec {fd} */
    int needs_requester;   /* the IUT must send requests (req, surveyor) */
    int nconns;            /* fds handed to one IUT process ('fds N'), >= 1 */
    int nprotos;           /* 0 = every protocol */
    uint16_t protos[CF_MAX_PROTOS];
    unsigned transports;   /* 'transports': bit per CF_TR_* (conn.h); 0 = every one */
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
 * "file:line: message" into err. Case ids are unique across the catalogue. */
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

#endif
