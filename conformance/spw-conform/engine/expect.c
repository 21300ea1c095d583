/* spw-conform engine — expectation files (expect.h). */
#include "expect.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outcome.h"

static const char *const verdict_vocab[CF_VERDICT_COUNT] = {
    "PASS", "NON-STRICT", "INFORMATIONAL", "FAIL", "ERROR", "SKIP"};

int cf_expect_parse(cf_expectations *x, const char *file, const char *text, char *err,
                    size_t errlen)
{
    return cf_expect_parse_vocab(x, file, text, verdict_vocab, CF_VERDICT_COUNT, err, errlen);
}

static int vocab_index(const char *const *names, int nnames, const char *name)
{
    for (int i = 0; i < nnames; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int cf_expect_parse_vocab(cf_expectations *x, const char *file, const char *text,
                          const char *const *names, int nnames, char *err, size_t errlen)
{
    int line = 0;
    const char *p = text;
    memset(x, 0, sizeof *x);
    while (*p) {
        line++;
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char buf[512];
        if (len >= sizeof buf) {
            snprintf(err, errlen, "%s:%d: line too long", file, line);
            cf_expect_free(x);
            return -1;
        }
        memcpy(buf, p, len);
        buf[len] = 0;
        p = nl ? nl + 1 : p + len;
        char *h = strchr(buf, '#');
        if (h)
            *h = 0;
        char id[256], v[64], extra[8];
        int n = sscanf(buf, "%255s %63s %7s", id, v, extra);
        if (n <= 0)
            continue;
        unsigned verdicts = 0;
        for (char *alt = n == 2 ? v : NULL, *save = NULL; n == 2; alt = NULL) {
            const char *name = strtok_r(alt, "|", &save);
            if (!name)
                break;
            int one = vocab_index(names, nnames, name);
            if (one < 0) {
                verdicts = 0;
                break;
            }
            verdicts |= 1u << one;
        }
        if (n != 2 || !verdicts) {
            int off = snprintf(err, errlen, "%s:%d: expected 'ID VERDICT[|VERDICT...]' (", file,
                               line);
            for (int i = 0; i < nnames && off > 0 && (size_t)off < errlen; i++)
                off += snprintf(err + off, errlen - (size_t)off, "%s%s", i ? ", " : "", names[i]);
            if (off > 0 && (size_t)off < errlen)
                snprintf(err + off, errlen - (size_t)off, ")");
            cf_expect_free(x);
            return -1;
        }
        if (cf_expect_lookup(x, id)) {
            snprintf(err, errlen, "%s:%d: duplicate id %s", file, line, id);
            cf_expect_free(x);
            return -1;
        }
        x->e = realloc(x->e, sizeof *x->e * (size_t)(x->n + 1));
        if (!x->e)
            abort();
        x->e[x->n].id = strdup(id);
        x->e[x->n].verdicts = verdicts;
        x->n++;
    }
    return 0;
}

void cf_expect_free(cf_expectations *x)
{
    for (int i = 0; i < x->n; i++)
        free(x->e[i].id);
    free(x->e);
    memset(x, 0, sizeof *x);
}

unsigned cf_expect_lookup(const cf_expectations *x, const char *id)
{
    for (int i = 0; i < x->n; i++)
        if (strcmp(x->e[i].id, id) == 0)
            return x->e[i].verdicts;
    return 0;
}

int cf_expect_load_vocab(cf_expectations *x, const char *path, int missing_ok,
                         const char *const *names, int nnames, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    char *txt = cf_read_file(path, err, errlen);
    if (!txt)
        return missing_ok && errno == ENOENT ? 0 : -1;
    int rc = cf_expect_parse_vocab(x, path, txt, names, nnames, err, errlen);
    free(txt);
    return rc;
}

int cf_expect_load(cf_expectations *x, const char *path, int missing_ok, char *err,
                   size_t errlen)
{
    return cf_expect_load_vocab(x, path, missing_ok, verdict_vocab, CF_VERDICT_COUNT, err,
                                errlen);
}

void cf_expect_names(cf_buf *out, unsigned verdicts)
{
    int first = 1;
    for (int v = 0; v < CF_VERDICT_COUNT; v++)
        if (verdicts & (1u << v)) {
            cf_buf_printf(out, "%s%s", first ? "" : "|", cf_verdict_name(v));
            first = 0;
        }
}

/* The id of an expectation line ("" for a blank or comment line). */
static void line_id(const char *line, size_t len, char *id, size_t idlen)
{
    size_t i = 0, k = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
        i++;
    while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '#' && k + 1 < idlen)
        id[k++] = line[i++];
    id[k] = 0;
}

int cf_expect_merge(const char *old_text, const char *const *ids, const int *verdicts, int n,
                    cf_buf *out)
{
    int changed = 0;
    char *done = calloc((size_t)n + 1, 1);
    if (!done)
        abort();
    for (const char *p = old_text ? old_text : ""; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char id[256], err[64];
        line_id(p, len, id, sizeof id);
        int k = -1;
        for (int i = 0; id[0] && i < n && k < 0; i++)
            if (strcmp(ids[i], id) == 0)
                k = i;
        int keep = k < 0;
        if (k >= 0) {
            /* the line's own verdict set: keep it when it accepts the new one */
            char one[512];
            snprintf(one, sizeof one, "%.*s\n", (int)(len < 500 ? len : 500), p);
            cf_expectations x;
            if (cf_expect_parse(&x, "", one, err, sizeof err) == 0 &&
                (cf_expect_lookup(&x, id) & (1u << verdicts[k])))
                keep = 1;
            cf_expect_free(&x);
            done[k] = 1;
        }
        if (keep)
            cf_buf_add(out, p, len);
        else {
            cf_buf_printf(out, "%s %s", id, cf_verdict_name(verdicts[k]));
            changed++;
        }
        cf_buf_add(out, "\n", 1);
        p = nl ? nl + 1 : p + len;
    }
    for (int i = 0; i < n; i++)
        if (!done[i]) {
            cf_buf_printf(out, "%s %s\n", ids[i], cf_verdict_name(verdicts[i]));
            changed++;
        }
    free(done);
    if (!out->p)
        cf_buf_add(out, "", 0);
    return changed;
}
