/* replay_main — run a fuzz target over saved inputs, without a fuzzing
 * engine. Linked with one fuzz_<target>.c it becomes replay_<target>: the
 * corpus and regression runner of the ctest suite, and the tool to
 * reproduce a crash under a debugger.
 *
 * Plain C11 plus POSIX; any C compiler builds it.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "spwire/spwire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#if defined(__GNUC__) || defined(__clang__)
/* Present only when a sanitizer runtime is linked in: lets a sanitizer
 * report be followed by the name of the input that caused it. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));
#define SPW_HAVE_WEAK 1
#endif

/* Set before each input, read by the signal handlers. */
static char g_prog[64] = "replay";
static char g_current[4096] = "(none)";
static unsigned g_timeout = 10;
/* Handlers that were in place before ours (all our signals are < 32). */
static struct sigaction g_old_actions[32];

static void write_str(const char *s)
{
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(STDERR_FILENO, s, n);
        if (w <= 0) {
            return;
        }
        s += w;
        n -= (size_t)w;
    }
}

static void write_uint(unsigned v)
{
    char buf[16];
    int i = (int)sizeof(buf) - 1;
    buf[i] = '\0';
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0 && i > 0);
    write_str(buf + i);
}

static const char *sig_name(int sig)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    case SIGABRT:
        return "SIGABRT";
    case SIGALRM:
        return "SIGALRM";
    case SIGPIPE:
        return "SIGPIPE";
    default:
        return "signal";
    }
}

static void crash_handler(int sig)
{
    write_str(g_prog);
    write_str(": CRASH (");
    write_str(sig_name(sig));
    write_str(") on input ");
    write_str(g_current);
    write_str("\n");
    /* Hand the signal to whoever had it before (a sanitizer, or the default
     * action) and let it finish the job. */
    sigaction(sig, &g_old_actions[sig], NULL);
    raise(sig);
}

static void timeout_handler(int sig)
{
    write_str(g_prog);
    write_str(": TIMEOUT (over ");
    write_uint(g_timeout);
    write_str(" s) on input ");
    write_str(g_current);
    write_str("\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

static void death_callback(void)
{
    write_str(g_prog);
    write_str(": sanitizer report above was for input ");
    write_str(g_current);
    write_str("\n");
}

static void install_handlers(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGPIPE};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = crash_handler;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, &g_old_actions[sigs[i]]);
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = timeout_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
#ifdef SPW_HAVE_WEAK
    if (__sanitizer_set_death_callback) {
        __sanitizer_set_death_callback(death_callback);
    }
#else
    (void)death_callback;
#endif
}

static void arm_timer(unsigned seconds)
{
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_sec = (time_t)seconds;
    setitimer(ITIMER_REAL, &it, NULL);
}

/* ---- input list ---------------------------------------------------------- */

typedef struct path_list {
    char **items;
    size_t n, cap;
} path_list;

static void list_add(path_list *l, const char *path)
{
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        char **ni = realloc(l->items, ncap * sizeof(*ni));
        if (!ni) {
            fprintf(stderr, "%s: out of memory\n", g_prog);
            exit(2);
        }
        l->items = ni;
        l->cap = ncap;
    }
    size_t len = strlen(path);
    char *copy = malloc(len + 1);
    if (!copy) {
        fprintf(stderr, "%s: out of memory\n", g_prog);
        exit(2);
    }
    memcpy(copy, path, len + 1);
    l->items[l->n++] = copy;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Documentation that lives next to inputs is not an input. */
static int skip_name(const char *name)
{
    if (name[0] == '.') {
        return 1;
    }
    if (strncmp(name, "README", 6) == 0 || strncmp(name, "INDEX", 5) == 0 ||
        strncmp(name, "index", 5) == 0) {
        return 1;
    }
    size_t n = strlen(name);
    return n > 3 && strcmp(name + n - 3, ".md") == 0;
}

/* Add a directory's inputs, recursively, in sorted order. Returns 0, or -1
 * when the directory cannot be read. */
static int add_dir(path_list *out, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        return -1;
    }
    path_list here = {NULL, 0, 0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (skip_name(e->d_name)) {
            continue;
        }
        size_t need = strlen(dir) + 1 + strlen(e->d_name) + 1;
        char *p = malloc(need);
        if (!p) {
            closedir(d);
            return -1;
        }
        snprintf(p, need, "%s/%s", dir, e->d_name);
        list_add(&here, p);
        free(p);
    }
    closedir(d);
    if (here.n > 0) {
        qsort(here.items, here.n, sizeof(here.items[0]), cmp_str);
    }
    for (size_t i = 0; i < here.n; i++) {
        struct stat st;
        if (stat(here.items[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (add_dir(out, here.items[i]) != 0) {
                list_add(out, here.items[i]); /* reported as unreadable later */
            }
        } else {
            list_add(out, here.items[i]);
        }
        free(here.items[i]);
    }
    free(here.items);
    return 0;
}

/* Read a whole file ("-" = stdin) into an exactly sized buffer, so an
 * overread by one byte is caught by AddressSanitizer. */
static int read_input(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        return -1;
    }
    size_t cap = 4096, len = 0;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        if (f != stdin) {
            fclose(f);
        }
        return -1;
    }
    for (;;) {
        if (len == cap) {
            uint8_t *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                if (f != stdin) {
                    fclose(f);
                }
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
    int err = ferror(f);
    if (f != stdin) {
        fclose(f);
    }
    if (err) {
        free(buf);
        return -1;
    }
    uint8_t *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    if (len) {
        memcpy(exact, buf, len);
    }
    free(buf);
    *data = exact;
    *size = len;
    return 0;
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: %s [options] INPUT...\n"
            "Run the fuzz target once per input and report failures.\n"
            "INPUT is a file, a directory (walked recursively, sorted; README*,\n"
            "INDEX*, index*, *.md and dot files are skipped) or - for stdin.\n"
            "\n"
            "options:\n"
            "  --timeout SEC   fail an input that runs longer (default 10, 0 = none)\n"
            "  --fork          run each input in a child process: a crash fails that\n"
            "                  input only and the run goes on\n"
            "  -v, --verbose   print each input name before running it\n"
            "  --help          this text; --version: '%s VERSION'\n"
            "libFuzzer-style options (-name=value) are accepted and ignored.\n"
            "\n"
            "Prints one line per failing input and a summary line\n"
            "'%s: N inputs, M failed'; exits 0 if none failed, 1 otherwise,\n"
            "2 on a usage error. A crash or timeout without --fork names the\n"
            "input and ends the run with the signal.\n",
            g_prog, g_prog, g_prog);
}

static void set_current(const char *path)
{
    size_t n = strlen(path);
    if (n >= sizeof(g_current)) {
        n = sizeof(g_current) - 1;
    }
    memcpy(g_current, path, n);
    g_current[n] = '\0';
}

/* Run one input in this process. */
static void run_here(const uint8_t *data, size_t size)
{
    arm_timer(g_timeout);
    (void)LLVMFuzzerTestOneInput(data, size);
    arm_timer(0);
}

/* Run one input in a child. Returns 0 if it passed. */
static int run_forked(const char *path, const uint8_t *data, size_t size)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "%s: FAIL %s: fork: %s\n", g_prog, path, strerror(errno));
        return -1;
    }
    if (pid == 0) {
        run_here(data, size);
        exit(0);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fprintf(stderr, "%s: FAIL %s: waitpid: %s\n", g_prog, path, strerror(errno));
            return -1;
        }
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        return 0;
    }
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "%s: FAIL %s: killed by %s (%d)\n", g_prog, path,
                sig_name(WTERMSIG(status)), WTERMSIG(status));
    } else {
        fprintf(stderr, "%s: FAIL %s: exit status %d\n", g_prog, path, WEXITSTATUS(status));
    }
    return -1;
}

int main(int argc, char **argv)
{
    const char *base = strrchr(argv[0], '/');
    base = base ? base + 1 : argv[0];
    snprintf(g_prog, sizeof(g_prog), "%s", base);

    int use_fork = 0;
    int verbose = 0;
    path_list inputs = {NULL, 0, 0};
    size_t failed = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--version") == 0) {
            printf("%s %s\n", g_prog, SPWIRE_VERSION_STRING);
            return 0;
        } else if (strcmp(a, "--timeout") == 0 || strncmp(a, "--timeout=", 10) == 0) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            unsigned long t = v ? strtoul(v, &end, 10) : 0;
            if (!v || *v == '\0' || *end != '\0' || t > 86400) {
                fprintf(stderr, "%s: --timeout needs a number of seconds\n", g_prog);
                return 2;
            }
            g_timeout = (unsigned)t;
        } else if (strcmp(a, "--fork") == 0) {
            use_fork = 1;
        } else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
            verbose = 1;
        } else if (strcmp(a, "-") == 0) {
            list_add(&inputs, a);
        } else if (a[0] == '-' && strchr(a, '=') != NULL) {
            fprintf(stderr, "%s: ignoring engine option %s\n", g_prog, a);
        } else if (a[0] == '-') {
            fprintf(stderr, "%s: unknown option %s\n", g_prog, a);
            usage(stderr);
            return 2;
        } else {
            struct stat st;
            if (stat(a, &st) == 0 && S_ISDIR(st.st_mode)) {
                if (add_dir(&inputs, a) != 0) {
                    fprintf(stderr, "%s: FAIL %s: cannot read directory: %s\n", g_prog, a,
                            strerror(errno));
                    failed++;
                }
            } else {
                list_add(&inputs, a);
            }
        }
    }
    if (inputs.n == 0 && failed == 0 && argc < 2) {
        usage(stderr);
        return 2;
    }

    install_handlers();
    for (size_t i = 0; i < inputs.n; i++) {
        const char *path = inputs.items[i];
        uint8_t *data = NULL;
        size_t size = 0;
        set_current(path);
        if (read_input(path, &data, &size) != 0) {
            fprintf(stderr, "%s: FAIL %s: cannot read: %s\n", g_prog, path, strerror(errno));
            failed++;
            continue;
        }
        if (verbose) {
            fprintf(stderr, "%s: running %s (%zu bytes)\n", g_prog, path, size);
        }
        if (use_fork) {
            if (run_forked(path, data, size) != 0) {
                failed++;
            }
        } else {
            run_here(data, size);
        }
        free(data);
    }
    set_current("(none)");
    printf("%s: %zu inputs, %zu failed\n", g_prog, inputs.n, failed);
    for (size_t i = 0; i < inputs.n; i++) {
        free(inputs.items[i]);
    }
    free(inputs.items);
    return failed ? 1 : 0;
}
