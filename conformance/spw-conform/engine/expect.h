/* spw-conform engine — expectation files: "case-id VERDICT" lines, with
 * "VERDICT|VERDICT" where the IUT races (every alternative is accepted).
 * Format: conformance/expectations/README.md. */
#ifndef SPW_CONFORM_EXPECT_H
#define SPW_CONFORM_EXPECT_H

#include <stddef.h>

#include "buf.h"

typedef struct cf_expect_entry {
    char *id;
    unsigned verdicts;   /* bit per accepted verdict */
} cf_expect_entry;

typedef struct cf_expectations {
    cf_expect_entry *e;
    int n;
} cf_expectations;

/* Parse text (file names the errors). 0 ok; -1 with "file:line: why". */
int cf_expect_parse(cf_expectations *x, const char *file, const char *text, char *err,
                    size_t errlen);
/* Parse the file at path; a missing file is an empty set when
 * missing_ok, an error otherwise. */
int cf_expect_load(cf_expectations *x, const char *path, int missing_ok, char *err,
                   size_t errlen);
/* The same format over another vocabulary (spw-interop: PASS, KNOWN,
 * n/a): a verdict's bit is its index in names (at most 32). */
int cf_expect_parse_vocab(cf_expectations *x, const char *file, const char *text,
                          const char *const *names, int nnames, char *err, size_t errlen);
int cf_expect_load_vocab(cf_expectations *x, const char *path, int missing_ok,
                         const char *const *names, int nnames, char *err, size_t errlen);
void cf_expect_free(cf_expectations *x);
/* The accepted verdicts' bits, 0 when the id is absent. */
unsigned cf_expect_lookup(const cf_expectations *x, const char *id);
/* "PASS|NON-STRICT" for a bit set. */
void cf_expect_names(cf_buf *out, unsigned verdicts);

/* A run's verdicts merged into an existing file (--update-expect): for
 * every (id, verdict) of the run, a line that already accepts the verdict
 * stays as it is (racing alternatives kept), any other line is replaced
 * by the new verdict, a new id is added; lines of ids the run did not
 * cover, comments and the order are kept. out receives the new text.
 * Returns how many lines changed or were added. */
int cf_expect_merge(const char *old_text, const char *const *ids, const int *verdicts, int n,
                    cf_buf *out);

#endif
