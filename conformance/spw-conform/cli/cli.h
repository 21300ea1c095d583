/* spw-conform commands — what the command-line programs share: exit codes,
 * the target options (one table: parsing, help, reproduction), output path
 * checks and the temporary log directory. The engine (../engine) has no
 * command-line knowledge. */
#ifndef SPW_CONFORM_CLI_H
#define SPW_CONFORM_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "buf.h"
#include "target.h"

/* Exit codes of every command. */
enum { CF_EXIT_OK = 0, CF_EXIT_FAILED = 1, CF_EXIT_HARNESS = 2, CF_EXIT_NOMATCH = 3 };

/* The commands: argv holds the command's own arguments (not its name). */
int cf_cmd_run(int argc, char **argv);
int cf_cmd_fuzz(int argc, char **argv);
int cf_cmd_replay(int argc, char **argv);
int cf_cmd_diff(int argc, char **argv);

/* argv[*i] as a target option named --PREFIXNAME (prefix "" or "a-",
 * "b-" for diff): 1 consumed (with its value, *i advanced), 0 not a
 * target option, -1 bad value (reason in err). */
int cf_target_option(cf_target *t, const char *prefix, int argc, char **argv, int *i, char *err,
                     size_t errlen);
/* The target options that reproduce t on a command line, shell-quoted, each
 * preceded by a space. */
void cf_target_args(cf_buf *b, const cf_target *t);
/* The target options' help, one block. */
void cf_target_usage(FILE *f);

/* Up-front checks of where results go. A file: not a directory, its
 * directory exists and is writable (nothing is created). A directory:
 * created when missing (its parent must exist), then must be writable.
 * 0 ok; -1 with "OPTION PATH: why" in err. */
int cf_check_out_file(const char *option, const char *path, char *err, size_t errlen);
int cf_check_out_dir(const char *option, const char *path, char *err, size_t errlen);

/* A fresh directory under $TMPDIR for the IUT's output (malloc'ed), NULL
 * with errno; cf_remove_logdir removes it with its files and frees dir. */
char *cf_make_logdir(void);
void cf_remove_logdir(char *dir);

/* Shell-quote s onto b. */
void cf_shell_quote(cf_buf *b, const char *s);

#endif
