/*
 * order.h — an order in memory (SPEC §5): the records the expressions read
 * (order, customer, lines as tsr_value arrays by slot), plus the built-in
 * parts no expression reads directly (promo uses, points lots).
 *
 * Filled by the builder API (order_build.c) or the JSON/YAML readers
 * (order_json.c, order_yaml.c); validated by tsr__order_finish before
 * evaluation.  Everything lives in the order's arena, so reset is cheap.
 *
 * Both readers drive one event reader (tsr_oreader, order_read.c): map and
 * array starts and ends, keys and typed scalars.  It checks every value
 * against the built-in fields and the rule set's schema as it arrives and
 * keeps the JSON path of the current position for errors, so JSON and
 * YAML orders obey the same rules and fail at the same paths
 * (`items[2].height_cm`).
 *
 * The files of an order, each leaning only on those before it:
 *   idmap.c        the hash set of line ids and promo ids
 *   order.c        lifetime, built-in fields, the rules every value passes,
 *                  required fields and unique line ids (tsr__order_finish)
 *   order_keys.c   the keys of an order's objects and their index per record
 *   order_read.c   the event reader
 *   order_json.c, order_yaml.c   JSON and YAML text into events (the JSON
 *                  reader with a fast path of its own for common values)
 *   order_build.c  the public API: builder, tsr_order_parse (JSON or YAML)
 */
#ifndef TSR_ORDER_H
#define TSR_ORDER_H

#include "idmap.h"
#include "rules.h"

typedef struct tsr_promo_use {
    const char *id;            /* promo code id as the caller wrote it (NUL-terminated) */
    size_t id_len;
    int64_t uses;              /* order.promo_uses[id], -1 when absent */
    int64_t total_uses;        /* order.promo_total_uses[id], -1 when absent */
    uint8_t seen;              /* readers: 1 = named in promo_uses, 2 = in promo_total_uses
                                  (a key named twice in one object is an error) */
} tsr_promo_use;

typedef struct tsr_points_lot {
    const char *id;            /* NUL-terminated; never NULL in a finished order */
    int64_t points;            /* >= 0 in a finished order */
    bool has_expires;
    int64_t expires_on;        /* date: first day the points can no longer be used */
} tsr_points_lot;

typedef struct tsr_promo_entry {
    const char *code;          /* as given (NUL-terminated) */
    size_t len;
} tsr_promo_entry;

/* The bucket line id s[0..n) falls in, of the line-id set as the last
 * tsr__order_finish of `o` keyed and sized it (for tests of the hashing;
 * SIZE_MAX when the set was not used: orders of up to 16 lines compare
 * their ids directly). */
size_t tsr__order_line_id_bucket(const tsr_order *o, const char *s, size_t n);

/* The guesses of the next key the JSON reader keeps per record. */
#define TSR_ORDER_KEY_GUESSES 33

/* A guessed key and the 16 bytes its name and closing quote make in the
 * text: those under the masks m equal w (none yet: k NULL, m zero, w[0]
 * 1, which no text matches); and where the guess of the key after k is
 * kept, in the same row. */
typedef struct tsr_okey_guess {
    const tsr_okey_slot *k;
    uint64_t w[2], m[2];
    struct tsr_okey_guess *after;
} tsr_okey_guess;

struct tsr_order {
    const tsr_ruleset *rs;
    tsr_alloc alloc;
    tsr_arena arena;           /* strings, lists, promo ids: everything reset forgets */
    tsr_arena scratch;         /* the YAML reader's tree, reset after each read */

    tsr_value *order;          /* rs->records[ORDER].len values */
    tsr_value *customer;       /* rs->records[CUSTOMER].len values */
    bool has_customer;

    tsr_value *lines;          /* nlines * stride values */
    size_t stride;             /* rs->records[ITEM].len */
    size_t nlines, lines_cap;

    tsr_promo_entry *promo_codes;
    size_t npromo_codes, promo_codes_cap;
    tsr_value *promo_values;   /* the same codes as string values: the list that the
                                  order record's TSR_ORDER_PROMO_CODES slot points at */
    size_t promo_values_cap;
    tsr_promo_use *promo_uses;
    size_t npromo_uses, promo_uses_cap;
    bool has_redeem;
    int64_t redeem_points;
    tsr_points_lot *lots;
    size_t nlots, lots_cap;
    bool has_lots;

    bool has_items;            /* `items` was given, even empty */
    bool finished;             /* tsr__order_finish passed and nothing changed since */

    /* Readers: which keys the object being read has had, per record, so a
     * duplicate key is refused (index: slot, or record length + special):
     * those whose byte is the record's seen_gen, which each object of the
     * record bumps (tsr__order_seen_begin), so that starting one clears
     * nothing but once in 255 times. */
    uint8_t *seen[TSR_REC__COUNT];
    size_t seen_len[TSR_REC__COUNT];
    uint8_t seen_gen[TSR_REC__COUNT];
    tsr_idmap promo_map;       /* promo_uses entries by id (lives as long as they do) */
    tsr_idmap line_map;        /* line ids, rebuilt by each finish */
    /* The JSON reader's guesses, kept from order to order: per record, the
     * key that last came first in its object ([0]) or after the key whose
     * seen_at is i - 1 ([i]); it is checked before it is taken
     * (order_json.c). */
    tsr_okey_guess key_next[TSR_REC__COUNT][TSR_ORDER_KEY_GUESSES];
};

/* Set up an order for a rule set (used by the public builder, the readers
 * and by callers that keep an order inside another object).  TSR_ENOMEM on
 * failure, after which tsr__order_fini is still safe. */
int tsr__order_init(tsr_order *o, const tsr_ruleset *rs);
/* Forget the contents, keep the memory: a reused order allocates nothing
 * in steady state. */
void tsr__order_clear(tsr_order *o);
/* Release everything tsr__order_init acquired (not `o` itself). */
void tsr__order_fini(tsr_order *o);

/* Check what the builder or a reader could not check field by field:
 * required fields (order datetime, at least one line, line id and kind,
 * lot id and points), unique line ids, and mark the order finished.
 * TSR_EORDER with the JSON path on failure; the order is left as it was
 * (a builder's caller may fix it).  The readers' callers finish; so does
 * tsr_order_parse. */
int tsr__order_finish(tsr_order *o, tsr_error *err);

/* A new object of record rec begins: no key of it seen yet. */
static inline void tsr__order_seen_begin(tsr_order *o, tsr_record_kind rec)
{
    if (++o->seen_gen[rec] == 0) {   /* wrapped: clear the bytes once */
        memset(o->seen[rec], 0, o->seen_len[rec]);
        o->seen_gen[rec] = 1;
    }
}

/* For the evaluator: TSR_OK at once when the order was finished and not
 * changed since, else the same checks as tsr__order_finish made on the
 * const order, which is not written to (temporary memory comes from its
 * allocator), so threads may share one order that nobody finished. */
int tsr__order_ready(const tsr_order *o, tsr_error *err);

/* Read JSON / YAML text into a cleared order (tsr__order_finish not
 * included).  On error the order is cleared again: nothing is half read.
 * JSON is read by order_json.c's own single-pass reader, YAML through the
 * YAML tree (order_yaml.c); both drive the event reader below. */
int tsr__order_read_json(tsr_order *o, const char *text, size_t len, tsr_error *err);
int tsr__order_read_yaml(tsr_order *o, const char *text, size_t len, tsr_error *err);
/* Read an order from a YAML node parsed elsewhere (a rule test's `order:`);
 * the node must outlive the call only.  Not finished; cleared on error. */
int tsr__order_read_ynode(tsr_order *o, const tsr_ynode *root, tsr_error *err);

/* Clear, read JSON (text starting with '{' after white space) or YAML,
 * finish.  What tsr_order_parse does; on error the order is left cleared
 * (order_build.c). */
int tsr__order_parse_text(tsr_order *o, const char *text, size_t len, tsr_error *err);

/* ---------------------------------------------------------------------
 * Shared checks, for the builder and the readers.  Errors are reported
 * without a path; the caller, who knows where it is, adds it.
 */

/* The input field with handle `slot` of a record (built-in input fields
 * and schema fields), or NULL: no such field, or a computed one (item
 * subtotal and total are the evaluator's). */
const tsr_field *tsr__order_input_field(const tsr_ruleset *rs, tsr_record_kind rec, size_t slot);

/* A scalar as a reader met it. */
typedef enum tsr_otok {
    TSR_OT_NULL,     /* JSON null, YAML ~ / null / empty plain */
    TSR_OT_FALSE,
    TSR_OT_TRUE,
    TSR_OT_NUMBER,   /* the number's text, as written */
    TSR_OT_STRING
} tsr_otok;

/* Convert a scalar to a value of `type` (a field type, or a list's element
 * type).  Strings are not copied: out->u.s points at s.  Refuses wrong JSON
 * types, exponents, int64 overflow, money more precise than the currency.
 * `yaml`: the scalar was YAML (a refusal may then hint at quoting). */
int tsr__order_convert(const tsr_order *o, uint8_t type, tsr_otok tok, const char *s, size_t n,
                       bool yaml, tsr_value *out, tsr_error *err);

/* A string the order may hold: length limit (TSR_ELIMIT), valid UTF-8,
 * no NUL character. */
int tsr__order_check_string(const tsr_order *o, const char *s, size_t n, tsr_error *err);

/* Store a value in a field: strings are checked and copied into the arena,
 * built-in rules applied (quantity >= 1, price >= 0, points >= 0, category
 * of the rule set).  `line` is used for TSR_REC_ITEM only. */
int tsr__order_store(tsr_order *o, tsr_record_kind rec, size_t line, const tsr_field *f,
                     const tsr_value *v, tsr_error *err);

/* Append an element (checked and copied when a string) to a list value
 * that is empty or was built by this function (its storage is in the
 * order's arena, behind a note that keeps it writable). */
int tsr__order_list_append(tsr_order *o, tsr_value *list, const tsr_value *elem, tsr_error *err);
/* The same for an element whose string (if any) the order owns already:
 * valid UTF-8 without NUL, NUL-terminated, in its arena (kept, not copied). */
int tsr__order_list_append_owned(tsr_order *o, tsr_value *list, const tsr_value *elem,
                                 tsr_error *err);

/* Append an empty line (all fields missing); TSR_ELIMIT past max_order_lines. */
int tsr__order_new_line(tsr_order *o, size_t *line, tsr_error *err);
/* Append a promo code (copied); TSR_ELIMIT past max_promo_codes. */
int tsr__order_add_promo(tsr_order *o, const char *code, size_t len, tsr_error *err);
/* The same for a code the order owns already (as tsr__order_list_append_owned). */
int tsr__order_add_promo_owned(tsr_order *o, const char *code, size_t len, tsr_error *err);
/* The promo_uses entry of a promo id, added when new (*created). */
int tsr__order_promo_use(tsr_order *o, const char *id, size_t len, size_t *index, bool *created,
                         tsr_error *err);
/* Append a points lot with no id and points -1 (both required by finish). */
int tsr__order_new_lot(tsr_order *o, size_t *index, tsr_error *err);

/* The JSON path of a field: "datetime", "customer.visits", "items[2].height_cm". */
void tsr__order_field_path(char *buf, size_t size, tsr_record_kind rec, size_t line,
                           const char *name);

/* ---------------------------------------------------------------------
 * The event reader.  Each call returns TSR_OK or the error (err filled,
 * path included); after an error every call returns it again.
 */
#define TSR_OREAD_DEPTH 8   /* the order's shape nests 4 deep: order, customer,
                               points_lots, a lot */

/* Frame kinds.  The maps of the three records come first, numbered as the
 * records are (TSR_REC_*): for them the kind is the record. */
enum { TSR_OF_ORDER, TSR_OF_CUSTOMER, TSR_OF_ITEM, TSR_OF_LOT, TSR_OF_PROMO_MAP, TSR_OF_ITEMS,
       TSR_OF_PROMO_CODES, TSR_OF_LOTS, TSR_OF_LIST };
_Static_assert(TSR_OF_ORDER == (int)TSR_REC_ORDER && TSR_OF_CUSTOMER == (int)TSR_REC_CUSTOMER &&
               TSR_OF_ITEM == (int)TSR_REC_ITEM, "record frames are numbered as records");

typedef struct tsr_oframe {
    uint8_t kind;              /* what this container is (TSR_OF_*) */
    uint8_t target;            /* maps: what the current key names */
    uint8_t rec;               /* promo maps: 1 for promo_uses, 2 for promo_total_uses */
    uint8_t lot_seen;          /* a points lot: keys met (bits) */
    const tsr_field *field;    /* maps: the current key's field */
    const tsr_okey_slot *last; /* record maps: the last key noted, or NULL */
    const char *key;           /* maps: the current key, in memory that outlives the event */
    size_t key_len;
    size_t index;              /* arrays: elements begun; item maps: the line; lot maps:
                                  the lot; promo maps: the current entry */
    tsr_value list;            /* lists: the list being built */
} tsr_oframe;

typedef struct tsr_oreader {
    tsr_order *o;
    tsr_error *err;
    int rc;                    /* sticky: the first error */
    bool yaml;                 /* say "mapping"/"sequence" and hint at quoting */
    bool done;                 /* the order object was closed */
    bool owned;                /* the string scalar being passed is the order's already
                                  (tsr__order_list_append_owned): set by the JSON reader */
    unsigned depth;
    tsr_oframe frames[TSR_OREAD_DEPTH];
} tsr_oreader;

void tsr__oread_init(tsr_oreader *r, tsr_order *o, bool yaml, tsr_error *err);
int tsr__oread_scalar(tsr_oreader *r, tsr_otok tok, const char *s, size_t n);
int tsr__oread_start_map(tsr_oreader *r);
/* What tsr__oread_scalar does with a string that is the order's already
 * (as r->owned says), n bytes within the string limit, as an element of
 * promo_codes or of a list of strings, the innermost frame f: without its
 * dispatch (the JSON reader's fast path). */
int tsr__oread_owned_element(tsr_oreader *r, tsr_oframe *f, const char *s, size_t n);
int tsr__oread_key(tsr_oreader *r, const char *key, size_t n);
int tsr__oread_end_map(tsr_oreader *r);
int tsr__oread_start_array(tsr_oreader *r);
int tsr__oread_end_array(tsr_oreader *r);
/* Fail at the position of the value about to be read (for errors the
 * syntax layer finds: bad JSON, a bad escape).  Returns `code`. */
int tsr__oread_fail(tsr_oreader *r, int code, const char *fmt, ...) TSR_PRINTF(3, 4);

/* The key of record map f is index entry k (found by name, met for the
 * first time in this map): note it for duplicates and what its value must be. */
static inline void tsr__oread_note_key(tsr_oframe *f, uint8_t *seen, uint8_t gen,
                                       const tsr_okey_slot *k, size_t n)
{
    seen[k->seen_at] = gen;
    f->last = k;
    f->target = k->target;
    f->field = k->field;
    f->key = k->name;
    f->key_len = n;
}

#endif /* TSR_ORDER_H */
