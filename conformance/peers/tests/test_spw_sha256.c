/* Unit test for spw_sha256 against the FIPS 180-2 appendix B vectors, plus
 * chunked-update checks.  Exits non-zero on any mismatch. */
#include "spw_sha256.h"

#include <stdio.h>
#include <string.h>

static int failures;
static int checks;

static void check(const char *name, const char *got, const char *want)
{
    checks++;
    if (strcmp(got, want) != 0) {
        fprintf(stderr, "FAIL %s\n  got  %s\n  want %s\n", name, got, want);
        failures++;
    } else {
        printf("ok   %s\n", name);
    }
}

int main(void)
{
    static const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    static const char *want_abc =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    static const char *want_empty =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    static const char *want_448 =
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    static const char *want_million =
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
    char hex[SPW_SHA256_HEX_LEN + 1];
    spw_sha256_ctx ctx;
    unsigned char block[1000];
    size_t i, step;

    spw_sha256_hex("abc", 3, hex);
    check("abc", hex, want_abc);
    spw_sha256_hex("", 0, hex);
    check("empty", hex, want_empty);
    spw_sha256_hex(m448, strlen(m448), hex);
    check("448-bit", hex, want_448);

    /* One million 'a' in 1000-byte updates. */
    memset(block, 'a', sizeof(block));
    spw_sha256_init(&ctx);
    for (i = 0; i < 1000; i++)
        spw_sha256_update(&ctx, block, sizeof(block));
    spw_sha256_final_hex(&ctx, hex);
    check("million-a", hex, want_million);

    /* Same vectors with awkward update sizes (exercise buffering). */
    for (step = 1; step <= 65; step += 7) {
        size_t n = strlen(m448), off;
        char name[32];
        spw_sha256_init(&ctx);
        for (off = 0; off < n; off += step)
            spw_sha256_update(&ctx, m448 + off, (n - off < step) ? n - off : step);
        spw_sha256_final_hex(&ctx, hex);
        snprintf(name, sizeof(name), "448-bit/step%zu", step);
        check(name, hex, want_448);
    }
    spw_sha256_init(&ctx);
    for (i = 0; i < 1000000; i += 997)
        spw_sha256_update(&ctx, block, (1000000 - i < 997) ? 1000000 - i : 997);
    spw_sha256_final_hex(&ctx, hex);
    check("million-a/step997", hex, want_million);

    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
