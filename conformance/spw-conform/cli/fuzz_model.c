/* spw-conform fuzz — the input model (contract in fuzz_model.h). */
#include "fuzz_model.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spwire/frame.h"
#include "spwire/handshake.h"
#include "spwire/proto.h"
#include "spwire/sp_header.h"

/* Frames of an entry the structure-aware operators see; the rest of a
 * longer stream rides along as raw bytes. */
#define MAX_SEGS 128
/* Random bytes one input may insert (garbage segments, new bodies). */
#define GARBAGE 512
/* Share of draws that go to the seeds whatever their signatures (1 in N). */
#define SEED_SHARE 4

/* One frame of a corpus entry as parsed leniently: a length that runs past
 * the end keeps its announcement and takes what bytes there are. */
typedef struct frame_rec {
    size_t body, n;     /* body offset and the bytes present */
    uint64_t len;       /* the length field as found */
    uint8_t type;       /* the type byte as found (ipc) */
} frame_rec;

typedef struct entry {
    char *name;
    uint8_t *p;
    size_t n;
    size_t hs_len;      /* the SP header's bytes at the front (0 when none) */
    frame_rec *fr;
    int nfr;
    size_t tail;        /* offset of what follows the frames (no frame; n when nothing) */
    int sig;            /* index into the signature table; -1 for a seed */
} entry;

typedef struct sig_count {
    uint64_t sig;
    long count;
} sig_count;

/* A piece of the stream being built: a frame (header written from its
 * fields) or raw bytes. Bodies point into corpus entries, tokens or the
 * garbage buffer; nothing is copied until the stream is written. */
typedef struct seg {
    const uint8_t *p;
    size_t n;
    uint64_t len;       /* the announced length when lie */
    uint8_t raw, lie, type;
    uint8_t word_op;    /* 0 none, 1 replace the first word, 2 push words in front */
    uint8_t words;      /* words pushed */
    uint8_t word[4];
} seg;

struct cf_fuzz_model {
    uint64_t rng;
    uint64_t limit;
    uint16_t proto;
    int hdr_kind;       /* the header the IUT receives (spw_hdr_kind) */
    cf_framing f;
    unsigned ops;
    uint8_t hs[SPW_HANDSHAKE_SIZE]; /* the valid peer's header */
    entry *e;
    int ne, ncap, nseeds;
    cf_buf *tok;
    int ntok, tokcap;
    sig_count *sigs;
    int nsigs, sigcap;
    int *slot;          /* open addressing: sig -> index + 1 (0 free) */
    size_t nslot;
    uint64_t *lengths;
    size_t nlengths;
    uint32_t *words;
    size_t nwords;
    /* scratch, reused by every cf_model_next */
    seg segs[MAX_SEGS + 8]; /* + what one input's operators insert */
    size_t body_at[MAX_SEGS + 8], body_n[MAX_SEGS + 8];
    uint8_t garbage[GARBAGE];
    cf_buf tmp;
};

/* ------------------------------------------------------------ random */

/* splitmix64's finaliser: a bijection, so distinct packed signatures stay
 * distinct */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* splitmix64: any state, including 0, is a good one */
static uint64_t rnd(cf_fuzz_model *m)
{
    return mix(m->rng += UINT64_C(0x9E3779B97F4A7C15));
}

static size_t rndn(cf_fuzz_model *m, size_t n)
{
    return n ? (size_t)(rnd(m) % n) : 0;
}

static double rnd_unit(cf_fuzz_model *m)
{
    return (double)(rnd(m) >> 11) * (1.0 / 9007199254740992.0);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        abort();
    return p;
}

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size ? size : 1);
    if (!q)
        abort();
    return q;
}

/* ------------------------------------------------------------ boundaries */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void add_range(uint64_t *v, size_t *n, uint64_t centre, int below, int above)
{
    for (int d = -below; d <= above; d++)
        v[(*n)++] = centre + (uint64_t)(int64_t)d;
}

/* Sorted, without repeats: a value drawn uniformly from the list is as
 * likely as any other, whichever rules produced it. */
static size_t sort_unique(uint64_t *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_u64);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (k == 0 || v[k - 1] != v[i])
            v[k++] = v[i];
    return k;
}

static void make_boundaries(cf_fuzz_model *m)
{
    /* where implementations keep sizes in narrower types (8..32 bits), use
     * the top bits as flags (60, 63) or add headroom before allocating */
    static const unsigned exps[] = {8, 16, 24, 31, 32, 48, 56, 60, 63};
    static const uint64_t headroom[] = {8, 16, 32, 64, 4096};
    size_t n = 0;
    uint64_t *v = xcalloc(1024, sizeof *v);
    add_range(v, &n, 0, 0, 16);
    for (size_t i = 0; i < sizeof exps / sizeof *exps; i++)
        add_range(v, &n, (uint64_t)1 << exps[i], 16, 16);
    add_range(v, &n, UINT64_MAX, 127, 0);
    for (size_t i = 0; i < sizeof headroom / sizeof *headroom; i++)
        v[n++] = (uint64_t)SIZE_MAX - headroom[i];
    /* a header's worth below a power, so that header + length is one;
     * 32 below, NNG's allocation headroom (FINDINGS F8) */
    for (unsigned k = 4; k < 64; k++) {
        v[n++] = (uint64_t)1 << k;
        v[n++] = ((uint64_t)1 << k) - m->f.hdr_len;
        v[n++] = ((uint64_t)1 << k) - m->f.hdr_len - 4;
        v[n++] = ((uint64_t)1 << k) - 32;
    }
    if (m->limit)
        add_range(v, &n, m->limit, m->limit < 16 ? (int)m->limit : 16, 16);
    m->nlengths = sort_unique(v, n);
    m->lengths = v;

    uint64_t w[256];
    n = 0;
    add_range(w, &n, 0, 0, 16);
    for (unsigned k = 8; k <= 24; k += 8)
        add_range(w, &n, (uint64_t)1 << k, 16, 16);
    add_range(w, &n, (uint64_t)1 << 31, 16, -1);
    n = sort_unique(w, n);
    m->words = xcalloc(n, sizeof *m->words);
    for (size_t i = 0; i < n; i++)
        m->words[i] = (uint32_t)w[i];
    m->nwords = n;
}

const uint64_t *cf_model_lengths(const cf_fuzz_model *m, size_t *n)
{
    *n = m->nlengths;
    return m->lengths;
}

const uint32_t *cf_model_words(const cf_fuzz_model *m, size_t *n)
{
    *n = m->nwords;
    return m->words;
}

static uint64_t pick_length(cf_fuzz_model *m)
{
    return m->lengths[rndn(m, m->nlengths)];
}

/* ------------------------------------------------------------ model */

cf_fuzz_model *cf_model_new(uint64_t seed, uint64_t limit, uint16_t proto, const cf_framing *f)
{
    cf_fuzz_model *m = xcalloc(1, sizeof *m);
    m->rng = seed;
    m->limit = limit;
    m->proto = proto;
    m->hdr_kind = spw_hdr_kind_for(proto);
    m->f = *f;
    m->ops = CF_MOP_ALL;
    int peer = spw_proto_peer(proto);
    spw_handshake_encode(m->hs, (uint16_t)(peer < 0 ? proto : peer));
    make_boundaries(m);
    return m;
}

void cf_model_set_ops(cf_fuzz_model *m, unsigned ops)
{
    m->ops = ops & CF_MOP_ALL;
}

void cf_model_free(cf_fuzz_model *m)
{
    if (!m)
        return;
    for (int i = 0; i < m->ne; i++) {
        free(m->e[i].name);
        free(m->e[i].p);
        free(m->e[i].fr);
    }
    for (int i = 0; i < m->ntok; i++)
        cf_buf_free(&m->tok[i]);
    free(m->e);
    free(m->tok);
    free(m->sigs);
    free(m->slot);
    free(m->lengths);
    free(m->words);
    cf_buf_free(&m->tmp);
    free(m);
}

/* Handshake and frames of e->p, leniently: a stream that does not open
 * like an SP header ("\0SP") has none; a frame opening with the wrong type
 * byte, or a header cut short, ends the frames and starts the tail. */
static void parse_entry(const cf_fuzz_model *m, entry *e)
{
    const size_t hl = m->f.hdr_len;
    e->hs_len = e->n >= 3 && memcmp(e->p, m->hs, 3) == 0
                    ? (e->n < SPW_HANDSHAKE_SIZE ? e->n : SPW_HANDSHAKE_SIZE)
                    : 0;
    size_t pos = e->hs_len;
    e->fr = xcalloc(MAX_SEGS, sizeof *e->fr);
    e->nfr = 0;
    while (e->nfr < MAX_SEGS && e->n - pos >= hl) {
        const uint8_t *h = e->p + pos;
        if (m->f.type_byte >= 0 && h[0] != (uint8_t)m->f.type_byte)
            break;
        uint64_t len = 0;
        for (size_t i = hl - 8; i < hl; i++)
            len = len << 8 | h[i];
        size_t avail = e->n - pos - hl;
        frame_rec *r = &e->fr[e->nfr++];
        r->body = pos + hl;
        r->n = len < (uint64_t)avail ? (size_t)len : avail;
        r->len = len;
        r->type = h[0];
        pos = r->body + r->n;
    }
    e->tail = pos;
    e->fr = xrealloc(e->fr, (size_t)(e->nfr ? e->nfr : 1) * sizeof *e->fr);
}

static entry *add_entry(cf_fuzz_model *m, const char *name, const uint8_t *p, size_t n, int sig)
{
    if (m->ne == m->ncap) {
        m->ncap = m->ncap ? m->ncap * 2 : 16;
        m->e = xrealloc(m->e, (size_t)m->ncap * sizeof *m->e);
    }
    entry *e = &m->e[m->ne++];
    memset(e, 0, sizeof *e);
    e->n = n < CF_MODEL_MAX_INPUT ? n : CF_MODEL_MAX_INPUT;
    e->p = xcalloc(e->n, 1);
    if (e->n)
        memcpy(e->p, p, e->n);
    e->name = strdup(name);
    if (!e->name)
        abort();
    e->sig = sig;
    parse_entry(m, e);
    return e;
}

void cf_model_add_seed(cf_fuzz_model *m, const char *name, const uint8_t *p, size_t n)
{
    if (!n)
        return;
    add_entry(m, name, p, n, -1);
    m->nseeds++;
}

void cf_model_add_token(cf_fuzz_model *m, const uint8_t *p, size_t n)
{
    if (!n)
        return;
    if (m->ntok == m->tokcap) {
        m->tokcap = m->tokcap ? m->tokcap * 2 : 16;
        m->tok = xrealloc(m->tok, (size_t)m->tokcap * sizeof *m->tok);
    }
    cf_buf *t = &m->tok[m->ntok++];
    memset(t, 0, sizeof *t);
    cf_buf_add(t, p, n);
}

int cf_model_corpus_size(const cf_fuzz_model *m)
{
    return m->ne;
}

int cf_model_behaviours(const cf_fuzz_model *m)
{
    return m->nsigs;
}

/* ------------------------------------------------------------ scheduling */

/* A quarter of the draws (and all while feedback has added nothing) are
 * seeds, uniformly; the rest are feedback entries with weight
 * 1 / count(signature): a behaviour seen once is drawn as often as one seen
 * ten times ten times over. */
static const entry *pick_entry(cf_fuzz_model *m)
{
    int added = m->ne - m->nseeds;
    if (m->ne == 0)
        return NULL;
    if (added == 0 || (m->nseeds && rndn(m, SEED_SHARE) == 0)) {
        size_t k = rndn(m, (size_t)m->nseeds);
        for (int i = 0; i < m->ne; i++)
            if (m->e[i].sig < 0 && k-- == 0)
                return &m->e[i];
    }
    double total = 0;
    for (int i = 0; i < m->ne; i++)
        if (m->e[i].sig >= 0)
            total += 1.0 / (double)m->sigs[m->e[i].sig].count;
    double r = rnd_unit(m) * total;
    const entry *last = NULL;
    for (int i = 0; i < m->ne; i++) {
        if (m->e[i].sig < 0)
            continue;
        last = &m->e[i];
        r -= 1.0 / (double)m->sigs[m->e[i].sig].count;
        if (r < 0)
            break;
    }
    return last;
}

/* ------------------------------------------------------------ structure */

static size_t seg_body_len(const seg *s)
{
    size_t n = s->n;
    if (s->word_op == 1)
        n = 4 + (n > 4 ? n - 4 : 0);
    else if (s->word_op == 2)
        n += (size_t)4 * s->words;
    return n;
}

static void put_seg(cf_fuzz_model *m, cf_buf *out, const seg *s, size_t k)
{
    if (s->raw) {
        cf_buf_add(out, s->p, s->n);
        return;
    }
    uint8_t h[9];
    cf_framing_encode(&m->f, h, s->lie ? s->len : (uint64_t)seg_body_len(s));
    if (m->f.type_byte >= 0)
        h[0] = s->type;
    cf_buf_add(out, h, m->f.hdr_len);
    m->body_at[k] = out->len;
    if (s->word_op == 1) {
        cf_buf_add(out, s->word, 4);
        if (s->n > 4)
            cf_buf_add(out, s->p + 4, s->n - 4);
    } else {
        for (int i = 0; s->word_op == 2 && i < s->words; i++)
            cf_buf_add(out, s->word, 4);
        cf_buf_add(out, s->p, s->n);
    }
    m->body_n[k] = out->len - m->body_at[k];
}

static int seg_insert(cf_fuzz_model *m, size_t *ns, size_t at, const seg *s)
{
    if (*ns >= sizeof m->segs / sizeof *m->segs)
        return -1;
    memmove(&m->segs[at + 1], &m->segs[at], (*ns - at) * sizeof *m->segs);
    m->segs[at] = *s;
    (*ns)++;
    return 0;
}

static seg frame_seg(const cf_fuzz_model *m, const uint8_t *p, size_t n)
{
    seg s = {.p = p, .n = n, .type = (uint8_t)(m->f.type_byte >= 0 ? m->f.type_byte : 0)};
    return s;
}

/* Index of a frame segment, or -1 when there is none; with none, a new
 * empty frame is placed at the end when room allows. */
static long some_frame(cf_fuzz_model *m, size_t *ns)
{
    size_t k = rndn(m, *ns ? *ns : 1);
    for (size_t i = 0; i < *ns; i++) {
        size_t j = (k + i) % *ns;
        if (!m->segs[j].raw)
            return (long)j;
    }
    seg s = frame_seg(m, NULL, 0);
    if (seg_insert(m, ns, *ns, &s))
        return -1;
    return (long)(*ns - 1);
}

/* An SP header word as the IUT's protocol reads it: a request id (top bit
 * set, now and then clear), a hop of a backtrace (top bit clear, now and
 * then set), a pair1 hop count; raw for protocols without a header. */
static uint32_t header_word(cf_fuzz_model *m)
{
    uint32_t v = m->words[rndn(m, m->nwords)];
    int top = m->hdr_kind == SPW_HDR_REQID || m->hdr_kind == SPW_HDR_BACKTRACE;
    if (rndn(m, 4) == 0)
        top = !top;
    return top ? v | SPW_REQID_FLAG : v;
}

static void op_header(cf_fuzz_model *m, size_t *ns)
{
    long i = some_frame(m, ns);
    if (i < 0)
        return;
    seg *s = &m->segs[i];
    uint32_t w = header_word(m);
    s->word[0] = (uint8_t)(w >> 24);
    s->word[1] = (uint8_t)(w >> 16);
    s->word[2] = (uint8_t)(w >> 8);
    s->word[3] = (uint8_t)w;
    if (m->hdr_kind == SPW_HDR_BACKTRACE && rndn(m, 2)) {
        /* hops in front of the request id: one, around the TTL (8), many */
        static const uint8_t hops[] = {1, 1, 2, 7, 8, 9, 15, 16, 64};
        s->word[0] &= 0x7f;
        s->word_op = 2;
        s->words = hops[rndn(m, sizeof hops)];
    } else {
        s->word_op = 1;
        s->words = 1;
    }
}

static void op_length(cf_fuzz_model *m, size_t *ns)
{
    long i = some_frame(m, ns);
    if (i < 0)
        return;
    seg *s = &m->segs[i];
    s->lie = 1;
    if (rndn(m, 4)) {
        s->len = pick_length(m); /* the body stays as it is */
    } else {
        static const int d[] = {-2, -1, 1, 2};
        s->len = (uint64_t)seg_body_len(s) + (uint64_t)(int64_t)d[rndn(m, 4)];
    }
}

static void op_frames(cf_fuzz_model *m, size_t *ns)
{
    if (*ns == 0)
        return;
    size_t i = rndn(m, *ns), j = rndn(m, *ns);
    switch (rndn(m, 3)) {
    case 0:
        memmove(&m->segs[i], &m->segs[i + 1], (*ns - i - 1) * sizeof *m->segs);
        (*ns)--;
        break;
    case 1: {
        seg copy = m->segs[i];
        int times = 1 + (int)rndn(m, 4);
        while (times-- > 0 && seg_insert(m, ns, i, &copy) == 0)
            ;
        break;
    }
    default: {
        seg t = m->segs[i];
        m->segs[i] = m->segs[j];
        m->segs[j] = t;
    }
    }
}

static void op_splice(cf_fuzz_model *m, size_t *ns)
{
    if (m->ne == 0)
        return;
    const entry *o = &m->e[rndn(m, (size_t)m->ne)];
    if (o->nfr == 0)
        return;
    size_t at = rndn(m, *ns + 1);
    int from = (int)rndn(m, (size_t)o->nfr), count = 1 + (int)rndn(m, 3);
    for (int k = from; k < o->nfr && k < from + count; k++) {
        const frame_rec *r = &o->fr[k];
        seg s = frame_seg(m, o->p + r->body, r->n);
        s.type = r->type;
        if (r->len != (uint64_t)r->n) {
            s.lie = 1;
            s.len = r->len;
        }
        if (seg_insert(m, ns, at++, &s))
            return;
    }
}

/* Random bytes from this input's garbage buffer (refilled on each draw). */
static const uint8_t *garbage(cf_fuzz_model *m, size_t *used, size_t n)
{
    if (*used + n > GARBAGE)
        *used = 0;
    const uint8_t *p = m->garbage + *used;
    *used += n;
    return p;
}

static void op_token(cf_fuzz_model *m, size_t *ns, size_t *gused)
{
    seg s;
    if (m->ntok) {
        const cf_buf *t = &m->tok[rndn(m, (size_t)m->ntok)];
        s = frame_seg(m, t->p, t->len);
    } else {
        s = frame_seg(m, garbage(m, gused, 8), 1 + rndn(m, 8));
    }
    s.raw = (uint8_t)rndn(m, 2); /* bare, or as a message body */
    seg_insert(m, ns, rndn(m, *ns + 1), &s);
}

static void op_garbage(cf_fuzz_model *m, size_t *ns, size_t *gused)
{
    size_t n = 1 + rndn(m, 16);
    seg s = frame_seg(m, garbage(m, gused, n), n);
    s.raw = 1;
    seg_insert(m, ns, rndn(m, *ns + 1), &s);
}

/* Handshake: 0 as in the entry, 1 dropped, 2 one byte changed, 3 the
 * protocol id another, 4 sent twice. */
static int op_handshake(cf_fuzz_model *m)
{
    return 1 + (int)rndn(m, 4);
}

static void write_handshake(cf_fuzz_model *m, cf_buf *out, const entry *e, int how)
{
    uint8_t h[SPW_HANDSHAKE_SIZE];
    size_t n = e && e->hs_len ? e->hs_len : 0;
    if (n)
        memcpy(h, e->p, n);
    else if (!e || ((m->ops & CF_MOP_HANDSHAKE) && rndn(m, 2))) {
        memcpy(h, m->hs, sizeof h); /* give a headerless stream a chance to be read */
        n = sizeof h;
    }
    if (n == 0 || how == 1)
        return;
    if (how == 2)
        h[rndn(m, n)] ^= (uint8_t)(1u << rndn(m, 8));
    else if (how == 3 && n >= 6) {
        int p = spw_proto_at((int)rndn(m, SPW_PROTO_COUNT + 1));
        uint16_t id = p < 0 ? (uint16_t)rnd(m) : (uint16_t)p;
        h[4] = (uint8_t)(id >> 8);
        h[5] = (uint8_t)id;
    }
    cf_buf_add(out, h, n);
    if (how == 4)
        cf_buf_add(out, h, n);
}

static void structured(cf_fuzz_model *m, cf_buf *out, const entry *e)
{
    size_t ns = 0, gused = 0;
    const uint8_t *tail = NULL;
    size_t tail_n = 0;
    if (e) {
        for (int i = 0; i < e->nfr; i++) {
            const frame_rec *r = &e->fr[i];
            seg *s = &m->segs[ns++];
            *s = frame_seg(m, e->p + r->body, r->n);
            s->type = r->type;
            if (r->len != (uint64_t)r->n) {
                s->lie = 1;
                s->len = r->len;
            }
        }
        tail = e->p + e->tail;
        tail_n = e->n - e->tail;
    }
    for (size_t i = 0; i < GARBAGE; i += 8) {
        uint64_t r = rnd(m);
        memcpy(m->garbage + i, &r, 8);
    }
    /* operators by weight; lengths and headers are where the bugs are */
    static const unsigned table[] = {
        CF_MOP_LENGTH, CF_MOP_LENGTH, CF_MOP_LENGTH, CF_MOP_HEADER, CF_MOP_HEADER,
        CF_MOP_FRAMES, CF_MOP_SPLICE, CF_MOP_SPLICE, CF_MOP_TOKEN, CF_MOP_TOKEN,
        CF_MOP_GARBAGE, CF_MOP_BODY, CF_MOP_BODY, CF_MOP_CUT, CF_MOP_HANDSHAKE,
    };
    int hs_how = 0, cut = 0, body = 0;
    int rounds = 1 + (int)rndn(m, 4);
    for (int r = 0, tries = 0; r < rounds && tries < 64; tries++) {
        unsigned op = table[rndn(m, sizeof table / sizeof *table)];
        if (!(m->ops & op))
            continue;
        r++;
        switch (op) {
        case CF_MOP_LENGTH:
            op_length(m, &ns);
            break;
        case CF_MOP_HEADER:
            op_header(m, &ns);
            break;
        case CF_MOP_FRAMES:
            op_frames(m, &ns);
            break;
        case CF_MOP_SPLICE:
            op_splice(m, &ns);
            break;
        case CF_MOP_TOKEN:
            op_token(m, &ns, &gused);
            break;
        case CF_MOP_GARBAGE:
            op_garbage(m, &ns, &gused);
            break;
        case CF_MOP_BODY:
            body++;
            break;
        case CF_MOP_CUT:
            cut = 1;
            break;
        default:
            hs_how = op_handshake(m);
        }
    }
    write_handshake(m, out, e, hs_how);
    size_t frames = 0;
    for (size_t i = 0; i < ns && out->len < CF_MODEL_MAX_INPUT; i++) {
        m->body_n[i] = 0;
        put_seg(m, out, &m->segs[i], i);
        frames = i + 1;
    }
    if (tail_n && out->len < CF_MODEL_MAX_INPUT)
        cf_buf_add(out, tail, tail_n);
    while (body-- > 0 && frames) {
        size_t i = rndn(m, frames);
        if (m->segs[i].raw || m->body_n[i] == 0)
            continue;
        uint8_t *p = out->p + m->body_at[i] + rndn(m, m->body_n[i]);
        if (rndn(m, 2))
            *p ^= (uint8_t)(1u << rndn(m, 8));
        else
            *p = (uint8_t)rnd(m);
    }
    if (cut && out->len > 1)
        out->len = 1 + rndn(m, out->len - 1);
}

/* ------------------------------------------------------------ bytes */

static void insert_at(cf_buf *b, size_t pos, const uint8_t *p, size_t n)
{
    cf_buf_add(b, p, n); /* grow */
    memmove(b->p + pos + n, b->p + pos, b->len - n - pos);
    memcpy(b->p + pos, p, n);
}

/* The operators that ignore the structure: a bit, a byte, a token
 * inserted or written over, a range deleted or repeated, the stream cut, a
 * boundary length anywhere, the stream continued by another entry's end. */
static void bytes(cf_fuzz_model *m, cf_buf *b)
{
    int rounds = 1 + (int)rndn(m, 4);
    for (int r = 0; r < rounds; r++) {
        switch (rndn(m, 9)) {
        case 0:
            if (b->len)
                b->p[rndn(m, b->len)] ^= (uint8_t)(1u << rndn(m, 8));
            break;
        case 1:
            if (b->len)
                b->p[rndn(m, b->len)] = (uint8_t)rnd(m);
            break;
        case 2:
        case 3:
            if (m->ntok) {
                const cf_buf *t = &m->tok[rndn(m, (size_t)m->ntok)];
                size_t pos = rndn(m, b->len + 1);
                if (rndn(m, 2) || pos + t->len > b->len)
                    insert_at(b, pos, t->p, t->len);
                else
                    memcpy(b->p + pos, t->p, t->len);
            }
            break;
        case 4:
            if (b->len > 1) {
                size_t pos = rndn(m, b->len), n = 1 + rndn(m, b->len - pos);
                memmove(b->p + pos, b->p + pos + n, b->len - pos - n);
                b->len -= n;
            }
            break;
        case 5:
            if (b->len && b->len < CF_MODEL_MAX_INPUT / 2) {
                size_t pos = rndn(m, b->len), n = 1 + rndn(m, b->len - pos);
                m->tmp.len = 0;
                cf_buf_add(&m->tmp, b->p + pos, n);
                insert_at(b, pos, m->tmp.p, n);
            }
            break;
        case 6:
            if (b->len)
                b->len = rndn(m, b->len + 1);
            break;
        case 7: {
            uint8_t h[9];
            cf_framing_encode(&m->f, h, pick_length(m));
            size_t pos = rndn(m, b->len + 1);
            if (pos + m->f.hdr_len <= b->len)
                memcpy(b->p + pos, h, m->f.hdr_len);
            else
                insert_at(b, pos, h, m->f.hdr_len);
            break;
        }
        default: {
            const entry *s = &m->e[rndn(m, (size_t)m->ne)];
            size_t from = rndn(m, s->n);
            b->len = rndn(m, b->len + 1);
            cf_buf_add(b, s->p + from, s->n - from);
        }
        }
    }
}

void cf_model_next(cf_fuzz_model *m, cf_buf *out, const char **from)
{
    out->len = 0;
    const entry *e = pick_entry(m);
    *from = e ? e->name : "handshake";
    unsigned structure = m->ops & ~(unsigned)CF_MOP_BYTES;
    if ((m->ops & CF_MOP_BYTES) && e && (!structure || rndn(m, 4) == 0)) {
        cf_buf_add(out, e->p, e->n);
        bytes(m, out);
        if ((m->ops & CF_MOP_HANDSHAKE) && rndn(m, 2) &&
            (out->len < 3 || memcmp(out->p, m->hs, 3) != 0))
            insert_at(out, 0, m->hs, sizeof m->hs);
    } else {
        structured(m, out, e);
    }
    if (out->len > CF_MODEL_MAX_INPUT)
        out->len = CF_MODEL_MAX_INPUT;
    if (out->len == 0)
        cf_buf_add(out, m->hs, sizeof m->hs);
    out->p[out->len] = 0; /* cf_buf's text guarantee, after a cut */
}

/* ------------------------------------------------------------ feedback */

static int is_word(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           c == '_';
}

static int is_hex(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

uint64_t cf_stderr_hash(const char *text)
{
    if (!text)
        return 0;
    const uint64_t fnv = UINT64_C(0x100000001b3);
    uint64_t h = UINT64_C(0xcbf29ce484222325), line = h;
    int any = 0, in_line = 0;
    for (const char *s = text;;) {
        if (*s == '\n' || *s == 0) {
            if (in_line) { /* a line that kept something: its hash joins the text's */
                h = (h ^ line) * fnv;
                any = 1;
            }
            line = UINT64_C(0xcbf29ce484222325);
            in_line = 0;
            if (!*s++)
                break;
            continue;
        }
        if (!is_word((unsigned char)*s)) {
            if (*s != ' ' && *s != '\t' && *s != '\r') {
                line = (line ^ (uint8_t)*s) * fnv;
                in_line = 1;
            }
            s++;
            continue;
        }
        const char *w = s;
        int hex = 1;
        while (is_word((unsigned char)*s))
            hex &= is_hex((unsigned char)*s++);
        int prefixed = s - w > 2 && w[0] == '0' && (w[1] == 'x' || w[1] == 'X');
        for (const char *c = w + 2; prefixed && c < s; c++)
            prefixed = is_hex((unsigned char)*c);
        if (hex || prefixed)
            continue; /* an address, a pid in hex, shadow bytes */
        for (const char *c = w; c < s; c++)
            if (*c < '0' || *c > '9') {
                line = (line ^ (uint8_t)*c) * fnv;
                in_line = 1;
            }
    }
    return any ? mix(h) | 1 : 0;
}

static unsigned bucket_ms(long ms)
{
    return ms < 0 ? 4 : ms < 10 ? 0 : ms < 100 ? 1 : ms < 1000 ? 2 : 3;
}

static unsigned bucket_count(unsigned n)
{
    return n == 0 ? 0 : n == 1 ? 1 : n < 4 ? 2 : n < 8 ? 3 : 4;
}

static unsigned log2_bucket(uint64_t v)
{
    unsigned k = 0;
    while (v) {
        k++;
        v >>= 1;
    }
    return k;
}

/* The backtrace shape (spwire/sp_header.h): 0 shorter than a word; words
 * up to the one with its top bit, 1, 2, 3, 4 for 4-8; 5 none within the
 * body or more. */
static unsigned header_words(const uint8_t *p, size_t n)
{
    size_t hdr;
    int hops;
    if (n < 4)
        return 0;
    if (spw_backtrace_parse(p, n, 8, &hdr, &hops) != SPW_HDR_ACCEPT)
        return 5;
    return hops <= 3 ? (unsigned)hops : 4;
}

uint64_t cf_behaviour_signature(const cf_behaviour *b, const cf_framing *f)
{
    unsigned frames = 0, tail = 0, first_len = 0, top = 0, words = 0;
    size_t pos = 0;
    while (b->rx && pos < b->rx_len) {
        size_t body, flen;
        int rc = cf_framing_parse(f, b->rx + pos, b->rx_len - pos, &body, &flen);
        if (rc <= 0) {
            tail = rc < 0 ? 2 : 1; /* no frame / a frame cut short */
            break;
        }
        if (frames == 0) {
            const uint8_t *p = b->rx + pos + (flen - body);
            first_len = log2_bucket(body);
            top = body ? 1u + (p[0] >> 7) : 0;
            words = header_words(p, body);
        }
        frames++;
        pos += flen;
    }
    uint64_t packed = (uint64_t)(b->hs & 3);
    packed = packed << 2 | (uint64_t)(b->closed_by & 3);
    packed = packed << 1 | (uint64_t)(b->reset != 0);
    packed = packed << 3 | bucket_ms(b->close_ms);
    packed = packed << 3 | bucket_count(frames);
    packed = packed << 2 | tail;
    packed = packed << 7 | first_len;
    packed = packed << 2 | top;
    packed = packed << 3 | words;
    packed = packed << 8 | (uint64_t)(b->outcome & 0xff);
    uint64_t err = cf_stderr_hash(b->stderr_new);
    return mix(packed ^ (err ? mix(err ^ UINT64_C(0x5bd1e995)) : 0));
}

static int sig_find(cf_fuzz_model *m, uint64_t sig, int add)
{
    if (add && (size_t)(m->nsigs + 1) * 2 > m->nslot) {
        size_t n = m->nslot ? m->nslot * 2 : 256;
        free(m->slot);
        m->slot = xcalloc(n, sizeof *m->slot);
        m->nslot = n;
        for (int i = 0; i < m->nsigs; i++) {
            size_t k = (size_t)mix(m->sigs[i].sig) & (n - 1);
            while (m->slot[k])
                k = (k + 1) & (n - 1);
            m->slot[k] = i + 1;
        }
    }
    if (!m->nslot)
        return -1;
    size_t k = (size_t)mix(sig) & (m->nslot - 1);
    for (; m->slot[k]; k = (k + 1) & (m->nslot - 1))
        if (m->sigs[m->slot[k] - 1].sig == sig)
            return m->slot[k] - 1;
    if (!add)
        return -1;
    if (m->nsigs == m->sigcap) {
        m->sigcap = m->sigcap ? m->sigcap * 2 : 64;
        m->sigs = xrealloc(m->sigs, (size_t)m->sigcap * sizeof *m->sigs);
    }
    m->sigs[m->nsigs].sig = sig;
    m->sigs[m->nsigs].count = 0;
    m->slot[k] = ++m->nsigs;
    return m->nsigs - 1;
}

int cf_model_feedback(cf_fuzz_model *m, const uint8_t *in, size_t len, const cf_behaviour *b,
                      uint64_t *signature)
{
    uint64_t sig = cf_behaviour_signature(b, &m->f);
    if (signature)
        *signature = sig;
    int known = sig_find(m, sig, 0) >= 0;
    int i = sig_find(m, sig, 1);
    m->sigs[i].count++;
    if (known)
        return 0;
    if (m->ne - m->nseeds >= CF_MODEL_MAX_ENTRIES)
        return 1;
    char name[32];
    snprintf(name, sizeof name, "sig-%016llx", (unsigned long long)sig);
    add_entry(m, name, in, len, i);
    return 1;
}

/* mkdir -p */
static int make_dir(const char *dir)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path) {
        errno = n ? ENAMETOOLONG : ENOENT;
        return -1;
    }
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != 0)
            continue;
        char c = path[i];
        path[i] = 0;
        if (mkdir(path, 0777) && errno != EEXIST)
            return -1;
        path[i] = c;
    }
    struct stat st;
    if (stat(dir, &st))
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int cf_model_save(const cf_fuzz_model *m, const char *dir)
{
    if (make_dir(dir))
        return -1;
    for (int i = 0; i < m->ne; i++) {
        const entry *e = &m->e[i];
        if (e->sig < 0)
            continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.bin", dir, e->name);
        FILE *f = fopen(path, "wb");
        if (!f)
            return -1;
        int bad = fwrite(e->p, 1, e->n, f) != e->n;
        int saved = errno;
        if (fclose(f) || bad) {
            if (bad)
                errno = saved ? saved : EIO;
            return -1;
        }
    }
    return 0;
}
