/* spw-conform engine — the vocabulary of judgement: case levels, observed
 * outcomes, verdicts, and their names as case files, expectation files and
 * reports spell them. Pure. */
#ifndef SPW_CONFORM_OUTCOME_H
#define SPW_CONFORM_OUTCOME_H

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
#define CF_VERDICT_COUNT (CF_SKIP + 1)

/* Names: static strings, "?" for a value out of range; the _by_name
 * functions return -1 for an unknown name. */
const char *cf_level_name(int level);
int cf_level_by_name(const char *name);
const char *cf_outcome_name(int outcome);
int cf_outcome_by_name(const char *name);
const char *cf_verdict_name(int verdict);
int cf_verdict_by_name(const char *name);

/* 1 for the outcomes about the IUT as a process or a connection holder
 * (crashed, exited, hung, leaked): never acceptable, FAIL at any level. */
int cf_outcome_is_robustness(int outcome);

#endif
