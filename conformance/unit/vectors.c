#include "vectors.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spwire/frame.h"
#include "spwire/proto.h"

static void die(const char *path, int line, const char *what)
{
    fprintf(stderr, "%s:%d: bad vector: %s\n", path, line, what);
    abort();
}

static void push(struct vec_bytes *b, uint8_t byte)
{
    if ((b->len & 255) == 0) {
        b->data = realloc(b->data, b->len + 256);
        if (!b->data)
            abort();
    }
    b->data[b->len++] = byte;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

static void parse_bytes(struct vec_bytes *b, const char *s, const char *path, int line)
{
    while (*s) {
        if (isspace((unsigned char)*s)) {
            s++;
        } else if (*s == '"') {
            const char *e = strchr(s + 1, '"');
            if (!e)
                die(path, line, "unterminated string");
            for (const char *c = s + 1; c < e; c++)
                push(b, (uint8_t)*c);
            s = e + 1;
        } else if (*s == '-' && (s[1] == 0 || isspace((unsigned char)s[1]))) {
            s++; /* the empty message */
        } else {
            int hi = hexval(s[0]), lo = hexval(s[1]);
            if (hi < 0 || lo < 0)
                die(path, line, "bad hex byte");
            uint8_t byte = (uint8_t)(hi << 4 | lo);
            s += 2;
            if (*s == '*') {
                char *end;
                long count = strtol(s + 1, &end, 10);
                if (end == s + 1 || count <= 0)
                    die(path, line, "bad repeat count");
                while (count--)
                    push(b, byte);
                s = end;
            } else {
                push(b, byte);
            }
        }
    }
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
            snprintf(cur->id, sizeof cur->id, "%s", buf + 4);
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
