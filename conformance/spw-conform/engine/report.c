/* spw-conform engine — console, JUnit XML and JSON reports (report.h). */
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outcome.h"
#include "spwire/proto.h"

static const char *group_of(const char *id, char *buf, size_t len)
{
    const char *dot = strchr(id, '.');
    size_t n = dot ? (size_t)(dot - id) : strlen(id);
    if (n >= len)
        n = len - 1;
    memcpy(buf, id, n);
    buf[n] = 0;
    return buf;
}

void cf_report_console(FILE *f, const cf_result *r, int verbose)
{
    const cf_case *c = r->c;
    fprintf(f, "%-13s %-46s %5ldms", cf_verdict_name(r->verdict), c->id, r->ms);
    if (r->verdict == CF_SKIP)
        fprintf(f, "  (%s)", r->reason ? r->reason : "");
    else if (r->verdict == CF_INFORMATIONAL || r->verdict == CF_PASS)
        fprintf(f, "  %s", r->outcome >= 0 ? cf_outcome_name(r->outcome) : "");
    fputc('\n', f);
    int detail = r->verdict == CF_FAIL || r->verdict == CF_ERROR || r->verdict == CF_NONSTRICT ||
                 (verbose && r->verdict != CF_SKIP);
    if (!detail)
        return;
    fprintf(f, "    requirement (%s, %s:%d): %s\n", cf_level_name(c->level), c->file, c->line,
            c->rule);
    if (r->verdict != CF_ERROR)
        fprintf(f, "    acceptable:  %s\n", r->acceptable ? r->acceptable : "");
    fprintf(f, "    happened:    %s\n", r->reason ? r->reason : "");
    if (r->wire.len) {
        fprintf(f, "    wire log (-> to the IUT, <- from the IUT):\n");
        fputs((const char *)r->wire.p, f);
    }
    if (r->iut_log && *r->iut_log) {
        fprintf(f, "    IUT output (tail):\n");
        const char *p = r->iut_log;
        while (*p) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            fprintf(f, "      | %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
    }
}

void cf_xml_escape(cf_buf *b, const char *s)
{
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '<': cf_buf_printf(b, "&lt;"); break;
        case '>': cf_buf_printf(b, "&gt;"); break;
        case '&': cf_buf_printf(b, "&amp;"); break;
        case '"': cf_buf_printf(b, "&quot;"); break;
        case '\'': cf_buf_printf(b, "&apos;"); break;
        default:
            if (c < 0x20 && c != '\n' && c != '\t')
                cf_buf_printf(b, "?"); /* not representable in XML 1.0 */
            else if (c >= 0x80)
                cf_buf_printf(b, "?"); /* keep the file plain ASCII */
            else
                cf_buf_add(b, &c, 1);
        }
    }
}

void cf_json_escape(cf_buf *b, const char *s)
{
    cf_buf_add(b, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            cf_buf_printf(b, "\\%c", c);
        else if (c == '\n')
            cf_buf_printf(b, "\\n");
        else if (c < 0x20 || c >= 0x80)
            cf_buf_printf(b, "\\u%04x", c);
        else
            cf_buf_add(b, &c, 1);
    }
    cf_buf_add(b, "\"", 1);
}

static int write_file(const char *path, const cf_buf *b)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = fwrite(b->p, 1, b->len, f);
    int rc = fclose(f);
    return n == b->len && rc == 0 ? 0 : -1;
}

int cf_report_junit(const char *path, const cf_result *rs, int n, const char *suite)
{
    int fails = 0, errors = 0, skipped = 0;
    double total = 0;
    for (int i = 0; i < n; i++) {
        fails += rs[i].verdict == CF_FAIL;
        errors += rs[i].verdict == CF_ERROR;
        skipped += rs[i].verdict == CF_SKIP;
        total += (double)rs[i].ms / 1000.0;
    }
    cf_buf b = {0};
    cf_buf_printf(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    cf_buf_printf(&b, "<testsuites name=\"spw-conform\" tests=\"%d\" failures=\"%d\" errors=\"%d\" "
                      "skipped=\"%d\" time=\"%.3f\">\n", n, fails, errors, skipped, total);
    cf_buf_printf(&b, "  <testsuite name=\"");
    cf_xml_escape(&b, suite);
    cf_buf_printf(&b, "\" tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
                  n, fails, errors, skipped, total);
    for (int i = 0; i < n; i++) {
        const cf_result *r = &rs[i];
        char g[64];
        cf_buf_printf(&b, "    <testcase name=\"");
        cf_xml_escape(&b, r->c->id);
        cf_buf_printf(&b, "\" classname=\"spw-conform.");
        cf_xml_escape(&b, group_of(r->c->id, g, sizeof g));
        cf_buf_printf(&b, "\" time=\"%.3f\"", (double)r->ms / 1000.0);
        cf_buf body = {0};
        cf_buf_printf(&body, "requirement (%s): %s\nacceptable: %s\nhappened: %s\n",
                      cf_level_name(r->c->level), r->c->rule, r->acceptable ? r->acceptable : "",
                      r->reason ? r->reason : "");
        if (r->wire.len)
            cf_buf_printf(&body, "wire log:\n%s", (const char *)r->wire.p);
        if (r->iut_log && *r->iut_log && (r->verdict == CF_FAIL || r->verdict == CF_ERROR))
            cf_buf_printf(&body, "IUT output (tail):\n%s", r->iut_log);
        if (r->verdict == CF_FAIL || r->verdict == CF_ERROR) {
            const char *tag = r->verdict == CF_FAIL ? "failure" : "error";
            cf_buf_printf(&b, ">\n      <%s message=\"", tag);
            cf_xml_escape(&b, r->reason);
            cf_buf_printf(&b, "\" type=\"%s\">", cf_verdict_name(r->verdict));
            cf_xml_escape(&b, (const char *)body.p);
            cf_buf_printf(&b, "</%s>\n    </testcase>\n", tag);
        } else if (r->verdict == CF_SKIP) {
            cf_buf_printf(&b, ">\n      <skipped message=\"");
            cf_xml_escape(&b, r->reason);
            cf_buf_printf(&b, "\"/>\n    </testcase>\n");
        } else if (r->verdict == CF_NONSTRICT || r->verdict == CF_INFORMATIONAL) {
            cf_buf_printf(&b, ">\n      <system-out>%s: ", cf_verdict_name(r->verdict));
            cf_xml_escape(&b, (const char *)body.p);
            cf_buf_printf(&b, "</system-out>\n    </testcase>\n");
        } else
            cf_buf_printf(&b, "/>\n");
        cf_buf_free(&body);
    }
    cf_buf_printf(&b, "  </testsuite>\n</testsuites>\n");
    int rc = write_file(path, &b);
    cf_buf_free(&b);
    return rc;
}

int cf_report_json(const char *path, const cf_result *rs, int n, const cf_target *t)
{
    int cnt[6] = {0};
    for (int i = 0; i < n; i++)
        cnt[rs[i].verdict]++;
    cf_buf b = {0};
    cf_buf_printf(&b, "{\"tool\":\"spw-conform\",\"proto\":\"%s\",\"target\":",
                  spw_proto_name(t->proto));
    cf_buf tg = {0};
    if (t->kind == CF_T_EXEC_FD)
        cf_buf_printf(&tg, "exec-fd: %s", t->exec);
    else
        cf_buf_printf(&tg, "%s %s%s%s", t->kind == CF_T_CONNECT ? "connect" : "listen", t->url,
                      t->exec ? " exec: " : "", t->exec ? t->exec : "");
    cf_json_escape(&b, (const char *)tg.p);
    cf_buf_free(&tg);
    cf_buf_printf(&b, ",\"recvmax\":%llu,\"summary\":{", (unsigned long long)t->recvmax);
    for (int v = 0; v <= CF_SKIP; v++)
        cf_buf_printf(&b, "%s\"%s\":%d", v ? "," : "", cf_verdict_name(v), cnt[v]);
    cf_buf_printf(&b, "},\"cases\":[\n");
    for (int i = 0; i < n; i++) {
        const cf_result *r = &rs[i];
        cf_buf_printf(&b, "%s{\"id\":", i ? ",\n" : "");
        cf_json_escape(&b, r->c->id);
        cf_buf_printf(&b, ",\"level\":\"%s\",\"verdict\":\"%s\",\"outcome\":",
                      cf_level_name(r->c->level), cf_verdict_name(r->verdict));
        if (r->outcome >= 0 && r->verdict != CF_SKIP)
            cf_json_escape(&b, cf_outcome_name(r->outcome));
        else
            cf_buf_printf(&b, "null");
        if (r->nconns > 1 && r->verdict != CF_ERROR) {
            cf_buf_printf(&b, ",\"fds\":[");
            for (int k = 0; k < r->nconns; k++)
                cf_buf_printf(&b, "%s{\"fd\":%d,\"outcome\":\"%s\",\"verdict\":\"%s\"}",
                              k ? "," : "", k + 1, cf_outcome_name(r->conn_outcome[k]),
                              cf_verdict_name(r->conn_verdict[k]));
            cf_buf_printf(&b, "]");
        }
        cf_buf_printf(&b, ",\"acceptable\":");
        cf_json_escape(&b, r->acceptable);
        cf_buf_printf(&b, ",\"rule\":");
        cf_json_escape(&b, r->c->rule);
        cf_buf_printf(&b, ",\"reason\":");
        cf_json_escape(&b, r->reason);
        cf_buf_printf(&b, ",\"ms\":%ld,\"wire\":", r->ms);
        cf_json_escape(&b, r->wire.len ? (const char *)r->wire.p : "");
        cf_buf_printf(&b, ",\"iut_output\":");
        cf_json_escape(&b, r->iut_log ? r->iut_log : "");
        cf_buf_printf(&b, "}");
    }
    cf_buf_printf(&b, "\n]}\n");
    int rc = write_file(path, &b);
    cf_buf_free(&b);
    return rc;
}
