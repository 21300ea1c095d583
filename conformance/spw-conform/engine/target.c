/* spw-conform engine — targets (target.h). */
#include "target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "catalogue.h"
#include "spwire/proto.h"

void cf_target_defaults(cf_target *t)
{
    memset(t, 0, sizeof *t);
    t->kind = -1;
    t->recvmax = 1048576;
    t->timeout_ms = 1000;
    t->kill_timeout_ms = 1000;
    t->start_timeout_ms = 5000;
    t->grace_ms = 100;
}

int cf_target_set_url(cf_target *t, int kind, const char *url, char *err, size_t errlen)
{
    if (t->url) {
        snprintf(err, errlen, "give one of --connect and --listen");
        return -1;
    }
    const cf_driver *d = cf_driver_for_url(url);
    if (!d) {
        snprintf(err, errlen, "%s: expected tcp://HOST:PORT or ipc:///PATH", url);
        return -1;
    }
    if (d->parse(url, &t->addr, err, errlen))
        return -1;
    t->url = url;
    t->kind = kind;
    t->driver = d;
    t->port_given = t->addr.port != 0;
    return 0;
}

int cf_target_finish(cf_target *t, char *err, size_t errlen)
{
    if (!t->proto) {
        snprintf(err, errlen, "--proto is required (which protocol the IUT speaks)");
        return -1;
    }
    if (t->kind < 0) {
        if (!t->exec) {
            snprintf(err, errlen, "give a target: --exec 'CMD {fd}', --connect or --listen");
            return -1;
        }
        t->ctl = strstr(t->exec, "{ctl}") != NULL;
        if (!strstr(t->exec, "{fd}") && !strstr(t->exec, "{fds}") && !t->ctl) {
            snprintf(err, errlen, "--exec without --connect/--listen needs {fd}, {fds} or {ctl} "
                                  "in the command");
            return -1;
        }
        if (t->ctl && (strstr(t->exec, "{fd}") || strstr(t->exec, "{fds}"))) {
            snprintf(err, errlen, "--exec takes its connections as {fd}/{fds} or over {ctl}, "
                                  "not both");
            return -1;
        }
        t->kind = CF_T_EXEC_FD;
        t->driver = cf_driver_of(CF_TR_SOCKET);
        return 0;
    }
    if (t->kind == CF_T_LISTEN && !t->exec) {
        snprintf(err, errlen, "--listen needs --exec 'CMD ... {url}' (the IUT that dials)");
        return -1;
    }
    if (t->exec && !strstr(t->exec, "{url}")) {
        snprintf(err, errlen, "--exec with --%s needs {url} in the command",
                 t->kind == CF_T_CONNECT ? "connect" : "listen");
        return -1;
    }
    t->shared = t->kind == CF_T_CONNECT && !t->exec;
    if (t->shared && t->driver->transport == CF_TR_TCP && t->addr.port == 0) {
        snprintf(err, errlen, "--connect without --exec needs the IUT's real port");
        return -1;
    }
    if (t->driver->pick(&t->addr)) {
        snprintf(err, errlen, "no free port on %s", t->addr.host);
        return -1;
    }
    return 0;
}

int cf_target_fresh_addr(cf_target *t)
{
    if (t->kind == CF_T_EXEC_FD || t->shared || t->port_given ||
        t->driver->transport != CF_TR_TCP)
        return 0;
    t->addr.port = 0;
    return t->driver->pick(&t->addr);
}

int cf_target_for_job(cf_target *t, int k, char *err, size_t errlen)
{
    if (t->kind == CF_T_EXEC_FD || t->shared)
        return 0; /* socketpairs / one running IUT for all */
    if (t->driver->transport == CF_TR_IPC) {
        size_t n = strlen(t->addr.path);
        if (n + 8 >= sizeof t->addr.path) {
            snprintf(err, errlen, "%s: too long to add .jobN for --jobs", t->addr.path);
            return -1;
        }
        snprintf(t->addr.path + n, sizeof t->addr.path - n, ".job%d", k);
        snprintf(t->addr.url, sizeof t->addr.url, "ipc://%s", t->addr.path);
        return 0;
    }
    if (t->port_given) {
        snprintf(err, errlen, "--jobs: every worker's IUT needs its own port; give port 0 "
                              "(%s)", t->url);
        return -1;
    }
    t->addr.port = 0;
    if (t->driver->pick(&t->addr)) {
        snprintf(err, errlen, "no free port on %s", t->addr.host);
        return -1;
    }
    return 0;
}

int cf_target_fd_slots(const cf_target *t)
{
    if (t->kind != CF_T_EXEC_FD)
        return 0;
    return t->ctl || strstr(t->exec, "{fds}") ? CF_MAX_CONNS : 1;
}

/* {behaviour}: the spwire peer CLI flags (conformance/peers) that make the
 * IUT do what its protocol does in the catalogue's cases: echo, request,
 * send, or receive. */
static const char *behaviour_for(uint16_t proto)
{
    const spw_proto_desc *d = spw_proto_desc_of(proto);
    unsigned f = d ? d->flags : 0;
    if (f & SPW_PF_ECHOES)
        return "--echo --count 1000000 --timeout 600000";
    /* a survey ends at its first response, so taking a response shows as
     * the next survey (the sp.requester cases rely on it): a broadcasting
     * requester waits for its peer before the first */
    if ((f & SPW_PF_REQUESTS) && (f & SPW_PF_BROADCASTS))
        return "--send 7370 --count 1000000 --timeout 600000 --wait-peers 1";
    if (f & SPW_PF_REQUESTS)
        return "--send 7370 --count 1000000 --timeout 600000";
    if ((f & SPW_PF_SENDS) && !(f & SPW_PF_RECEIVES))
        return "--size 8 --count 1000000 --timeout 600000";
    return "--recv --count 1000000 --timeout 600000";
}

char *cf_target_command(const cf_target *t, const int *fds, int nfds, int ctl)
{
    cf_buf b = {0};
    const char *p = t->exec ? t->exec : "";
    const char *url = t->kind == CF_T_EXEC_FD ? NULL : t->addr.url;
    uint16_t proto = t->proto;
    uint64_t recvmax = t->recvmax;
    while (*p) {
        if (*p == '{') {
            const char *e = strchr(p, '}');
            if (e) {
                size_t n = (size_t)(e - p - 1);
                char key[32] = {0};
                if (n < sizeof key) {
                    memcpy(key, p + 1, n);
                    int done = 1;
                    if (strcmp(key, "fd") == 0)
                        cf_buf_printf(&b, "%d", nfds > 0 ? fds[0] : -1);
                    else if (strcmp(key, "fds") == 0)
                        for (int i = 0; i < nfds; i++)
                            cf_buf_printf(&b, "%s%d", i ? "," : "", fds[i]);
                    else if (strcmp(key, "ctl") == 0)
                        cf_buf_printf(&b, "%d", ctl);
                    else if (strcmp(key, "url") == 0)
                        cf_buf_printf(&b, "%s", url ? url : "");
                    else if (strcmp(key, "proto") == 0)
                        cf_buf_printf(&b, "%s", spw_proto_name(proto));
                    else if (strcmp(key, "recvmax") == 0)
                        cf_buf_printf(&b, "%llu", (unsigned long long)recvmax);
                    else if (strcmp(key, "behaviour") == 0 || strcmp(key, "behavior") == 0)
                        cf_buf_printf(&b, "%s", behaviour_for(proto));
                    else
                        done = 0;
                    if (done) {
                        p = e + 1;
                        continue;
                    }
                }
            }
        }
        cf_buf_add(&b, p, 1);
        p++;
    }
    if (!b.p)
        cf_buf_add(&b, "", 0);
    return (char *)b.p;
}

