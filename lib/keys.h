/*
 * keys.h — the vocabulary of every mapping Tessera reads: rule files,
 * orders and rule tests.  Each reader keeps, next to its code, one key set
 * per kind of mapping it reads (a discount, an order line, a test case):
 * per key the shape of its value, its range, its default, an example and a
 * one-line description.
 *
 * The readers refuse every key their set does not list, and lib/schema.c
 * turns the same sets into the JSON Schemas `tessera schema` prints; the
 * key tables of docs/reference are generated from those schemas
 * (tests/docs/reference.py).  So the loader, the editor schema and the
 * reference cannot disagree about which keys exist: a new key is added to
 * its set, with its description, and nowhere else.
 *
 * The shape is what the schema and the reference say about a value; the
 * readers still check values themselves, with their own messages.
 */
#ifndef TSR_KEYS_H
#define TSR_KEYS_H

#include "yaml_tree.h"

typedef enum tsr_kshape {
    /* scalars */
    TSR_KS_TEXT,            /* any scalar, read as text: ids, labels, messages */
    TSR_KS_STRING,          /* a string and nothing else (orders) */
    TSR_KS_INT,             /* a whole number in [min, max] */
    TSR_KS_BOOL,
    TSR_KS_DECIMAL,         /* a constant number in [min, max] (scale 10^6) */
    TSR_KS_MONEY,           /* a constant amount of the currency, >= min (minor units) */
    TSR_KS_ENUM,            /* one of values[0..nvalues) */
    TSR_KS_DATE,
    TSR_KS_DATETIME,
    TSR_KS_CURRENCY,        /* an ISO 4217 code */
    TSR_KS_HOURS,           /* "HH:MM-HH:MM" */
    /* expressions (text in the schema) */
    TSR_KS_CONDITION,       /* bool, once per order */
    TSR_KS_LINE_CONDITION,  /* bool, per line (`item` in scope) */
    TSR_KS_AMOUNT,          /* money, once per order */
    TSR_KS_LINE_AMOUNT,     /* money, per line */
    TSR_KS_PERCENT,         /* decimal 0-100, once per order */
    /* lists */
    TSR_KS_TEXT_LIST,       /* a list of texts */
    TSR_KS_STRING_LIST,     /* a list of strings (orders) */
    TSR_KS_WEEKDAYS,        /* a list of days 1-7 */
    /* mappings */
    TSR_KS_MAP,             /* a mapping of the keys of `sub` */
    TSR_KS_LIST,            /* a list of such mappings */
    TSR_KS_MAP_OF,          /* a mapping of ids (line ids, codes) to such mappings */
    TSR_KS_TABLES,          /* rule file `tables` */
    TSR_KS_SEGMENTS,        /* rule file `segments`: name -> condition */
    TSR_KS_FIELDS,          /* `schema.item` and the like: field -> type name */
    TSR_KS_COUNTS,          /* promo id -> a count >= 0 (orders) */
    TSR_KS_ORDER,           /* an order (rule tests) */
    TSR_KS_PROMO_STATUSES,  /* code -> accepted | rejected[/REASON] (rule tests) */
    TSR_KS_RULE_NAMES,      /* a list of SECTION.ID (rule tests) */
    TSR_KS_LINE_DISCOUNTS,  /* discount id -> amount, or a list of ids (rule tests) */
    TSR_KS_LINE_TAX,        /* an amount, ~, or a mapping of `sub` (rule tests) */
    TSR_KS_AMOUNTS          /* id -> amount (rule tests) */
} tsr_kshape;

/* Flags of a key. */
enum {
    TSR_KF_REQUIRED = 1u << 0,   /* the mapping must have it */
    TSR_KF_MAIN = 1u << 1,       /* rule file header: the main file only */
    TSR_KF_NULL = 1u << 2,       /* ~ is a value (rule tests: "none") */
    TSR_KF_NONEMPTY = 1u << 3    /* a list with at least one element */
};

/* Ids of the rule set a value names: a schema made for a rule set offers
 * them (completion) and refuses others. */
enum {
    TSR_KI_NONE,
    TSR_KI_CATEGORY,             /* a category id */
    TSR_KI_SEGMENT,              /* a segment name */
    TSR_KI_TIER,                 /* a tier id */
    TSR_KI_OFFER,                /* an offer id */
    TSR_KI_DISCOUNT,             /* a discount id */
    TSR_KI_EARN,                 /* an earn rule id */
    TSR_KI_TAX                   /* a tax rate id */
};

typedef struct tsr_keyset tsr_keyset;

typedef struct tsr_key {
    const char *name;
    uint8_t shape;               /* tsr_kshape */
    uint8_t flags;               /* TSR_KF_* */
    uint8_t ids;                 /* TSR_KI_*: the values name ids of the rule set */
    uint8_t nvalues;             /* TSR_KS_ENUM */
    uint16_t tag;                /* for the reader that owns the set */
    int64_t min, max;            /* TSR_KS_INT, _DECIMAL, _MONEY (max unused for money) */
    const char *const *values;   /* TSR_KS_ENUM */
    const tsr_keyset *sub;       /* TSR_KS_MAP, _LIST, _MAP_OF */
    const char *dflt;            /* the default as YAML text; NULL: none */
    const char *example;         /* an example value as YAML text (JSON for mappings) */
    const char *desc;            /* one line, for editors and the reference */
} tsr_key;

struct tsr_keyset {
    const char *name;            /* its name in the schemas and the reference */
    const char *desc;            /* one line: what such a mapping is */
    const tsr_key *keys;
    size_t n;
};

#define TSR_KEYSET(var, nm, description, keyarray) \
    const tsr_keyset var = { nm, description, keyarray, TSR_ARRAY_LEN(keyarray) }

/* Initialisers for the fields of a tsr_key. */
#define TSR_K_RANGE(lo, hi) .min = (lo), .max = (hi)
#define TSR_K_AT_LEAST(lo) .min = (lo), .max = INT64_MAX
#define TSR_K_ENUM(arr) .values = (arr), .nvalues = (uint8_t)TSR_ARRAY_LEN(arr)

/* The key sets, each defined by the file that reads such mappings. */
extern const tsr_keyset tsr__keys_rules;        /* rules_load.c: a rule file's top level */
extern const tsr_keyset tsr__keys_valid;        /* rules_validity.c: `valid:` */
extern const tsr_keyset tsr__keys_order;        /* order_keys.c: an order */
extern const tsr_keyset tsr__keys_customer;
extern const tsr_keyset tsr__keys_item;
extern const tsr_keyset tsr__keys_points_lot;
extern const tsr_keyset tsr__keys_test;         /* ruletest.c: a rule-test file */
extern const tsr_keyset tsr__keys_refund_case;  /* refund_case.c: a case's `refund:` */
extern const tsr_keyset tsr__keys_refund_expect;

/* Type names a schema field may be declared with (rules_load.c). */
extern const char *const *const tsr__field_type_names;
extern const size_t tsr__nfield_type_names;

/* The key named s[0..len), or NULL. */
const tsr_key *tsr__key_find(const tsr_keyset *ks, const char *s, size_t len);

/* The first key node of mapping `map` that `ks` does not list, or NULL. */
const tsr_ynode *tsr__keys_unknown(const tsr_keyset *ks, const tsr_ynode *map);

/* The key of `ks` closest to s[0..len) for a did-you-mean, or NULL. */
const char *tsr__keys_closest(const tsr_keyset *ks, const char *s, size_t len);

/* Refuse the first key of `map` that `ks` does not list, at the key:
 * "unknown key `k` in WHERE; did you mean `x`?" (TSR_ESCHEMA). */
int tsr__keys_check(const tsr_keyset *ks, const tsr_ynode *map, const char *file,
                    const char *where, tsr_error *err);

#endif /* TSR_KEYS_H */
