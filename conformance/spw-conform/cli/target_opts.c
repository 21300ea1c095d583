/* spw-conform commands — the target options: ONE table gives each option's
 * name, how its value is parsed, how it is written back (reproduction
 * commands) and its help line. */
#include "cli.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spwire/proto.h"
#include "text.h"

enum opt_kind { O_EXEC, O_URL_CONNECT, O_URL_LISTEN, O_PROTO, O_U64, O_MS, O_EXIT_LIST };

typedef struct target_opt {
    const char *name;         /* without "--" */
    int kind;                 /* enum opt_kind */
    size_t off;               /* O_U64, O_MS: the cf_target field */
    unsigned long long min;   /* O_MS: the smallest value */
    const char *help;         /* "VALUE  text" for --help */
} target_opt;

static const target_opt opts[] = {
    {"exec", O_EXEC, 0, 0,
     "'CMD ... {fd}'   spawn the IUT on one end of a socketpair (socket://),\n"
     "                          one fresh process per case"},
    {"connect", O_URL_CONNECT, 0, 0,
     "URL           the IUT listens on tcp://H:P or ipc:///PATH; with\n"
     "                          --exec 'CMD ... {url}' it is started per case (tcp port\n"
     "                          0: pick a free port), without --exec one running IUT\n"
     "                          serves every case"},
    {"listen", O_URL_LISTEN, 0, 0,
     "URL            with --exec 'CMD ... {url}': the IUT dials us there"},
    {"proto", O_PROTO, 0, 0, "NAME            protocol the IUT speaks (required)"},
    {"recvmax", O_U64, offsetof(cf_target, recvmax), 0,
     "N             the IUT's receive limit (default 1048576; 0: it has\n"
     "                          none, as NNG's default: cases sized relative to the\n"
     "                          limit are skipped, huge lengths judged as unlimited)"},
    {"timeout", O_MS, offsetof(cf_target, timeout_ms), 1,
     "MS            per-case observation window (default 1000)"},
    {"grace", O_MS, offsetof(cf_target, grace_ms), 0,
     "MS              after a case's last event, how long the IUT is watched\n"
     "                          for dying on its own before it is stopped (default 100)"},
    {"kill-timeout", O_MS, offsetof(cf_target, kill_timeout_ms), 1,
     "MS       grace after SIGTERM before the IUT counts as hung (1000)"},
    {"start-timeout", O_MS, offsetof(cf_target, start_timeout_ms), 1,
     "MS      wait for the IUT to listen, dial or send its header\n"
     "                          (default 5000)"},
    {"iut-exit-ok", O_EXIT_LIST, 0, 0,
     "S[,S...]  exit statuses that are the IUT's documented way to end\n"
     "                          (a one-connection IUT); any other exit of its own during\n"
     "                          a case is the outcome 'exited', death by a signal\n"
     "                          'crashed': both FAIL every case"},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static int parse_proto_option(cf_target *t, const char *v, char *err, size_t errlen)
{
    int id = spw_proto_by_name(v);
    if (id >= 0) {
        t->proto = (uint16_t)id;
        return 0;
    }
    int off = snprintf(err, errlen, "unknown protocol '%s' (one of:", v);
    for (int i = 0; spw_proto_desc_at(i) && off > 0 && (size_t)off < errlen; i++)
        off += snprintf(err + off, errlen - (size_t)off, " %s", spw_proto_desc_at(i)->name);
    if (off > 0 && (size_t)off < errlen)
        snprintf(err + off, errlen - (size_t)off, ")");
    return -1;
}

static int parse_exit_list(cf_target *t, const char *v, char *err, size_t errlen)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", v);
    t->nexit_ok = 0;
    for (char *save = NULL, *w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        unsigned long long st;
        if (t->nexit_ok == (int)(sizeof t->exit_ok / sizeof t->exit_ok[0]) ||
            cf_parse_num(w, 0, 255, &st)) {
            snprintf(err, errlen, "--iut-exit-ok: up to 8 exit statuses 0..255, comma-separated, "
                     "not '%s'", v);
            return -1;
        }
        t->exit_ok[t->nexit_ok++] = (int)st;
    }
    if (t->nexit_ok == 0) {
        snprintf(err, errlen, "--iut-exit-ok needs exit statuses");
        return -1;
    }
    return 0;
}

int cf_target_option(cf_target *t, const char *prefix, int argc, char **argv, int *i, char *err,
                     size_t errlen)
{
    const char *a = argv[*i];
    size_t pl = strlen(prefix);
    if (strncmp(a, "--", 2) != 0 || strncmp(a + 2, prefix, pl) != 0)
        return 0;
    const target_opt *o = NULL;
    for (size_t k = 0; k < NOPTS && !o; k++)
        if (strcmp(a + 2 + pl, opts[k].name) == 0)
            o = &opts[k];
    if (!o)
        return 0;
    if (*i + 1 >= argc) {
        snprintf(err, errlen, "%s needs a value", a);
        return -1;
    }
    const char *v = argv[++*i];
    unsigned long long n;
    switch (o->kind) {
    case O_EXEC:
        t->exec = v;
        return 1;
    case O_URL_CONNECT:
        return cf_target_set_url(t, CF_T_CONNECT, v, err, errlen) ? -1 : 1;
    case O_URL_LISTEN:
        return cf_target_set_url(t, CF_T_LISTEN, v, err, errlen) ? -1 : 1;
    case O_PROTO:
        return parse_proto_option(t, v, err, errlen) ? -1 : 1;
    case O_EXIT_LIST:
        return parse_exit_list(t, v, err, errlen) ? -1 : 1;
    case O_MS:
        if (cf_parse_num(v, o->min, 600000, &n)) {
            snprintf(err, errlen, "%s: milliseconds %llu..600000 expected, not '%s'", a, o->min,
                     v);
            return -1;
        }
        *(int *)((char *)t + o->off) = (int)n;
        return 1;
    default:
        if (cf_parse_num(v, 0, UINT64_MAX, &n)) {
            snprintf(err, errlen, "%s: bad number '%s'", a, v);
            return -1;
        }
        *(uint64_t *)((char *)t + o->off) = n;
        return 1;
    }
}

void cf_target_args(cf_buf *b, const cf_target *t)
{
    for (size_t k = 0; k < NOPTS; k++) {
        const target_opt *o = &opts[k];
        switch (o->kind) {
        case O_EXEC:
            if (t->exec) {
                cf_buf_printf(b, " --exec ");
                cf_shell_quote(b, t->exec);
            }
            break;
        case O_URL_CONNECT:
        case O_URL_LISTEN:
            if (t->url && t->kind == (o->kind == O_URL_CONNECT ? CF_T_CONNECT : CF_T_LISTEN)) {
                cf_buf_printf(b, " --%s ", o->name);
                cf_shell_quote(b, t->url);
            }
            break;
        case O_PROTO:
            cf_buf_printf(b, " --proto %s", spw_proto_name(t->proto));
            break;
        case O_EXIT_LIST:
            for (int i = 0; i < t->nexit_ok; i++)
                cf_buf_printf(b, "%s%d", i ? "," : " --iut-exit-ok ", t->exit_ok[i]);
            break;
        case O_MS:
            cf_buf_printf(b, " --%s %d", o->name, *(const int *)((const char *)t + o->off));
            break;
        default:
            cf_buf_printf(b, " --%s %llu", o->name,
                          (unsigned long long)*(const uint64_t *)((const char *)t + o->off));
            break;
        }
    }
}

void cf_target_usage(FILE *f)
{
    fprintf(f, "Target (the implementation under test, IUT):\n");
    for (size_t k = 0; k < NOPTS; k++)
        fprintf(f, "  --%s %s\n", opts[k].name, opts[k].help);
    fprintf(f,
            "  Placeholders in CMD: {fd} {fds} {url} {proto} {recvmax} {behaviour}; {fds}\n"
            "  is every fd of a case that hands the IUT several (comma-separated; cases\n"
            "  with 'fds N' are skipped without it); {behaviour} expands to the spwire\n"
            "  peer CLI flags that make the IUT echo (pair0, pair1, bus, rep, respondent),\n"
            "  send (req, surveyor, pub, push) or receive (sub, pull).\n"
            "  An environment prefix works: --exec 'ASAN_OPTIONS=... my-iut {fd}'.\n"
            "  Transports: socket (--exec {fd}), tcp:// and ipc:// (NNG's and nanomsg's\n"
            "  ipc framing: a type byte before each length); a case names the transports\n"
            "  it applies to ('transports'), the others skip it.\n");
}
