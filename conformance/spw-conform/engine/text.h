/* spw-conform engine — the one number syntax and the glob of case files and
 * command lines. Pure. */
#ifndef SPW_CONFORM_TEXT_H
#define SPW_CONFORM_TEXT_H

/* A whole number (decimal or 0x hex, no sign, no space) in [lo, hi].
 * 0 ok with *out set; -1 when s is not one. */
int cf_parse_num(const char *s, unsigned long long lo, unsigned long long hi,
                 unsigned long long *out);

/* Shell-style glob over a whole string: '*' any run, '?' one character. */
int cf_glob(const char *pat, const char *s);

#endif
