/* spw_hex.h -- the one hex syntax of spwire's tools: test vectors
 * (conformance/vectors/), case files (conformance/cases/) and the
 * peers' --send all write bytes this way.
 *
 * Grammar (the whole string; items may run together or be separated by
 * whitespace, which is otherwise ignored):
 *
 *   bytes  := { space | item }
 *   item   := hex [ "*" count ] | string | "-"
 *   hex    := DIGIT DIGIT          one byte, high digit first; 0-9 a-f A-F
 *   count  := decimal digits       the byte repeated count times,
 *                                  1 <= count <= SPW_HEX_MAX_REPEAT; it
 *                                  takes every digit (01*202: 202 bytes)
 *   string := '"' { char } '"'     each char is its own byte, except
 *                                  \r \n \t \\ \" and \xHH (two hex digits)
 *   "-"    := no bytes; it must be followed by whitespace or the end (it
 *             writes the empty message where a value cannot be blank)
 *
 * Examples: `00 53 50 00`, `005350`, `5a*300`, `"GET / HTTP/1.1\r\n"`,
 * `80 00 00 01 "hello"`, `-`, and the empty string (no bytes).
 *
 * It is the union of the three syntaxes it replaced: the vectors' `HH*N`
 * and `-` (whose strings had no escapes: no vector has a backslash in one),
 * the case files' `\xHH` strings, and the peers' even-length hex.
 */
#ifndef SPW_HEX_H
#define SPW_HEX_H

#include <stddef.h>
#include <stdint.h>

#define SPW_HEX_MAX_REPEAT 67108864 /* 64 MiB: no tool needs one byte more often */

/* The value of hex digit c (0..15), or -1 for any other character. */
int spw_hex_digit(int c);

/* Parse s (the whole string) in the one hex syntax.
 * 0: *out is malloc'ed (the caller frees it; non-NULL even when *len is 0)
 *    and *len its length.
 * -1: err (when not NULL, errlen > 0) holds "column N: why", N counted from
 *    1 at the first character of s; *out and *len are left alone. */
int spw_hex_parse(const char *s, uint8_t **out, size_t *len, char *err, size_t errlen);

#endif /* SPW_HEX_H */
