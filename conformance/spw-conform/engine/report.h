/* spw-conform engine — results as people and CI read them: console lines,
 * JUnit XML, JSON. */
#ifndef SPW_CONFORM_REPORT_H
#define SPW_CONFORM_REPORT_H

#include <stdio.h>

#include "buf.h"
#include "runner.h"

void cf_report_console(FILE *f, const cf_result *r, int verbose);
/* Write the file; 0 ok, -1 (errno) when it cannot be written. */
int cf_report_junit(const char *path, const cf_result *rs, int n, const char *suite);
int cf_report_json(const char *path, const cf_result *rs, int n, const cf_target *t);
void cf_xml_escape(cf_buf *b, const char *s);
void cf_json_escape(cf_buf *b, const char *s);

#endif
