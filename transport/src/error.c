#include "spwire/error.h"

struct err_entry {
    const char *name;
    const char *text;
};

/* Indexed by -code. */
static const struct err_entry err_table[SPW_ERROR_COUNT] = {
    {"OK", "success"},
    {"EINVAL", "invalid argument"},
    {"ENOMEM", "out of memory"},
    {"EPROTO", "protocol error"},
    {"EMSGSIZE", "message larger than the receive limit"},
    {"ECLOSED", "connection closed"},
    {"ETIMEDOUT", "timed out"},
    {"EADDRINVAL", "invalid address (the only URL is \"socket://\")"},
    {"ENOTSUP", "not supported"},
    {"EWRITEONLY", "option is write-only"},
    {"EREADONLY", "option is read-only"},
    {"ENOENT", "no such option"},
    {"EBADTYPE", "option has another type"},
    {"EBADF", "bad file descriptor"},
    {"ENOTSOCK", "file descriptor is not a socket"},
    {"ESOCKTYPE", "socket is not a stream socket"},
    {"ENOTCONN", "socket is not connected"},
    {"ESYSTEM", "system error"},
    {"ESTATE", "incorrect state"},
    {"ECONNRESET", "connection reset by peer"},
    {"EIDLE", "nothing pending on the listener"},
    {"ENOSPC", "too many pending fds on the listener"},
};

static const struct err_entry *err_lookup(int code)
{
    if (code > 0 || code <= -SPW_ERROR_COUNT)
        return 0;
    return &err_table[-code];
}

const char *spw_strerror(int code)
{
    const struct err_entry *e = err_lookup(code);
    return e ? e->text : "unknown spwire error";
}

const char *spw_errname(int code)
{
    const struct err_entry *e = err_lookup(code);
    return e ? e->name : "EUNKNOWN";
}
