/*
 * json_sax.h — JSON through yajl's SAX parser with the library's allocator
 * (json_sax.c), for the JSON the library reads with yajl: refund requests
 * (refund_request.c), receipts (receipt.c) and comparison states (diff.c).
 * yajl cannot survive an allocator that returns NULL, so a refused block is
 * taken from malloc instead and the parse reports TSR_ENOMEM at the end.
 */
#ifndef TSR_JSON_SAX_H
#define TSR_JSON_SAX_H

#include "internal.h"

typedef struct tsr_json_parse {
    const tsr_alloc *alloc;
    bool oom;                   /* the caller's allocator refused a block */
    void *handle;               /* the yajl handle while parsing (for offsets) */
} tsr_json_parse;

/* Parse text[0..len) completely, calling `callbacks` (a yajl_callbacks *)
 * with `ctx`.  Returns TSR_OK; TSR_ENOMEM; `cancelled` (pass a value that
 * is no TSR_* code, such as TSR_JSON_CANCELLED) when a callback stopped the
 * parse (the callback recorded why); or TSR_EPARSE with yajl's message and
 * the byte offset in msg. */
#define TSR_JSON_CANCELLED 1
int tsr__json_parse(tsr_json_parse *jp, const void *callbacks, void *ctx, const char *text,
                    size_t len, int cancelled, char *msg, size_t msgsize);
/* During a callback: bytes consumed so far (just past the current token). */
size_t tsr__json_offset(const tsr_json_parse *jp);

#endif /* TSR_JSON_SAX_H */
