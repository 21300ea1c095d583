#include "spwire/frame.h"

#include <string.h>

#include "spwire/error.h"

/* Written out so compilers see a plain big-endian load (one bswap). */
static uint64_t load_be64(const uint8_t *p)
{
    return (uint64_t)p[0] << 56 | (uint64_t)p[1] << 48 | (uint64_t)p[2] << 40 |
           (uint64_t)p[3] << 32 | (uint64_t)p[4] << 24 | (uint64_t)p[5] << 16 |
           (uint64_t)p[6] << 8 | (uint64_t)p[7];
}

void spw_msg_free(spw_msg *msg, const spw_allocator *alloc)
{
    if (!msg)
        return;
    if (msg->data) {
        const spw_allocator *a = spw_allocator_or_default(alloc);
        a->free(a->ctx, msg->data, msg->len);
    }
    msg->data = 0;
    msg->len = 0;
}

void spw_frame_encode_header(uint8_t out[SPW_FRAME_HEADER_SIZE], uint64_t len)
{
    for (int i = 7; i >= 0; i--) {
        out[i] = (uint8_t)(len & 0xff);
        len >>= 8;
    }
}

int spw_frame_encode(uint8_t *out, size_t cap, const void *body, size_t len, size_t *written)
{
    if (!out || !written || (!body && len > 0))
        return SPW_EINVAL;
    if (len > SIZE_MAX - SPW_FRAME_HEADER_SIZE || cap < len + SPW_FRAME_HEADER_SIZE)
        return SPW_EINVAL;
    spw_frame_encode_header(out, len);
    if (len)
        memcpy(out + SPW_FRAME_HEADER_SIZE, body, len);
    *written = len + SPW_FRAME_HEADER_SIZE;
    return SPW_OK;
}

int spw_frame_check_length(uint64_t len, uint64_t limit)
{
    if (len & SPW_LENGTH_RESERVED_MASK)
        return SPW_EMSGSIZE;
#if SIZE_MAX < UINT64_MAX
    if (len > SIZE_MAX)
        return SPW_EMSGSIZE;
#endif
    if (limit != 0 && len > limit)
        return SPW_EMSGSIZE;
    return SPW_OK;
}

int spw_frame_parse(const uint8_t *buf, size_t len, uint64_t limit, size_t *body_len,
                    size_t *frame_len)
{
    if (len < SPW_FRAME_HEADER_SIZE)
        return SPW_FRAME_NEED_MORE;
    uint64_t announced = load_be64(buf);
    int rc = spw_frame_check_length(announced, limit);
    if (rc != SPW_OK)
        return rc;
    if (len - SPW_FRAME_HEADER_SIZE < announced)
        return SPW_FRAME_NEED_MORE;
    *body_len = (size_t)announced;
    *frame_len = (size_t)announced + SPW_FRAME_HEADER_SIZE;
    return SPW_FRAME_MESSAGE;
}

void spw_decoder_init(spw_decoder *d, uint64_t limit, const spw_allocator *alloc)
{
    *d = (spw_decoder){0};
    d->alloc = spw_allocator_or_default(alloc);
    d->limit = limit;
    d->state = SPW_DEC_LENGTH;
}

void spw_decoder_set_limit(spw_decoder *d, uint64_t limit)
{
    d->limit = limit;
}

static void drop_body(spw_decoder *d)
{
    if (d->body)
        d->alloc->free(d->alloc->ctx, d->body, d->body_cap);
    d->body = 0;
    d->body_cap = 0;
    d->body_have = 0;
    d->body_len = 0;
}

static int fail(spw_decoder *d, int err)
{
    drop_body(d);
    d->state = SPW_DEC_FAILED;
    d->error = err;
    return err;
}

/* Make room for `need` body bytes. The capacity at most doubles per step and
 * never passes the announced length, so what is held stays within twice what
 * was received (after the first chunk) and ends exactly at body_len: the
 * finished message needs no shrinking and its size is its allocation size. */
static int reserve(spw_decoder *d, size_t need)
{
    if (need <= d->body_cap)
        return SPW_OK;
    size_t cap;
    if (d->body_cap == 0)
        cap = SPW_DECODER_FIRST_CHUNK;
    else
        cap = d->body_cap > SIZE_MAX / 2 ? SIZE_MAX : d->body_cap * 2;
    if (cap < need)
        cap = need;
    if (cap > d->body_len)
        cap = d->body_len;
    void *p = d->alloc->realloc(d->alloc->ctx, d->body, d->body_cap, cap);
    if (!p)
        return SPW_ENOMEM;
    d->body = p;
    d->body_cap = cap;
    return SPW_OK;
}

static int deliver(spw_decoder *d, spw_msg *msg)
{
    msg->data = d->body;
    msg->len = d->body_len;
    d->body = 0;
    d->body_cap = 0;
    d->body_have = 0;
    d->body_len = 0;
    d->state = SPW_DEC_LENGTH;
    return SPW_FRAME_MESSAGE;
}

/* Take body bytes from buf[0..len); *n gets how many. */
static int feed_body(spw_decoder *d, const uint8_t *buf, size_t len, size_t *n, spw_msg *msg)
{
    size_t take = d->body_len - d->body_have;
    if (take > len)
        take = len;
    *n = 0;
    if (take == 0)
        return SPW_FRAME_NEED_MORE;
    int rc = reserve(d, d->body_have + take);
    if (rc != SPW_OK)
        return fail(d, rc);
    memcpy(d->body + d->body_have, buf, take);
    d->body_have += take;
    *n = take;
    return d->body_have == d->body_len ? deliver(d, msg) : SPW_FRAME_NEED_MORE;
}

/* A length has arrived (rest: the bytes after it in this feed). Judge it
 * before anything is allocated; when the whole body is already here,
 * allocate exactly that and deliver at once (the common case for small
 * messages), else start collecting. *n gets the body bytes taken. */
static int start_frame(spw_decoder *d, uint64_t announced, const uint8_t *rest, size_t rest_len,
                       size_t *n, spw_msg *msg)
{
    *n = 0;
    int rc = spw_frame_check_length(announced, d->limit);
    if (rc != SPW_OK)
        return fail(d, rc);
    if (announced == 0)
        return SPW_FRAME_MESSAGE; /* msg is already {NULL, 0} */
    size_t body = (size_t)announced;
    if (rest_len >= body) {
        uint8_t *p = d->alloc->realloc(d->alloc->ctx, 0, 0, body);
        if (!p)
            return fail(d, SPW_ENOMEM);
        memcpy(p, rest, body);
        msg->data = p;
        msg->len = body;
        *n = body;
        return SPW_FRAME_MESSAGE;
    }
    d->body_len = body;
    d->body_have = 0;
    d->state = SPW_DEC_BODY;
    return feed_body(d, rest, rest_len, n, msg);
}

/* Take length bytes; on the eighth, start the frame. */
static int feed_length(spw_decoder *d, const uint8_t *buf, size_t len, size_t *n, spw_msg *msg)
{
    size_t take = (size_t)(SPW_FRAME_HEADER_SIZE - d->len_have);
    if (take > len)
        take = len;
    if (take)
        memcpy(d->len_buf + d->len_have, buf, take);
    d->len_have = (uint8_t)(d->len_have + take);
    *n = take;
    if (d->len_have < SPW_FRAME_HEADER_SIZE)
        return SPW_FRAME_NEED_MORE;
    d->len_have = 0;
    size_t more;
    int rc = start_frame(d, load_be64(d->len_buf), buf + take, len - take, &more, msg);
    *n += more;
    return rc;
}

int spw_decoder_feed(spw_decoder *d, const uint8_t *buf, size_t len, size_t *consumed,
                     spw_msg *msg)
{
    msg->data = 0;
    msg->len = 0;
    *consumed = 0;
    switch ((enum spw_decoder_state)d->state) {
    case SPW_DEC_LENGTH:
        if (d->len_have == 0 && len >= SPW_FRAME_HEADER_SIZE) {
            /* Whole length in buf: judge it in place, no staging copy. */
            size_t more;
            int rc = start_frame(d, load_be64(buf), buf + SPW_FRAME_HEADER_SIZE,
                                 len - SPW_FRAME_HEADER_SIZE, &more, msg);
            *consumed = SPW_FRAME_HEADER_SIZE + more;
            return rc;
        }
        return feed_length(d, buf, len, consumed, msg);
    case SPW_DEC_BODY:
        return feed_body(d, buf, len, consumed, msg);
    case SPW_DEC_FAILED:
        break;
    }
    return d->error;
}

int spw_decoder_body_space(spw_decoder *d, uint8_t **ptr, size_t *len)
{
    *ptr = 0;
    *len = 0;
    if (d->state == SPW_DEC_FAILED)
        return d->error;
    if (d->state != SPW_DEC_BODY)
        return SPW_OK;
    /* Grow only when full, and then by the doubling of reserve, so what is
     * held stays within twice what arrived. */
    if (d->body_cap == d->body_have) {
        size_t want = d->body_len - d->body_have;
        size_t step = d->body_have > SPW_DECODER_FIRST_CHUNK ? d->body_have
                                                             : SPW_DECODER_FIRST_CHUNK;
        int rc = reserve(d, d->body_have + (want < step ? want : step));
        if (rc != SPW_OK)
            return fail(d, rc);
    }
    *ptr = d->body + d->body_have;
    *len = d->body_cap - d->body_have;
    return SPW_OK;
}

int spw_decoder_body_commit(spw_decoder *d, size_t n, spw_msg *msg)
{
    msg->data = 0;
    msg->len = 0;
    if (d->state == SPW_DEC_FAILED)
        return d->error;
    if (d->state != SPW_DEC_BODY || n > d->body_cap - d->body_have)
        return fail(d, SPW_EINVAL);
    d->body_have += n;
    return d->body_have == d->body_len ? deliver(d, msg) : SPW_FRAME_NEED_MORE;
}

int spw_decoder_idle(const spw_decoder *d)
{
    return d->state == SPW_DEC_LENGTH && d->len_have == 0;
}

size_t spw_decoder_body_remaining(const spw_decoder *d)
{
    return d->state == SPW_DEC_BODY ? d->body_len - d->body_have : 0;
}

void spw_decoder_reset(spw_decoder *d)
{
    drop_body(d);
    d->len_have = 0;
    d->error = 0;
    d->state = SPW_DEC_LENGTH;
}

void spw_decoder_fini(spw_decoder *d)
{
    drop_body(d);
    d->len_have = 0;
    d->state = SPW_DEC_LENGTH;
    d->error = 0;
}
