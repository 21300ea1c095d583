/* spw-conform commands — byte-stream inputs of fuzz and diff: corpus files,
 * dictionary tokens, case scripts rendered for a target. */
#ifndef SPW_CONFORM_INPUTS_H
#define SPW_CONFORM_INPUTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "target.h"

typedef struct cf_input {
    char *name;
    cf_buf bytes;
} cf_input;

typedef struct cf_inputs {
    cf_input *v;
    int n;
} cf_inputs;

/* Append a copy of p (n bytes) named name. */
void cf_inputs_add(cf_inputs *in, const char *name, const uint8_t *p, size_t n);
void cf_inputs_free(cf_inputs *in);
/* A file, or every regular file under a directory (recursively, sorted),
 * at most 64 KiB each; .txt and .md files are notes, not inputs. 0 ok; -1
 * with a message on stderr when dir cannot be read. */
int cf_inputs_add_corpus(cf_inputs *in, const char *dir);
/* Every case of the catalogue at path rendered for t (its protocol, limit
 * and framing). -1 with a message on stderr for a bad catalogue. */
int cf_inputs_add_cases(cf_inputs *in, const char *path, const cf_target *t);
/* AFL/libFuzzer dictionary: name="value" lines. -1 with a message on
 * stderr when unreadable or a value is malformed. */
int cf_inputs_add_dict(cf_inputs *d, const char *path);

#endif
