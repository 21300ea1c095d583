#include "spwire/proto.h"

#include <string.h>

struct proto_entry {
    uint16_t id;
    uint16_t peer;
    const char *name;
};

static const struct proto_entry proto_table[SPW_PROTO_COUNT] = {
    {SPW_PROTO_PAIR0, SPW_PROTO_PAIR0, "pair0"},
    {SPW_PROTO_PAIR1, SPW_PROTO_PAIR1, "pair1"},
    {SPW_PROTO_PUB, SPW_PROTO_SUB, "pub"},
    {SPW_PROTO_SUB, SPW_PROTO_PUB, "sub"},
    {SPW_PROTO_REQ, SPW_PROTO_REP, "req"},
    {SPW_PROTO_REP, SPW_PROTO_REQ, "rep"},
    {SPW_PROTO_PUSH, SPW_PROTO_PULL, "push"},
    {SPW_PROTO_PULL, SPW_PROTO_PUSH, "pull"},
    {SPW_PROTO_SURVEYOR, SPW_PROTO_RESPONDENT, "surveyor"},
    {SPW_PROTO_RESPONDENT, SPW_PROTO_SURVEYOR, "respondent"},
    {SPW_PROTO_BUS, SPW_PROTO_BUS, "bus"},
};

/* Names users type that are not the canonical ones (nngcat and NNG's own
 * spellings). */
static const struct {
    const char *alias;
    uint16_t id;
} proto_alias[] = {
    {"pair", SPW_PROTO_PAIR1}, {"pub0", SPW_PROTO_PUB},      {"sub0", SPW_PROTO_SUB},
    {"req0", SPW_PROTO_REQ},   {"rep0", SPW_PROTO_REP},      {"push0", SPW_PROTO_PUSH},
    {"pull0", SPW_PROTO_PULL}, {"survey", SPW_PROTO_SURVEYOR}, {"surveyor0", SPW_PROTO_SURVEYOR},
    {"respondent0", SPW_PROTO_RESPONDENT}, {"bus0", SPW_PROTO_BUS},
};

static const struct proto_entry *proto_find(uint16_t id)
{
    for (int i = 0; i < SPW_PROTO_COUNT; i++)
        if (proto_table[i].id == id)
            return &proto_table[i];
    return 0;
}

int spw_proto_known(uint16_t id)
{
    return proto_find(id) != 0;
}

int spw_proto_peer(uint16_t id)
{
    const struct proto_entry *e = proto_find(id);
    return e ? e->peer : -1;
}

const char *spw_proto_name(uint16_t id)
{
    const struct proto_entry *e = proto_find(id);
    return e ? e->name : 0;
}

int spw_proto_by_name(const char *name)
{
    if (!name)
        return -1;
    for (int i = 0; i < SPW_PROTO_COUNT; i++)
        if (strcmp(proto_table[i].name, name) == 0)
            return proto_table[i].id;
    for (size_t i = 0; i < sizeof proto_alias / sizeof proto_alias[0]; i++)
        if (strcmp(proto_alias[i].alias, name) == 0)
            return proto_alias[i].id;
    return -1;
}

int spw_proto_at(int i)
{
    if (i < 0 || i >= SPW_PROTO_COUNT)
        return -1;
    return proto_table[i].id;
}
