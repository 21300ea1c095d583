#include "spwire/proto.h"

#include <string.h>

/* Short names keep one protocol on one row of the table. */
enum {
    S = SPW_PF_SENDS,
    R = SPW_PF_RECEIVES,
    E = SPW_PF_ECHOES,
    Q = SPW_PF_REQUESTS,
    B = SPW_PF_BROADCASTS,
    F = SPW_PF_SENDS_FIRST,
};

/* The aliases are the names users type in nngcat and NNG's own spellings. */
/* clang-format off */
static const spw_proto_desc proto_table[SPW_PROTO_COUNT] = {
    {SPW_PROTO_PAIR0,      SPW_PROTO_PAIR0,      "pair0",      {NULL},                       SPW_HDR_NONE,      S | R | E | F},
    {SPW_PROTO_PAIR1,      SPW_PROTO_PAIR1,      "pair1",      {"pair", NULL},               SPW_HDR_PAIR1,     S | R | E | F},
    {SPW_PROTO_PUB,        SPW_PROTO_SUB,        "pub",        {"pub0", NULL},               SPW_HDR_NONE,      S | B | F},
    {SPW_PROTO_SUB,        SPW_PROTO_PUB,        "sub",        {"sub0", NULL},               SPW_HDR_NONE,      R},
    {SPW_PROTO_REQ,        SPW_PROTO_REP,        "req",        {"req0", NULL},               SPW_HDR_REQID,     S | R | Q | F},
    {SPW_PROTO_REP,        SPW_PROTO_REQ,        "rep",        {"rep0", NULL},               SPW_HDR_BACKTRACE, S | R | E},
    {SPW_PROTO_PUSH,       SPW_PROTO_PULL,       "push",       {"push0", NULL},              SPW_HDR_NONE,      S | F},
    {SPW_PROTO_PULL,       SPW_PROTO_PUSH,       "pull",       {"pull0", NULL},              SPW_HDR_NONE,      R},
    {SPW_PROTO_SURVEYOR,   SPW_PROTO_RESPONDENT, "surveyor",   {"survey", "surveyor0", NULL}, SPW_HDR_REQID,     S | R | Q | B | F},
    {SPW_PROTO_RESPONDENT, SPW_PROTO_SURVEYOR,   "respondent", {"respondent0", NULL},        SPW_HDR_BACKTRACE, S | R | E},
    {SPW_PROTO_BUS,        SPW_PROTO_BUS,        "bus",        {"bus0", NULL},               SPW_HDR_NONE,      S | R | E | B | F},
};
/* clang-format on */

int spw_proto_index(uint16_t id)
{
    for (int i = 0; i < SPW_PROTO_COUNT; i++)
        if (proto_table[i].id == id)
            return i;
    return -1;
}

int spw_proto_has(uint16_t id, unsigned flags)
{
    const spw_proto_desc *d = spw_proto_desc_of(id);
    return d && (d->flags & flags) == flags;
}

const spw_proto_desc *spw_proto_desc_at(int i)
{
    if (i < 0 || i >= SPW_PROTO_COUNT)
        return NULL;
    return &proto_table[i];
}

const spw_proto_desc *spw_proto_desc_of(uint16_t id)
{
    return spw_proto_desc_at(spw_proto_index(id));
}

int spw_proto_known(uint16_t id)
{
    return spw_proto_desc_of(id) != NULL;
}

int spw_proto_peer(uint16_t id)
{
    const spw_proto_desc *d = spw_proto_desc_of(id);
    return d ? d->peer : -1;
}

const char *spw_proto_name(uint16_t id)
{
    const spw_proto_desc *d = spw_proto_desc_of(id);
    return d ? d->name : NULL;
}

int spw_proto_by_name(const char *name)
{
    if (!name)
        return -1;
    /* Canonical names first, so an alias can never shadow one. */
    for (int i = 0; i < SPW_PROTO_COUNT; i++)
        if (strcmp(proto_table[i].name, name) == 0)
            return proto_table[i].id;
    for (int i = 0; i < SPW_PROTO_COUNT; i++)
        for (const char *const *a = proto_table[i].aliases; *a; a++)
            if (strcmp(*a, name) == 0)
                return proto_table[i].id;
    return -1;
}

int spw_proto_at(int i)
{
    const spw_proto_desc *d = spw_proto_desc_at(i);
    return d ? d->id : -1;
}
