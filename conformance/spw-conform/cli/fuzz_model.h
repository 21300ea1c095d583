/* spw-conform fuzz — the input model: what to send next, and what the IUT's
 * answer teaches.
 *
 * An input is a whole byte stream as sent to the IUT: its 8-byte SP header
 * and frames in the transport's framing. Most inputs are mutated as that
 * structure (the stream parsed leniently into handshake + frames): lengths
 * set to boundary values without growing the body after them, SP header
 * words (request id with and without its top bit, hop counts, backtraces)
 * set to 32-bit boundaries, frames deleted, duplicated, swapped, spliced
 * from other corpus entries, dictionary tokens and garbage inserted — all at
 * frame boundaries —, bodies changed, the stream cut. A share are plain byte
 * mutations that ignore the structure.
 *
 * Feedback: what the IUT visibly did with an input is reduced to a
 * signature of coarse buckets (cf_behaviour_signature); an input with a
 * signature not seen before joins the corpus. The scheduler draws corpus
 * entries with weight 1 / (inputs that produced the entry's signature), so
 * rare behaviours are explored more, and a quarter of the draws go to the
 * seeds whatever feedback says, so no seed starves.
 *
 * Deterministic: the same seed, seeds, tokens and feedback give the same
 * inputs. No global state; a model is used by one thread. */
#ifndef SPW_CONFORM_FUZZ_MODEL_H
#define SPW_CONFORM_FUZZ_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "conn.h" /* cf_framing */

/* No input is longer than this (a larger seed is cut); none is empty. */
#define CF_MODEL_MAX_INPUT ((size_t)1024 * 1024)
/* Entries feedback adds at most (an IUT whose stderr varies in words would
 * otherwise grow the corpus without end); further signatures are counted. */
#define CF_MODEL_MAX_ENTRIES 4096

/* What the IUT visibly did with one input (filled by the runner). */
typedef struct cf_behaviour {
    int hs;              /* the IUT's handshake: 0 none/partial, 1 valid, 2 invalid */
    int closed_by;       /* 0 still open at the end, 1 the IUT closed/reset, 2 we closed first */
    int reset;           /* the IUT's close was a reset (ECONNRESET) */
    long close_ms;       /* ms after our last write when the IUT closed (-1 when it did not) */
    const uint8_t *rx;   /* every byte the IUT sent after its 8-byte handshake */
    size_t rx_len;
    int outcome;         /* enum cf_outcome (engine/outcome.h) of the input */
    const char *stderr_new; /* lines the IUT printed on stderr during this input, NUL-terminated, or NULL */
} cf_behaviour;

typedef struct cf_fuzz_model cf_fuzz_model;

/* seed: the run's random seed; limit: the IUT's receive limit (0 none); proto: its protocol;
 * f: the transport's framing (type byte for ipc). Never NULL (aborts when out of memory). */
cf_fuzz_model *cf_model_new(uint64_t seed, uint64_t limit, uint16_t proto, const cf_framing *f);
void cf_model_free(cf_fuzz_model *m);
/* The initial corpus (each a whole byte stream as sent to the IUT: handshake + frames) and the
 * dictionary's tokens. Copies are kept (a seed longer than CF_MODEL_MAX_INPUT is cut; an empty
 * seed or token is ignored). */
void cf_model_add_seed(cf_fuzz_model *m, const char *name, const uint8_t *p, size_t n);
void cf_model_add_token(cf_fuzz_model *m, const uint8_t *p, size_t n);
/* The next input into out (cleared first); *from: the name of the corpus entry it was derived
 * from (for reports), valid until cf_model_free. With no seed added, inputs grow from the valid
 * handshake alone. Deterministic for a given seed and feedback history. Allocates nothing but
 * out's growth (and once, a scratch buffer the model keeps). */
void cf_model_next(cf_fuzz_model *m, cf_buf *out, const char **from);
/* What the IUT did with input in: its behaviour signature (cf_behaviour_signature) into
 * *signature (may be NULL); returns 1 when the signature is new (a copy of the input joins the
 * corpus, named "sig-<16 hex digits>", while fewer than CF_MODEL_MAX_ENTRIES have), 0
 * otherwise. */
int cf_model_feedback(cf_fuzz_model *m, const uint8_t *in, size_t len, const cf_behaviour *b,
                      uint64_t *signature);
int cf_model_corpus_size(const cf_fuzz_model *m);  /* seeds + entries added by feedback */
int cf_model_behaviours(const cf_fuzz_model *m);   /* distinct signatures seen */
/* Write the corpus entries that were added by feedback into dir (created if missing), one file each
 * named sig-<hex signature>.bin; 0 ok, -1 with errno. */
int cf_model_save(const cf_fuzz_model *m, const char *dir);

/* The signature of a behaviour: hs, closed_by, reset, close_ms in buckets (0-10, 10-100,
 * 100-1000, >1000 ms, none); what came back parsed with f: frames returned (0, 1, 2-3, 4-7, 8+),
 * whether bytes that are no whole frame trail them, the first frame's length (log2 bucket) and
 * its SP header shape (first byte's top bit; 32-bit words up to the first with the top bit:
 * 1, 2, 3, 4-8, none); the outcome; cf_stderr_hash of stderr_new. Equal buckets, equal
 * signature. */
uint64_t cf_behaviour_signature(const cf_behaviour *b, const cf_framing *f);
/* A hash of text's lines with what differs from run to run removed: digits, hex numbers
 * ("0x602000000010", "fa", "7fff") and blanks, so two sanitizer reports of one defect hash
 * alike. Lines left empty do not count; 0 for NULL or nothing left. */
uint64_t cf_stderr_hash(const char *text);

/* The 64-bit length boundaries the model draws from, in ascending order without repeats: 0..16;
 * 2^k - 16 .. 2^k + 16 for k in 8, 16, 24, 31, 32, 48, 56, 60, 63; 2^64 - 128 .. 2^64 - 1;
 * SIZE_MAX - 4096 (and -64, -32, -16, -8); for k 4..63: 2^k, 2^k minus a frame header, minus a
 * frame header and one SP header word, and minus 32; limit - 16 .. limit + 16 when limit > 0. */
const uint64_t *cf_model_lengths(const cf_fuzz_model *m, size_t *n);
/* The 32-bit boundaries for request ids and hop counts, without the top bit (the model sets
 * and clears it): 0..16; 2^k - 16 .. 2^k + 16 for k in 8, 16, 24; 2^31 - 16 .. 2^31 - 1. */
const uint32_t *cf_model_words(const cf_fuzz_model *m, size_t *n);

/* Mutation operators, to restrict a model to some of them (tests, experiments). */
enum cf_model_op {
    CF_MOP_LENGTH = 1u << 0,   /* a frame's length set to a boundary or its true length +- 2 */
    CF_MOP_HEADER = 1u << 1,   /* an SP header word set or pushed (boundary, top bit set/clear) */
    CF_MOP_FRAMES = 1u << 2,   /* frames deleted, duplicated, swapped */
    CF_MOP_SPLICE = 1u << 3,   /* frames of another corpus entry inserted at a frame boundary */
    CF_MOP_TOKEN = 1u << 4,    /* a dictionary token at a frame boundary, bare or as a body */
    CF_MOP_GARBAGE = 1u << 5,  /* random bytes at a frame boundary */
    CF_MOP_BODY = 1u << 6,     /* bytes of a body changed */
    CF_MOP_CUT = 1u << 7,      /* the stream cut short */
    CF_MOP_HANDSHAKE = 1u << 8, /* the handshake changed, dropped or repeated */
    CF_MOP_BYTES = 1u << 9,    /* plain byte mutations over the whole stream */
    CF_MOP_ALL = (1u << 10) - 1,
};
/* Use only the operators in ops (CF_MOP_*; default CF_MOP_ALL). With CF_MOP_HANDSHAKE off, a
 * stream that does not open with an SP header is sent as it is. */
void cf_model_set_ops(cf_fuzz_model *m, unsigned ops);

#endif
