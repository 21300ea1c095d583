/* spw-conform engine — names of levels, outcomes and verdicts. */
#include "outcome.h"

#include <string.h>

static const char *const level_names[] = {"MUST", "SHOULD", "INFO"};
static const char *const outcome_names[CF_O_COUNT] = {
    "closed", "closed-after-reply", "echoed",  "open",    "not-echoed", "wrong-echo",
    "no-handshake", "bad-handshake", "garbage", "crashed", "hung",       "leaked",
    "requested", "no-request", "bad-request", "reused-id", "exited"};
static const char *const verdict_names[] = {"PASS", "NON-STRICT", "INFORMATIONAL",
                                            "FAIL", "ERROR",      "SKIP"};

const char *cf_level_name(int level)
{
    return level >= 0 && level <= CF_INFO ? level_names[level] : "?";
}

const char *cf_outcome_name(int o)
{
    if (o == CF_O_PAIRED)
        return "paired";
    return o >= 0 && o < CF_O_COUNT ? outcome_names[o] : "?";
}

int cf_outcome_by_name(const char *name)
{
    for (int i = 0; i < CF_O_COUNT; i++)
        if (strcmp(outcome_names[i], name) == 0)
            return i;
    if (strcmp(name, "paired") == 0)
        return CF_O_PAIRED;
    return -1;
}

const char *cf_verdict_name(int v)
{
    return v >= 0 && v <= CF_SKIP ? verdict_names[v] : "?";
}

int cf_verdict_by_name(const char *name)
{
    for (int i = 0; i <= CF_SKIP; i++)
        if (strcmp(verdict_names[i], name) == 0)
            return i;
    return -1;
}

int cf_level_by_name(const char *name)
{
    for (int i = 0; i <= CF_INFO; i++)
        if (strcmp(level_names[i], name) == 0)
            return i;
    return -1;
}

int cf_outcome_is_robustness(int o)
{
    return o == CF_O_CRASHED || o == CF_O_EXITED || o == CF_O_HUNG || o == CF_O_LEAKED;
}
