/* spw-conform's data directory: the case catalogue (cases/) and, beside it,
 * the references' expectations, the dictionaries and the seed corpora that
 * `cmake --install` puts in PREFIX/share/spwire/ (README.md, "Installed
 * layout"). Found from where the program is, never through a path compiled
 * in, so a moved installation or checkout keeps working. */
#ifndef SPW_CONFORM_DATADIR_H
#define SPW_CONFORM_DATADIR_H

#include <stddef.h>

/* The help texts' description of where the data is looked for. */
#define CF_DATA_DIR_HELP                                                                           \
    "DATA is --data-dir DIR, else $SPWIRE_DATA_DIR, else ../share/spwire from\n"                    \
    "the directory holding this program (the installed layout; a build tree\n"                       \
    "has the same)"

/* --data-dir DIR: wins over the environment and the program's location.
 * dir must outlive every cf_data_path call. */
void cf_data_dir_set(const char *dir);

/* DATA/SUB (SUB e.g. "cases") into out, DATA chosen as CF_DATA_DIR_HELP
 * says. 0 when that path exists; -1 with err saying which path was tried,
 * where DATA came from and how to override it (also when the path does not
 * fit in out or the program's location cannot be read). */
int cf_data_path(const char *sub, char *out, size_t outlen, char *err, size_t errlen);

/* The catalogue a command reads: *cases as given (--cases), or when NULL
 * DATA/cases written into buf, *cases then pointing at buf. 0 ok; -1 with
 * "PROG: ERROR finding the case catalogue: WHY" on stderr (prog: the
 * command, e.g. "spw-conform fuzz"). */
int cf_data_cases(const char **cases, char *buf, size_t len, const char *prog);

#endif
