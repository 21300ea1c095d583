/* spw-conform engine — the case catalogue parser (catalogue.h). Case-level
 * keywords are handled here; script steps by the step table (steps.c). */
#include "catalogue.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "conn.h"
#include "spwire/proto.h"
#include "text.h"

/* ------------------------------------------------------------ parser */

typedef struct pstate {
    cf_catalogue *cat;
    const char *file;
    int line;
    char *err;
    size_t errlen;
    cf_case *cur;
    int conn; /* the connection later steps act on ('on K') */
    unsigned seen; /* bit per case_keywords row met in the current case */
} pstate;

static int perr(pstate *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int perr(pstate *ps, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ps->err, ps->errlen, "%s:%d: %s", ps->file, ps->line, msg);
    return -1;
}

static int valid_id(const char *s)
{
    if (!*s || !islower((unsigned char)*s))
        return 0;
    for (; *s; s++)
        if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '.' ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

static int parse_int(const char *s, long min, long max, long *out)
{
    unsigned long long v;
    if (cf_parse_num(s, (unsigned long long)min, (unsigned long long)max, &v))
        return -1;
    *out = (long)v;
    return 0;
}

/* Split into whitespace tokens, but keep "..." (with escapes) inside one. */
static int tokenize(char *s, char **tok, int max)
{
    int n = 0;
    while (*s) {
        while (isspace((unsigned char)*s))
            s++;
        if (!*s)
            break;
        if (n == max)
            return -1;
        tok[n++] = s;
        int inq = 0;
        while (*s && (inq || !isspace((unsigned char)*s))) {
            if (*s == '\\' && inq && s[1]) {
                s += 2;
                continue;
            }
            if (*s == '"')
                inq = !inq;
            s++;
        }
        if (inq)
            return -2;
        if (*s)
            *s++ = 0;
    }
    return n;
}

static cf_step *new_step(pstate *ps, int kind)
{
    cf_case *c = ps->cur;
    cf_step *st = realloc(c->steps, sizeof *st * (size_t)(c->nsteps + 1));
    if (!st)
        abort();
    c->steps = st;
    cf_step *s = &st[c->nsteps++];
    cf_step_init(s, kind, ps->line, ps->conn);
    return s;
}

/* A script step: its row in the step table parses the words after the
 * keyword. */
static int parse_step(pstate *ps, char **tok, int n)
{
    int words;
    char objects[256], why[400];
    const cf_step_type *ty = cf_step_type_find(tok, n, &words, objects, sizeof objects);
    if (!ty) {
        if (objects[0] && n >= 2)
            return perr(ps, "unknown '%s %s' (%s)", tok[0], tok[1], objects);
        if (objects[0])
            return perr(ps, "'%s' needs what: %s", tok[0], objects);
        return perr(ps, "unknown keyword '%s'", tok[0]);
    }
    cf_step *s = new_step(ps, ty->kind);
    cf_step_parse ctx = {.nconns = ps->cur->nconns, .err = why, .errlen = sizeof why};
    if (ty->parse(s, &ctx, tok + words, n - words))
        return perr(ps, "%s", why);
    if (ty->kind == CF_S_ON)
        ps->conn = s->conn;
    return 0;
}

static int finish_case(pstate *ps)
{
    cf_case *c = ps->cur;
    if (!c)
        return 0;
    int save = ps->line;
    ps->line = c->line;
    int rc = 0;
    if (!c->has_level)
        rc = perr(ps, "case %s has no 'level'", c->id);
    else if (!c->rule)
        rc = perr(ps, "case %s has no 'rule'", c->id);
    else if (!c->noutcomes && c->nconns == 1 && c->conn_noutcomes[0] == 0)
        rc = perr(ps, "case %s has no 'outcome'", c->id);
    else if (c->nsteps == 0)
        rc = perr(ps, "case %s has no script steps", c->id);
    for (int i = 0; i < c->nsteps; i++) {
        const cf_step *st = &c->steps[i];
        if (((st->has_len || st->has_size) && st->len.rel_limit) ||
            (st->has_body && st->body.rel_limit))
            c->uses_limit = 1;
    }
    ps->line = save;
    ps->cur = NULL;
    return rc;
}

/* An acceptable-outcome list ('outcome', 'unlimited'): known names, none
 * that can never be acceptable. */
static int parse_outcomes(pstate *ps, const char *kw, char **tok, int n, int *set, int *count)
{
    if (n < 1 || n > CF_MAX_OUTCOMES)
        return perr(ps, "'%s' needs 1..%d outcomes", kw, CF_MAX_OUTCOMES);
    for (int i = 0; i < n; i++) {
        int o = cf_outcome_by_name(tok[i]);
        if (o < 0)
            return perr(ps, "unknown outcome '%s'", tok[i]);
        if (cf_outcome_is_robustness(o) || o == CF_O_BAD_REQUEST)
            return perr(ps, "outcome '%s' can never be acceptable", tok[i]);
        set[(*count)++] = o;
    }
    return 0;
}


/* ---- case-level keywords: one handler each, one table ---- */

static int kw_case(pstate *ps, char **tok, int n)
{
    if (finish_case(ps))
        return -1;
    if (n != 2 || !valid_id(tok[1]))
        return perr(ps, "'case' needs one id of [a-z0-9._-], starting with a letter");
    for (int i = 0; i < ps->cat->ncases; i++)
        if (strcmp(ps->cat->cases[i].id, tok[1]) == 0)
            return perr(ps, "duplicate case id '%s' (first at %s:%d)", tok[1],
                        ps->cat->cases[i].file, ps->cat->cases[i].line);
    cf_case *cs = realloc(ps->cat->cases, sizeof *cs * (size_t)(ps->cat->ncases + 1));
    if (!cs)
        abort();
    ps->cat->cases = cs;
    cf_case *c = &cs[ps->cat->ncases++];
    memset(c, 0, sizeof *c);
    c->id = strdup(tok[1]);
    c->file = strdup(ps->file);
    c->line = ps->line;
    c->nconns = 1;
    ps->cur = c;
    ps->conn = 0;
    ps->seen = 0;
    return 0;
}

static int kw_level(pstate *ps, char **tok, int n)
{
    if (n != 2)
        return perr(ps, "'level' needs MUST, SHOULD or INFO");
    int lv = cf_level_by_name(tok[1]);
    if (lv < 0)
        return perr(ps, "unknown level '%s' (MUST, SHOULD, INFO)", tok[1]);
    ps->cur->level = lv;
    ps->cur->has_level = 1;
    return 0;
}

static int kw_needs(pstate *ps, char **tok, int n)
{
    cf_case *c = ps->cur;
    if (n < 2)
        return perr(ps, "'needs' needs echo and/or fd");
    for (int i = 1; i < n; i++) {
        if (strcmp(tok[i], "echo") == 0)
            c->needs_echo = 1;
        else if (strcmp(tok[i], "fd") == 0)
            c->needs_fd = 1;
        else if (strcmp(tok[i], "requester") == 0)
            c->needs_requester = 1;
        else
            return perr(ps, "unknown need '%s' (echo, fd, requester)", tok[i]);
    }
    return 0;
}

static int kw_transports(pstate *ps, char **tok, int n)
{
    if (n < 2)
        return perr(ps, "'transports' needs transport names (socket, tcp, ipc)");
    for (int i = 1; i < n; i++) {
        int tr = cf_transport_by_name(tok[i]);
        if (tr < 0)
            return perr(ps, "unknown transport '%s' (socket, tcp, ipc)", tok[i]);
        ps->cur->transports |= 1u << tr;
    }
    return 0;
}

static int kw_protos(pstate *ps, char **tok, int n)
{
    cf_case *c = ps->cur;
    if (n < 2 || n - 1 > CF_MAX_PROTOS)
        return perr(ps, "'protos' needs 1..%d protocol names", CF_MAX_PROTOS);
    for (int i = 1; i < n; i++) {
        int id = spw_proto_by_name(tok[i]);
        if (id < 0)
            return perr(ps, "unknown protocol '%s'", tok[i]);
        c->protos[c->nprotos++] = (uint16_t)id;
    }
    return 0;
}

static int kw_timeout(pstate *ps, char **tok, int n)
{
    long v;
    if (n != 2 || parse_int(tok[1], 1, 600000, &v))
        return perr(ps, "'timeout' needs milliseconds 1..600000");
    ps->cur->timeout_ms = (int)v;
    return 0;
}

static int kw_fds(pstate *ps, char **tok, int n)
{
    long v;
    if (ps->cur->nsteps > 0)
        return perr(ps, "'fds' must come before the script");
    if (n != 2 || parse_int(tok[1], 2, CF_MAX_CONNS, &v))
        return perr(ps, "'fds N' needs 2..%d", CF_MAX_CONNS);
    ps->cur->nconns = (int)v;
    ps->cur->needs_fd = 1;
    return 0;
}

/* "outcome O..." once; "outcome fdK O..." once per connection K */
static int kw_outcome(pstate *ps, char **tok, int n)
{
    cf_case *c = ps->cur;
    long v;
    if (n >= 2 && strncmp(tok[1], "fd", 2) == 0 && isdigit((unsigned char)tok[1][2])) {
        if (parse_int(tok[1] + 2, 1, c->nconns, &v))
            return perr(ps, "'outcome fdK' needs K in 1..%d (the case's 'fds')", c->nconns);
        int conn = (int)v - 1;
        if (c->conn_noutcomes[conn])
            return perr(ps, "second 'outcome fd%d'", conn + 1);
        return parse_outcomes(ps, tok[0], tok + 2, n - 2, c->conn_outcomes[conn],
                              &c->conn_noutcomes[conn]);
    }
    if (c->noutcomes)
        return perr(ps, "second 'outcome' (list every acceptable outcome on one line)");
    return parse_outcomes(ps, tok[0], tok + 1, n - 1, c->outcomes, &c->noutcomes);
}

static int kw_unlimited(pstate *ps, char **tok, int n)
{
    return parse_outcomes(ps, tok[0], tok + 1, n - 1, ps->cur->unlimited, &ps->cur->nunlimited);
}

/* once: at most one such line per case (kw_outcome checks its own forms) */
static const struct case_keyword {
    const char *name;
    int once;
    int (*parse)(pstate *ps, char **tok, int n);
} case_keywords[] = {
    {"level", 1, kw_level},         {"needs", 1, kw_needs},     {"transports", 1, kw_transports},
    {"protos", 1, kw_protos},       {"timeout", 1, kw_timeout}, {"fds", 1, kw_fds},
    {"outcome", 0, kw_outcome},     {"unlimited", 1, kw_unlimited},
};

/* 'rule' keeps the rest of the line verbatim */
static int kw_rule(pstate *ps, char *s)
{
    if (!ps->cur)
        return perr(ps, "'rule' outside a case");
    if (ps->cur->rule)
        return perr(ps, "second 'rule' in case %s", ps->cur->id);
    char *r = s + 4;
    while (isspace((unsigned char)*r))
        r++;
    if (!*r)
        return perr(ps, "empty 'rule'");
    ps->cur->rule = strdup(r);
    return 0;
}

static int parse_line(pstate *ps, char *line)
{
    char *s = line;
    while (isspace((unsigned char)*s))
        s++;
    size_t l = strlen(s);
    while (l && isspace((unsigned char)s[l - 1]))
        s[--l] = 0;
    if (!*s || *s == '#')
        return 0;
    if (strncmp(s, "rule", 4) == 0 && (s[4] == ' ' || s[4] == '\t' || s[4] == 0))
        return kw_rule(ps, s);

    char *tok[64];
    int n = tokenize(s, tok, 64);
    if (n == -2)
        return perr(ps, "unterminated string");
    if (n < 0)
        return perr(ps, "too many words");
    if (strcmp(tok[0], "case") == 0)
        return kw_case(ps, tok, n);
    if (!ps->cur)
        return perr(ps, "'%s' before the first 'case'", tok[0]);
    for (size_t k = 0; k < sizeof case_keywords / sizeof case_keywords[0]; k++) {
        const struct case_keyword *kw = &case_keywords[k];
        if (strcmp(tok[0], kw->name) != 0)
            continue;
        if (kw->once && (ps->seen & (1u << k)))
            return perr(ps, "second '%s'", kw->name);
        ps->seen |= 1u << k;
        return kw->parse(ps, tok, n);
    }
    return parse_step(ps, tok, n);
}

static int check_case_semantics(pstate *ps, cf_case *c)
{
    int batch = 0;
    for (int i = 0; i < c->nsteps; i++) {
        cf_step *s = &c->steps[i];
        ps->line = s->line;
        if (s->kind == CF_S_BATCH) {
            if (batch)
                return perr(ps, "'batch' inside a batch");
            batch = 1;
        } else if (s->kind == CF_S_FLUSH) {
            if (!batch)
                return perr(ps, "'flush' without 'batch'");
            batch = 0;
        } else if (batch && !(cf_step_type_of(s->kind)->flags & CF_STEP_SENDS))
            return perr(ps, "only 'send' steps inside a batch");
        if (s->kind == CF_S_EXPECT_ECHO && !c->needs_echo)
            return perr(ps, "'expect echo' in a case without 'needs echo'");
        if (s->kind == CF_S_EXPECT_REQUEST && !c->needs_requester)
            return perr(ps, "'expect request' in a case without 'needs requester'");
        if (s->kind == CF_S_SEND_MESSAGE && s->reply_id != CF_ID_SAME && !c->needs_requester)
            return perr(ps, "'id=' answers a request: only in a case with 'needs requester'");
        if (s->kind == CF_S_ON && batch)
            return perr(ps, "'on' inside a batch");
    }
    if (c->needs_echo && c->needs_requester) {
        ps->line = c->line;
        return perr(ps, "a case needs echo or requester, not both");
    }
    for (int k = 0; k < c->nconns; k++)
        if (c->conn_noutcomes[k] == 0 && c->noutcomes == 0) {
            ps->line = c->line;
            return perr(ps, "connection fd%d has no outcome ('outcome' or 'outcome fd%d')", k + 1,
                        k + 1);
        }
    if (batch) {
        ps->line = c->steps[c->nsteps - 1].line;
        return perr(ps, "'batch' without 'flush'");
    }
    return 0;
}

int cf_parse_text(cf_catalogue *cat, const char *file, const char *text, char *err,
                  size_t errlen)
{
    pstate ps = {.cat = cat, .file = file, .err = err, .errlen = errlen};
    int first = cat->ncases;
    const char *p = text;
    while (*p) {
        ps.line++;
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char *line = malloc(len + 1);
        if (!line)
            abort();
        memcpy(line, p, len);
        line[len] = 0;
        int rc = 0;
        for (size_t i = 0; i < len; i++)
            if (line[i] == 0 || ((unsigned char)line[i] < 0x20 && line[i] != '\t' &&
                                 line[i] != '\r')) {
                rc = perr(&ps, "control character in line");
                break;
            }
        if (!rc)
            rc = parse_line(&ps, line);
        free(line);
        if (rc)
            return -1;
        p = nl ? nl + 1 : p + len;
    }
    ps.line++;
    if (finish_case(&ps))
        return -1;
    for (int i = first; i < cat->ncases; i++)
        if (check_case_semantics(&ps, &cat->cases[i]))
            return -1;
    return 0;
}

static int cmpstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int cf_load(cf_catalogue *cat, const char *path, char *err, size_t errlen)
{
    DIR *d = opendir(path);
    if (!d) {
        char *t = cf_read_file(path, err, errlen);
        if (!t)
            return -1;
        int rc = cf_parse_text(cat, path, t, err, errlen);
        free(t);
        return rc;
    }
    char **names = NULL;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        if (l > 6 && strcmp(de->d_name + l - 6, ".cases") == 0) {
            names = realloc(names, sizeof *names * (size_t)(n + 1));
            if (!names)
                abort();
            names[n++] = strdup(de->d_name);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, cmpstr);
    int rc = 0;
    if (n == 0) {
        snprintf(err, errlen, "%s: no *.cases files", path);
        rc = -1;
    }
    for (int i = 0; i < n && rc == 0; i++) {
        char full[4096];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        char *t = cf_read_file(full, err, errlen);
        if (!t) {
            rc = -1;
            break;
        }
        rc = cf_parse_text(cat, full, t, err, errlen);
        free(t);
    }
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

void cf_catalogue_free(cf_catalogue *cat)
{
    for (int i = 0; i < cat->ncases; i++) {
        cf_case *c = &cat->cases[i];
        for (int j = 0; j < c->nsteps; j++)
            cf_step_free(&c->steps[j]);
        free(c->steps);
        free(c->id);
        free(c->rule);
        free(c->file);
    }
    free(cat->cases);
    memset(cat, 0, sizeof *cat);
}

void cf_catalogue_no_limit(cf_catalogue *cat)
{
    for (int i = 0; i < cat->ncases; i++) {
        cf_case *c = &cat->cases[i];
        if (c->nunlimited > 0) {
            memcpy(c->outcomes, c->unlimited, sizeof c->outcomes);
            c->noutcomes = c->nunlimited;
        } else if (c->uses_limit)
            c->limit_skip = 1;
    }
}
