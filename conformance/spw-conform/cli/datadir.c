/* spw-conform's data directory (datadir.h). */
#include "datadir.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *g_dir;

void cf_data_dir_set(const char *dir)
{
    g_dir = dir;
}

/* DATA from the running program: /proc/self/exe is the real file (symlinks
 * resolved), so its grandparent is the prefix whether the program was
 * started through PATH, a relative path or a link. 0 ok, -1 with err. */
static int data_from_exe(char *out, size_t outlen, char *err, size_t errlen)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || (size_t)n >= sizeof exe - 1) {
        snprintf(err, errlen, "cannot find this program's location (/proc/self/exe: %s)",
                 n < 0 ? strerror(errno) : "too long");
        return -1;
    }
    exe[n] = '\0';
    for (int up = 0; up < 2; up++) {
        char *slash = strrchr(exe, '/');
        if (!slash) {
            snprintf(err, errlen, "this program's location '%.300s' has no directory", exe);
            return -1;
        }
        *slash = '\0';
    }
    if ((size_t)snprintf(out, outlen, "%s/share/spwire", exe) >= outlen) {
        snprintf(err, errlen, "this program's prefix '%.300s' is too long", exe);
        return -1;
    }
    return 0;
}

int cf_data_path(const char *sub, char *out, size_t outlen, char *err, size_t errlen)
{
    char data[4096];
    const char *env = getenv("SPWIRE_DATA_DIR");
    const char *from;
    if (g_dir) {
        from = "--data-dir";
        snprintf(data, sizeof data, "%s", g_dir);
    } else if (env && *env) {
        from = "$SPWIRE_DATA_DIR";
        snprintf(data, sizeof data, "%s", env);
    } else {
        from = "../share/spwire from this program's directory";
        char why[512];
        if (data_from_exe(data, sizeof data, why, sizeof why)) {
            snprintf(err, errlen, "no data directory: %s; give --data-dir DIR or set "
                     "SPWIRE_DATA_DIR", why);
            return -1;
        }
    }
    struct stat st;
    int fits = (size_t)snprintf(out, outlen, "%s/%s", data, sub) < outlen;
    if (fits && stat(out, &st) == 0)
        return 0;
    snprintf(err, errlen, "no %s in the data directory %s (%s): %s; give --data-dir DIR or set "
             "SPWIRE_DATA_DIR to the directory holding %s/ (an installation's "
             "PREFIX/share/spwire)",
             sub, data, from, fits ? strerror(errno) : "path too long", sub);
    return -1;
}

int cf_data_cases(const char **cases, char *buf, size_t len, const char *prog)
{
    char err[1024];
    if (*cases)
        return 0;
    if (cf_data_path("cases", buf, len, err, sizeof err)) {
        fprintf(stderr, "%s: ERROR finding the case catalogue: %s\n", prog, err);
        return -1;
    }
    *cases = buf;
    return 0;
}
