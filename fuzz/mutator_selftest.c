/* mutator_selftest — exercise the AFL++ custom mutator API of
 * mutator_frame.c without AFL++: chains mutations starting from the frame
 * seeds and runs every result through the fuzz_frame harness. A short,
 * deterministic, coverage-blind campaign; it checks the mutator honours
 * max_size and that nothing it produces breaks a harness invariant.
 *
 * Built twice: with fuzz_frame and the frame layout (spw_mutator_selftest),
 * and with fuzz_spwlistener and the reference targets' layout
 * (spw_mutator_ref_selftest, -DSPW_MUTATOR_REF).
 *
 * usage: spw_mutator_selftest ITERATIONS SEED_DIR...
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
void *afl_custom_init(void *afl, unsigned int seed);
size_t afl_custom_fuzz(void *data, uint8_t *buf, size_t buf_size, uint8_t **out_buf,
                       uint8_t *add_buf, size_t add_buf_size, size_t max_size);
void afl_custom_deinit(void *data);

#define SELFTEST_MAX_SIZE ((size_t)256 * 1024)
#define SELFTEST_MAX_SEEDS 4096

typedef struct seed {
    uint8_t *data;
    size_t len;
} seed;

static int load_file(const char *path, seed *s)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        return -1;
    }
    size_t cap = 1024, len = 0;
    uint8_t *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return -1;
        }
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                fclose(f);
                return -1;
            }
            buf = nb;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            break;
        }
    }
    fclose(f);
    s->data = buf;
    s->len = len;
    return 0;
}

static int cmp_seed_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s ITERATIONS SEED_DIR...\n", argv[0]);
        return 2;
    }
    long iterations = strtol(argv[1], NULL, 10);
    static seed seeds[SELFTEST_MAX_SEEDS];
    size_t nseeds = 0;
    for (int a = 2; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        if (!d) {
            fprintf(stderr, "%s: cannot open %s\n", argv[0], argv[a]);
            return 1;
        }
        char *names[SELFTEST_MAX_SEEDS];
        size_t nn = 0;
        struct dirent *e;
        while ((e = readdir(d)) != NULL && nn < SELFTEST_MAX_SEEDS) {
            const char *n = e->d_name;
            if (n[0] == '.' || strncmp(n, "index", 5) == 0 || strncmp(n, "README", 6) == 0 ||
                strncmp(n, "INDEX", 5) == 0) {
                continue;
            }
            size_t need = strlen(argv[a]) + strlen(n) + 2;
            names[nn] = malloc(need);
            if (!names[nn]) {
                closedir(d);
                return 1;
            }
            snprintf(names[nn], need, "%s/%s", argv[a], n);
            nn++;
        }
        closedir(d);
        qsort(names, nn, sizeof(names[0]), cmp_seed_names);
        for (size_t i = 0; i < nn; i++) {
            if (nseeds < SELFTEST_MAX_SEEDS && load_file(names[i], &seeds[nseeds]) == 0) {
                nseeds++;
            }
            free(names[i]);
        }
    }
    if (nseeds == 0) {
        static uint8_t empty[2] = {0, 0};
        seeds[0].data = malloc(sizeof(empty));
        if (!seeds[0].data) {
            return 1;
        }
        memcpy(seeds[0].data, empty, sizeof(empty));
        seeds[0].len = sizeof(empty);
        nseeds = 1;
    }

    void *m = afl_custom_init(NULL, 1);
    if (!m) {
        return 1;
    }
    uint8_t *cur = malloc(SELFTEST_MAX_SIZE);
    if (!cur) {
        return 1;
    }
    size_t cur_len = 0;
    size_t total = 0;
    for (long i = 0; i < iterations; i++) {
        if (i % 8 == 0) {
            const seed *s = &seeds[(size_t)(i / 8) % nseeds];
            cur_len = s->len < SELFTEST_MAX_SIZE ? s->len : SELFTEST_MAX_SIZE;
            memcpy(cur, s->data, cur_len);
        }
        const seed *other = &seeds[(size_t)i % nseeds];
        uint8_t *out = NULL;
        size_t max = (i & 1) ? SELFTEST_MAX_SIZE : 512 + (size_t)(i % 1024);
        size_t n = afl_custom_fuzz(m, cur, cur_len, &out, other->data, other->len, max);
        if (n > max || (n > 0 && out == NULL)) {
            fprintf(stderr, "%s: mutator broke max_size (%zu > %zu)\n", argv[0], n, max);
            abort();
        }
        /* Exactly sized copy, so an overread is caught by ASan. */
        uint8_t *exact = malloc(n ? n : 1);
        if (!exact) {
            return 1;
        }
        if (n) {
            memcpy(exact, out, n);
        }
        (void)LLVMFuzzerTestOneInput(exact, n);
        memcpy(cur, exact, n);
        cur_len = n;
        free(exact);
        total += n;
    }
    afl_custom_deinit(m);
    free(cur);
    for (size_t i = 0; i < nseeds; i++) {
        free(seeds[i].data);
    }
    printf("spw_mutator_selftest: %ld mutations from %zu seeds, %zu bytes, 0 failed\n",
           iterations, nseeds, total);
    return 0;
}
