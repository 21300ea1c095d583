/* spw-conform commands — fuzz and diff inputs (inputs.h). */
#include "inputs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "catalogue.h"
#include "rawrun.h"
#include "runner.h"
#include "spw_hex.h"

void cf_inputs_add(cf_inputs *in, const char *name, const uint8_t *p, size_t n)
{
    in->v = realloc(in->v, sizeof *in->v * (size_t)(in->n + 1));
    if (!in->v)
        abort();
    cf_input *x = &in->v[in->n++];
    memset(x, 0, sizeof *x);
    x->name = strdup(name);
    cf_buf_add(&x->bytes, p, n);
}

void cf_inputs_free(cf_inputs *in)
{
    for (int i = 0; i < in->n; i++) {
        free(in->v[i].name);
        cf_buf_free(&in->v[i].bytes);
    }
    free(in->v);
    memset(in, 0, sizeof *in);
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under dir (recursively), sorted, at most 64 KiB each. */
int cf_inputs_add_corpus(cf_inputs *in, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        cf_buf b = {0};
        if (cf_read_binary(dir, &b, 65536)) {
            fprintf(stderr, "spw-conform: %s: %s\n", dir, strerror(errno));
            return -1;
        }
        cf_inputs_add(in, dir, b.p, b.len);
        cf_buf_free(&b);
        return 0;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        names = realloc(names, sizeof *names * (size_t)(n + 1));
        if (!names)
            abort();
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n > 0)
        qsort(names, (size_t)n, sizeof *names, cmpstr);
    for (int i = 0; i < n; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            cf_inputs_add_corpus(in, p);
        else if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && strstr(names[i], ".txt") == NULL &&
                 strstr(names[i], ".md") == NULL && st.st_size <= 65536) {
            cf_buf b = {0};
            if (cf_read_binary(p, &b, 65536) == 0 && b.len)
                cf_inputs_add(in, p, b.p, b.len);
            cf_buf_free(&b);
        }
        free(names[i]);
    }
    free(names);
    return 0;
}

int cf_inputs_add_cases(cf_inputs *in, const char *path, const cf_target *t)
{
    cf_catalogue cat = {0};
    char err[512];
    if (cf_load(&cat, path, err, sizeof err)) {
        fprintf(stderr, "spw-conform: ERROR in the case catalogue: %s\n", err);
        return -1;
    }
    for (int i = 0; i < cat.ncases; i++) {
        cf_buf b = {0};
        cf_render_case(&cat.cases[i], t->proto, t->recvmax, &t->driver->framing, &b);
        if (b.len && b.len <= 65536) {
            char name[256];
            snprintf(name, sizeof name, "case:%s", cat.cases[i].id);
            cf_inputs_add(in, name, b.p, b.len);
        }
        cf_buf_free(&b);
    }
    cf_catalogue_free(&cat);
    return 0;
}

/* AFL/libFuzzer dictionary: name="value" with \xHH escapes. */
int cf_inputs_add_dict(cf_inputs *d, const char *path)
{
    cf_buf b = {0};
    if (cf_read_binary(path, &b, 1 << 20)) {
        fprintf(stderr, "spw-conform: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char *p = (char *)b.p;
    int line = 0, rc = 0;
    while (p && *p && rc == 0) {
        char *nl = strchr(p, '\n');
        if (nl)
            *nl = 0;
        line++;
        /* name="value": the quoted value is a string of the one hex syntax
         * (spw_hex.h: \xHH, \\, \" escapes, as AFL writes them) */
        char *q = strchr(p, '"'), *end = strrchr(p, '"');
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p && *p != '#') {
            uint8_t *tok;
            size_t n;
            char why[160];
            if (!q || end == q) {
                fprintf(stderr, "spw-conform: %s:%d: expected name=\"value\"\n", path, line);
                rc = -1;
            } else {
                end[1] = 0;
                if (spw_hex_parse(q, &tok, &n, why, sizeof why)) {
                    fprintf(stderr, "spw-conform: %s:%d: bad value: %s\n", path, line, why);
                    rc = -1;
                } else {
                    if (n)
                        cf_inputs_add(d, "dict", tok, n);
                    free(tok);
                }
            }
        }
        p = nl ? nl + 1 : NULL;
    }
    cf_buf_free(&b);
    return rc;
}
