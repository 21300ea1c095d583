/* Test-side reader for the vector files in conformance/vectors (format in
 * README). Aborts with file:line on a malformed vector: a typo in a data file
 * must fail the run, never silently drop a case. */
#ifndef SPW_TEST_VECTORS_H
#define SPW_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>

#define VEC_MAX_MSGS 16

struct vec_bytes {
    uint8_t *data;
    size_t len;
};

struct vector {
    char id[96];
    int line;          /* of the heading, for messages */
    int self;          /* protocol id, -1 unset */
    char kind[16];     /* sp_header: backtrace, reqid, pair1 */
    int ttl;           /* sp_header: default 8 */
    uint64_t limit;    /* default SPW_RECVMAX_DEFAULT */
    struct vec_bytes in;
    struct vec_bytes msgs[VEC_MAX_MSGS];
    int nmsgs;
    char end[32];      /* idle, partial, done, or an error name */
    char end_arg[32];  /* done: peer name; EPROTO: fault */
};

struct vector_set {
    struct vector *v;
    int n;
    char path[512];
};

/* Load SPW_VECTORS_DIR/name. Aborts on error or when no vector is found. */
void vectors_load(struct vector_set *set, const char *name);
void vectors_free(struct vector_set *set);

#endif
