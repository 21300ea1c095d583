/* peer_cli.c -- option parsing for the conformance peers. */
#define _POSIX_C_SOURCE 200809L
#include "peer_cli.h"

#include "spw_hex.h"
#include "spwire/spwire.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

int spw_peer_proto_replies(const spw_proto_desc *d)
{
    return (d->flags & SPW_PF_ECHOES) && !(d->flags & SPW_PF_SENDS_FIRST);
}

/* The behaviours --proto d may run. --recv only reports what arrives: a
 * requester's replies answer its own sends and a replier owes each request
 * an answer, so neither may just receive. */
static unsigned modes_of(const spw_proto_desc *d)
{
    unsigned m = 0;

    if (d->flags & SPW_PF_SENDS)
        m |= SPW_MODE_SEND;
    if (d->flags & SPW_PF_ECHOES)
        m |= SPW_MODE_ECHO;
    if ((d->flags & SPW_PF_RECEIVES) && !(d->flags & SPW_PF_REQUESTS) && !spw_peer_proto_replies(d))
        m |= SPW_MODE_RECV;
    return m;
}

/* The --proto lines of the usage: every name of the table, in its order,
 * wrapped before column 79. */
static void usage_protos(FILE *f)
{
    static const char indent[] = "                      ";
    size_t col = sizeof(indent) - 1;

    fputs("  --proto NAME        ", f);
    for (int i = 0; i < SPW_PROTO_COUNT; i++) {
        const char *name = spw_proto_desc_at(i)->name;
        if (i > 0 && col + 1 + strlen(name) > 78) {
            fprintf(f, "\n%s", indent);
            col = sizeof(indent) - 1;
        } else if (i > 0) {
            fputc(' ', f);
            col++;
        }
        fputs(name, f);
        col += strlen(name);
    }
    fputc('\n', f);
}

void spw_peer_usage(FILE *f, const char *prog)
{
    fprintf(f,
            "Usage: %s --proto NAME ENDPOINT BEHAVIOUR [OPTIONS]\n"
            "\n"
            "A reference SP peer: runs one socket, prints events as JSON lines on stdout.\n"
            "\n"
            "Protocol:\n",
            prog);
    usage_protos(f);
    fprintf(f,
            "Endpoint (exactly one):\n"
            "  --fd N              inherited connected stream socket (socket://);\n"
            "                      repeat it to hand several sockets to one listener\n"
            "  --fds N1,N2,...     the same as --fd N1 --fd N2 ...\n"
            "  --fd-one-by-one     with several --fd: hand over the next one only once\n"
            "                      the previous became a pipe (bounded by --timeout)\n"
            "  --ctl N             inherited UNIX stream socket on which each further\n"
            "                      connection arrives as one SCM_RIGHTS message (byte\n"
            "                      'F', one fd; spw-conform's {ctl}): each goes to the\n"
            "                      socket:// listener like an --fd; EOF: no more come\n"
            "  --tcp-listen URL    listen on tcp://HOST:PORT\n"
            "  --ipc-listen URL    listen on ipc:///PATH (NNG and nanomsg peers)\n"
            "  --ipc-connect URL   dial ipc:///PATH (NNG and nanomsg peers)\n"
            "  --tcp-connect URL   dial tcp://HOST:PORT (non-blocking: retried until\n"
            "                      the peer listens)\n"
            "Behaviour (exactly one):\n"
            "  --send BYTES        send this payload, in spwire's hex syntax: hex pairs\n"
            "                      (0053), HH*N repeats, \"strings\" with \\r \\n \\t \\\\ \\\"\n"
            "                      \\xHH; may be empty: --send ''\n"
            "  --send-file FILE    send the contents of FILE\n"
            "  --size S            send generated S-byte payloads: byte i of message k\n"
            "                      (k counted from 0) is (k*31 + i) & 0xff\n"
            "  --sizes S1,S2,..    like --size, message k being S[k %% n] bytes long\n"
            "  --recv              receive --count messages and report them\n"
            "  --echo              receive and send each message back (rep/respondent:\n"
            "                      as the reply)\n"
            "  Per protocol: req sends and waits for each reply; surveyor sends a survey\n"
            "  and collects responses until --timeout (or until --wait-peers responses);\n"
            "  rep/respondent with a payload option reply with that payload.\n"
            "  Allowed: pair0/pair1/bus send|recv|echo; pub/push/req/surveyor send;\n"
            "  sub/pull recv; rep/respondent send|echo.\n"
            "Options:\n"
            "  --count N           messages to send or receive (default 1)\n"
            "  --recvmax BYTES     maximum receive size; -1 = unlimited (nng: 0,\n"
            "                      nanomsg: -1); other values are passed verbatim\n"
            "                      (0 is unlimited in nng, a 0-byte limit in nanomsg)\n"
            "  --timeout MS        per send/receive timeout, also bounds --wait-peers\n"
            "                      (default %d; -1 = infinite)\n"
            "  --wait-peers N      before sending, wait until N pipes are connected\n"
            "  --linger MS         pause after the last send before closing (default %d)\n"
            "  --seq               with --size/--sizes: the first 8 bytes of message k\n"
            "                      (fewer if shorter) are k, u64 big-endian\n"
            "  --wait-close MS     after the behaviour, wait up to MS for the peers to\n"
            "                      close every pipe (exit 1 if they do not; only where\n"
            "                      the peer supports it)\n"
            "  --raw               raw-mode socket (only where the peer supports it)\n"
            "  --help              show this help; --version: NAME VERSION\n"
            "\n"
            "Exit status: 0 behaviour completed, 1 it did not, 2 usage error.\n",
            SPW_DEFAULT_TIMEOUT_MS, SPW_DEFAULT_LINGER_MS);
}

/* fmt is one of this file's messages, holding at most one "%s" for arg:
 * substituted here, so no format string is built from a variable. */
static int usage_error(const char *prog, const char *fmt, const char *arg)
{
    const char *at = strstr(fmt, "%s");

    fprintf(stderr, "%s: ", prog);
    if (at != NULL)
        fprintf(stderr, "%.*s%s%s", (int)(at - fmt), fmt, arg ? arg : "", at + 2);
    else
        fputs(fmt, stderr);
    fprintf(stderr, "\nTry '%s --help'.\n", prog);
    return SPW_CLI_USAGE;
}

static int parse_ll(const char *s, long long min, long long max, long long *out)
{
    char *end;
    long long v;

    if (s == NULL || *s == '\0')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

/* One more inherited fd (--fd, --fds). NULL, or the usage error's format
 * (taking val). */
static const char *add_fd(spw_peer_opts *o, const char *val, int *n_ep)
{
    long long v;

    if (parse_ll(val, 0, INT_MAX, &v) != 0)
        return "--fd: not a file descriptor number: '%s'";
    if (o->nfds == SPW_PEER_MAX_FDS)
        return "--fd: too many (at most 16): '%s'";
    if (o->nfds == 0) {
        o->fd = (int)v;
        (*n_ep)++;
    }
    o->ep = SPW_EP_FD;
    o->fds[o->nfds++] = (int)v;
    return NULL;
}

static int read_file(const char *path, unsigned char **out, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    unsigned char *b = NULL;
    size_t n = 0, cap = 0;

    if (f == NULL)
        return -1;
    for (;;) {
        size_t got;
        if (cap - n < 4096) {
            unsigned char *nb = realloc(b, cap ? cap * 2 : 8192);
            if (nb == NULL)
                goto fail;
            b = nb;
            cap = cap ? cap * 2 : 8192;
        }
        got = fread(b + n, 1, cap - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                goto fail;
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    *out = b;
    *len = n;
    return 0;
fail:
    free(b);
    if (f != stdin)
        fclose(f);
    return -1;
}

/* Matches "--name" (value in next argv) or "--name=value". */
static int match(const char *arg, const char *name, int has_value, int *i, int argc, char **argv,
                 const char **value)
{
    size_t n = strlen(name);

    if (strncmp(arg, name, n) != 0)
        return 0;
    if (arg[n] == '\0') {
        if (!has_value)
            return 1;
        if (*i + 1 >= argc) {
            *value = NULL;
            return 1;
        }
        *value = argv[++*i];
        return 1;
    }
    if (has_value && arg[n] == '=') {
        *value = arg + n + 1;
        return 1;
    }
    return 0;
}

void spw_peer_opts_free(spw_peer_opts *o)
{
    free(o->payload);
    o->payload = NULL;
    o->payload_len = 0;
    free(o->sizes);
    o->sizes = NULL;
    o->nsizes = 0;
}

/* "S1,S2,..." -> malloc'ed array; -1 on a malformed list. */
static int parse_sizes(const char *s, long long **out, size_t *n)
{
    long long *v = malloc(SPW_PEER_MAX_SIZES * sizeof(*v));
    size_t k = 0;

    if (v == NULL)
        return -1;
    while (*s) {
        char num[32];
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        if (k == SPW_PEER_MAX_SIZES || len == 0 || len >= sizeof(num))
            goto bad;
        memcpy(num, s, len);
        num[len] = '\0';
        if (parse_ll(num, 0, (long long)1 << 40, &v[k]) != 0)
            goto bad;
        k++;
        s += len;
        if (*s == ',') {
            s++;
            if (*s == '\0')
                goto bad;
        }
    }
    if (k == 0)
        goto bad;
    *out = v;
    *n = k;
    return 0;
bad:
    free(v);
    return -1;
}

int spw_peer_parse(spw_peer_opts *o, const spw_peer_caps *caps, int argc, char **argv)
{
    const char *prog = caps && caps->prog ? caps->prog : (argc > 0 ? argv[0] : "peer");
    const char *proto_arg = NULL;
    int n_ep = 0, n_payload = 0, i;
    int want_send = 0, want_recv = 0, want_echo = 0;
    long long v;
    char hexerr[128];

    memset(o, 0, sizeof(*o));
    o->fd = -1;
    o->ctl = -1;
    o->size = -1;
    o->count = 1;
    o->timeout_ms = SPW_DEFAULT_TIMEOUT_MS;
    o->linger_ms = SPW_DEFAULT_LINGER_MS;
    o->wait_close_ms = -2;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            spw_peer_usage(stdout, prog);
            spw_peer_opts_free(o);
            return SPW_CLI_HELP;
        }
        if (strcmp(a, "--version") == 0) {
            printf("%s %s\n", caps && caps->name ? caps->name : prog, SPWIRE_VERSION_STRING);
            spw_peer_opts_free(o);
            return SPW_CLI_HELP;
        }
#define NEED_VALUE(opt)                                                                            \
    if (val == NULL) {                                                                             \
        spw_peer_opts_free(o);                                                                     \
        return usage_error(prog, "option %s needs a value", opt);                                  \
    }
#define BAD(fmt, x)                                                                                \
    do {                                                                                           \
        spw_peer_opts_free(o);                                                                     \
        return usage_error(prog, fmt, x);                                                          \
    } while (0)

        if (match(a, "--proto", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--proto");
            proto_arg = val;
        } else if (match(a, "--fd", 1, &i, argc, argv, &val)) {
            const char *bad;
            NEED_VALUE("--fd");
            if ((bad = add_fd(o, val, &n_ep)) != NULL)
                BAD(bad, val);
        } else if (match(a, "--fds", 1, &i, argc, argv, &val)) {
            char one[32];
            const char *p, *bad;
            NEED_VALUE("--fds");
            p = val;
            do {
                size_t len = strcspn(p, ",");
                if (len >= sizeof(one))
                    BAD("--fds: not a file descriptor number in '%s'", val);
                memcpy(one, p, len);
                one[len] = '\0';
                if ((bad = add_fd(o, one, &n_ep)) != NULL)
                    BAD(bad, val);
                p += len;
            } while (*p++ == ',');
        } else if (match(a, "--ctl", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--ctl");
            if (parse_ll(val, 0, INT_MAX, &v) != 0)
                BAD("--ctl: not a file descriptor number: '%s'", val);
            o->ep = SPW_EP_CTL;
            o->ctl = (int)v;
            n_ep++;
        } else if (match(a, "--tcp-listen", 1, &i, argc, argv, &val) ||
                   match(a, "--tcp-connect", 1, &i, argc, argv, &val) ||
                   match(a, "--ipc-listen", 1, &i, argc, argv, &val) ||
                   match(a, "--ipc-connect", 1, &i, argc, argv, &val)) {
            /* a: the option as given; its middle word names the scheme */
            int ipc = strncmp(a, "--ipc-", 6) == 0;
            const char *scheme = ipc ? "ipc://" : "tcp://";
            NEED_VALUE(a);
            if (ipc && !caps->ipc_ok)
                BAD("%s: this peer has no ipc transport", a);
            if (strncmp(val, scheme, 6) != 0) {
                char m[160];
                snprintf(m, sizeof m, "%.40s: URL must start with %s: '%.80s'", a, scheme, val);
                BAD("%s", m);
            }
            o->ep = strstr(a, "-listen") ? SPW_EP_TCP_LISTEN : SPW_EP_TCP_CONNECT;
            o->url = val;
            n_ep++;
        } else if (match(a, "--echo", 0, &i, argc, argv, &val)) {
            want_echo = 1;
        } else if (match(a, "--recv", 0, &i, argc, argv, &val)) {
            want_recv = 1;
        } else if (match(a, "--send-file", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--send-file");
            free(o->payload);
            o->payload = NULL;
            if (read_file(val, &o->payload, &o->payload_len) != 0)
                BAD("--send-file: cannot read '%s'", val);
            want_send = 1;
            n_payload++;
        } else if (match(a, "--send", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--send");
            free(o->payload);
            o->payload = NULL;
            if (spw_hex_parse(val, &o->payload, &o->payload_len, hexerr, sizeof(hexerr)) != 0)
                BAD("--send: %s", hexerr);
            want_send = 1;
            n_payload++;
        } else if (match(a, "--sizes", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--sizes");
            free(o->sizes);
            o->sizes = NULL;
            if (parse_sizes(val, &o->sizes, &o->nsizes) != 0)
                BAD("--sizes: not a comma-separated list of byte counts: '%s'", val);
            want_send = 1;
            n_payload++;
        } else if (match(a, "--fd-one-by-one", 0, &i, argc, argv, &val)) {
            o->fd_one_by_one = 1;
        } else if (match(a, "--seq", 0, &i, argc, argv, &val)) {
            o->seq = 1;
        } else if (match(a, "--wait-close", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--wait-close");
            if (parse_ll(val, 0, INT_MAX, &v) != 0)
                BAD("--wait-close: not milliseconds: '%s'", val);
            o->wait_close_ms = (int)v;
        } else if (match(a, "--size", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--size");
            if (parse_ll(val, 0, (long long)1 << 40, &v) != 0)
                BAD("--size: not a byte count: '%s'", val);
            o->size = v;
            want_send = 1;
            n_payload++;
        } else if (match(a, "--count", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--count");
            if (parse_ll(val, 0, LLONG_MAX, &v) != 0)
                BAD("--count: not a non-negative number: '%s'", val);
            o->count = v;
        } else if (match(a, "--recvmax", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--recvmax");
            if (parse_ll(val, -1, LLONG_MAX, &v) != 0)
                BAD("--recvmax: not a byte count (or -1): '%s'", val);
            o->recvmax = v;
            o->recvmax_set = 1;
        } else if (match(a, "--timeout", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--timeout");
            if (parse_ll(val, -1, INT_MAX, &v) != 0)
                BAD("--timeout: not milliseconds (or -1): '%s'", val);
            o->timeout_ms = (int)v;
        } else if (match(a, "--wait-peers", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--wait-peers");
            if (parse_ll(val, 0, INT_MAX, &v) != 0)
                BAD("--wait-peers: not a non-negative number: '%s'", val);
            o->wait_peers = (int)v;
        } else if (match(a, "--linger", 1, &i, argc, argv, &val)) {
            NEED_VALUE("--linger");
            if (parse_ll(val, 0, INT_MAX, &v) != 0)
                BAD("--linger: not milliseconds: '%s'", val);
            o->linger_ms = (int)v;
        } else if (match(a, "--raw", 0, &i, argc, argv, &val)) {
            o->raw = 1;
        } else {
            BAD("unknown argument '%s'", a);
        }
    }

    if (proto_arg == NULL)
        BAD("--proto is required%s", "");
    /* Canonical names only: the peers' command lines name protocols one way. */
    for (i = 0; i < SPW_PROTO_COUNT; i++)
        if (strcmp(proto_arg, spw_proto_desc_at(i)->name) == 0)
            o->proto = spw_proto_desc_at(i);
    if (o->proto == NULL)
        BAD("--proto: unknown protocol '%s'", proto_arg);
    if (caps && caps->proto_ok && !caps->proto_ok(o->proto->id))
        BAD("protocol '%s' is not supported by this peer", proto_arg);

    if (n_ep == 0)
        BAD("an endpoint is required: --fd, --ctl, --tcp-listen or --tcp-connect%s", "");
    if (n_ep > 1)
        BAD("only one endpoint may be given%s", "");
    if ((o->ep == SPW_EP_FD || o->ep == SPW_EP_CTL) && caps && !caps->fd_ok)
        BAD("%s",
            caps->fd_unsupported ? caps->fd_unsupported : "--fd is not supported by this peer");

    if (n_payload > 1)
        BAD("only one of --send, --send-file, --size, --sizes may be given%s", "");
    if (o->seq && o->size < 0 && o->sizes == NULL)
        BAD("--seq needs --size or --sizes%s", "");
    if (o->wait_close_ms != -2 && caps && !caps->wait_close_ok)
        BAD("--wait-close is not supported by this peer%s", "");
    if (want_send + want_recv + want_echo != 1)
        BAD("exactly one behaviour is required: --send/--send-file/--size, --recv or --echo%s", "");
    o->mode = want_send ? SPW_MODE_SEND : want_recv ? SPW_MODE_RECV : SPW_MODE_ECHO;
    if (!(modes_of(o->proto) & o->mode))
        BAD("protocol '%s' cannot do this behaviour (see --help)", proto_arg);
    if (o->raw && caps && !caps->raw_ok)
        BAD("--raw is not supported by this peer%s", "");
#undef NEED_VALUE
#undef BAD
    return SPW_CLI_OK;
}

unsigned char *spw_peer_payload(const spw_peer_opts *o, long long k, size_t *len)
{
    unsigned char *b;

    if (o->size >= 0 || o->sizes != NULL) {
        size_t n, i;
        n = o->sizes ? (size_t)o->sizes[(unsigned long long)k % o->nsizes] : (size_t)o->size;
        b = malloc(n ? n : 1);
        if (b == NULL)
            return NULL;
        for (i = 0; i < n; i++)
            b[i] = (unsigned char)(((unsigned long long)k * 31u + i) & 0xffu);
        for (i = 0; o->seq && i < 8 && i < n; i++)
            b[i] = (unsigned char)((unsigned long long)k >> (56 - 8 * i));
        *len = n;
        return b;
    }
    b = malloc(o->payload_len ? o->payload_len : 1);
    if (b == NULL)
        return NULL;
    if (o->payload_len)
        memcpy(b, o->payload, o->payload_len);
    *len = o->payload_len;
    return b;
}
