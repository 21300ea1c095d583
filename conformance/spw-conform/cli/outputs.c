/* spw-conform commands — output paths and the log directory (cli.h). */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cf_check_out_file(const char *option, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (!*path) {
        snprintf(err, errlen, "%s: an empty path", option);
        return -1;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: is a directory, a file is expected", option, path);
        return -1;
    }
    char dir[1024];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: the directory %s does not exist", option, path, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0 || (access(path, F_OK) == 0 && access(path, W_OK) != 0)) {
        snprintf(err, errlen, "%s %s: not writable: %s", option, path, strerror(errno));
        return -1;
    }
    return 0;
}

int cf_check_out_dir(const char *option, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (!*path) {
        snprintf(err, errlen, "%s: an empty path", option);
        return -1;
    }
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s %s: cannot create the directory: %s", option, path,
                 strerror(errno));
        return -1;
    }
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: not a directory", option, path);
        return -1;
    }
    if (access(path, W_OK | X_OK) != 0) {
        snprintf(err, errlen, "%s %s: not writable: %s", option, path, strerror(errno));
        return -1;
    }
    return 0;
}

char *cf_make_logdir(void)
{
    const char *tmp = getenv("TMPDIR");
    char *d = malloc(512);
    if (!d)
        abort();
    snprintf(d, 512, "%s/spw-conform.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(d)) {
        free(d);
        return NULL;
    }
    return d;
}

/* dir and what is in it (the fuzzer's workers have a directory each). */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
            if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                continue;
            char p[1024];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
            if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_tree(p);
            else
                unlink(p);
        }
        closedir(d);
    }
    rmdir(dir);
}

void cf_remove_logdir(char *dir)
{
    remove_tree(dir);
    free(dir);
}

void cf_shell_quote(cf_buf *b, const char *s)
{
    cf_buf_add(b, "'", 1);
    for (; *s; s++) {
        if (*s == '\'')
            cf_buf_printf(b, "'\\''");
        else
            cf_buf_add(b, s, 1);
    }
    cf_buf_add(b, "'", 1);
}
