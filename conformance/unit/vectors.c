#include "vectors.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spw_hex.h"
#include "spwire/frame.h"
#include "spwire/proto.h"

static void die(const char *path, int line, const char *what)
{
    fprintf(stderr, "%s:%d: bad vector: %s\n", path, line, what);
    abort();
}

/* BYTES in the tools' one hex syntax (conformance/common/spw_hex.h); several
 * lines of one key concatenate. */
static void parse_bytes(struct vec_bytes *b, const char *s, const char *path, int line)
{
    uint8_t *p;
    size_t n;
    char err[128];
    if (spw_hex_parse(s, &p, &n, err, sizeof err) != 0)
        die(path, line, err);
    uint8_t *joined = realloc(b->data, b->len + n + 1);
    if (!joined)
        abort();
    memcpy(joined + b->len, p, n);
    b->data = joined;
    b->len += n;
    free(p);
}

void vectors_load(struct vector_set *set, const char *name)
{
    memset(set, 0, sizeof *set);
    snprintf(set->path, sizeof set->path, "%s/%s", SPW_VECTORS_DIR, name);
    FILE *f = fopen(set->path, "r");
    if (!f)
        die(set->path, 0, "cannot open");
    char buf[8192];
    int line = 0, in_block = 0;
    struct vector *cur = 0;
    while (fgets(buf, sizeof buf, f)) {
        line++;
        buf[strcspn(buf, "\n")] = 0;
        if (strncmp(buf, "### ", 4) == 0) {
            set->v = realloc(set->v, (size_t)(set->n + 1) * sizeof *set->v);
            if (!set->v)
                abort();
            cur = &set->v[set->n++];
            memset(cur, 0, sizeof *cur);
            size_t idlen = strlen(buf + 4);
            if (idlen >= sizeof cur->id)
                die(set->path, line, "vector id too long");
            memcpy(cur->id, buf + 4, idlen + 1);
            cur->line = line;
            cur->self = -1;
            cur->limit = SPW_RECVMAX_DEFAULT;
            cur->ttl = 8;
            continue;
        }
        if (strncmp(buf, "```spw", 6) == 0) {
            if (!cur)
                die(set->path, line, "block before any ### heading");
            in_block = 1;
            continue;
        }
        if (strncmp(buf, "```", 3) == 0) {
            if (in_block && !cur->end[0])
                die(set->path, line, "vector has no end line");
            in_block = 0;
            continue;
        }
        if (!in_block || !buf[0])
            continue;
        char key[16];
        int off = 0;
        if (sscanf(buf, "%15s %n", key, &off) != 1)
            die(set->path, line, "no key");
        const char *val = buf + off;
        if (strcmp(key, "in") == 0) {
            parse_bytes(&cur->in, val, set->path, line);
        } else if (strcmp(key, "msg") == 0) {
            if (cur->nmsgs == VEC_MAX_MSGS)
                die(set->path, line, "too many messages");
            parse_bytes(&cur->msgs[cur->nmsgs++], val, set->path, line);
        } else if (strcmp(key, "limit") == 0) {
            char *e;
            cur->limit = strtoull(val, &e, 0);
            if (e == val)
                die(set->path, line, "bad limit");
        } else if (strcmp(key, "self") == 0) {
            cur->self = spw_proto_by_name(val);
            if (cur->self < 0)
                die(set->path, line, "unknown protocol");
        } else if (strcmp(key, "kind") == 0) {
            if (sscanf(val, "%15s", cur->kind) != 1)
                die(set->path, line, "empty kind");
        } else if (strcmp(key, "ttl") == 0) {
            cur->ttl = atoi(val);
            if (cur->ttl < 1 || cur->ttl > 255)
                die(set->path, line, "ttl out of 1..255");
        } else if (strcmp(key, "end") == 0) {
            if (sscanf(val, "%31s %31s", cur->end, cur->end_arg) < 1)
                die(set->path, line, "empty end");
        } else {
            die(set->path, line, "unknown key");
        }
    }
    fclose(f);
    if (set->n == 0)
        die(set->path, line, "no vectors");
}

void vectors_free(struct vector_set *set)
{
    for (int i = 0; i < set->n; i++) {
        free(set->v[i].in.data);
        for (int m = 0; m < set->v[i].nmsgs; m++)
            free(set->v[i].msgs[m].data);
    }
    free(set->v);
    memset(set, 0, sizeof *set);
}
