/*
 * order_json.c — reads an order from JSON in one pass over the text, with
 * no JSON library in between (docs/decisions/json-library.md).
 *
 * Each token goes to the order's event reader (order_read.c) as soon as it is
 * whole, and the event reader checks it against the built-in fields and
 * the rule set's schema at once.  The common cases take the fast path
 * below instead: a key is resolved where it lies by the record's perfect
 * hash (built at load from the built-in fields and the schema) and checked
 * for a duplicate; its value is then read as its field's type expects it
 * and converted straight from the text (int64, money in minor units,
 * decimals in millionths, dates) into its slot.  Everything else, and
 * every error, goes the generic way, which is also how YAML orders are
 * read.
 *
 * In the same pass:
 *   - strings are referenced in place: the order gets one copy of the text
 *     (its arena must hold what it keeps, as the caller may free the text
 *     once the call returns), and a string value is kept where it lies in
 *     that copy, its closing quote overwritten by a NUL; only a string with
 *     escapes is decoded, in place too (it never grows);
 *   - the UTF-8 of an unescaped string is validated while it is scanned,
 *     so a clean string is stored without a second look (a string with
 *     bad UTF-8 is refused by the event reader when it would be stored,
 *     with the message it always had);
 *   - a \u escape of a lone UTF-16 surrogate is found while decoding;
 *   - numbers stay text until the event reader converts them: nothing
 *     passes through floating point, exponents are refused there.
 *
 * The syntax is checked exactly as yajl 2 checked it, down to its messages
 * and the byte offsets it gave them ("invalid JSON near byte 41: parse
 * error: premature EOF"): orders were read with yajl until this reader
 * replaced it, the messages are part of the library's contract, and yajl
 * remains the oracle the tests hold this reader to
 * (tests/fuzz/oracle_json_yajl.c, tests/fuzz/fuzz_order_diff.c).  The
 * grammar below answers every token as yajl's parser did in the same
 * state.  yajl read the text in one call and then one space
 * (yajl_complete_parse), and an error it found only on that space was
 * reported at the text's length; so the lexer reads the text as if one
 * space followed it, and notes when it reads that space.
 */
#include "order_impl.h"

/* Tokens. */
enum {
    T_EOF,        /* the text (and the space after it) ended inside a token */
    T_ERROR,      /* a lexical error: j->lexerr says which */
    T_LBRACE, T_RBRACE, T_LBRACK, T_RBRACK, T_COLON, T_COMMA,
    T_STRING, T_NUMBER, T_TRUE, T_FALSE, T_NULL
};

/* yajl's lexical errors, worded as it worded them (without its final '.'). */
enum { LEX_CHAR, LEX_LITERAL, LEX_ESCAPE, LEX_STRING_CHAR, LEX_HEX, LEX_MINUS, LEX_DECIMAL,
       LEX_EXPONENT, LEX_COMMENT };
static const char *const lex_messages[] = {
    "invalid char in json text",
    "invalid string in json text",
    "inside a string, '\\' occurs before a character which it may not",
    "invalid character inside string",
    "invalid (non-hex) character occurs after '\\u' inside string",
    "malformed number, a digit is required after the minus sign",
    "malformed number, a digit is required after the decimal point",
    "malformed number, a digit is required after the exponent",
    "probable comment found in input text, comments are not enabled",
};

/* Bytes after the order's copy of the text that may be read. */
#define KEY_PAD 16

typedef struct jreader {
    tsr_oreader r;
    tsr_order *o;
    const unsigned char *t;
    size_t len;
    size_t off;          /* the next byte; len is the space after the text */
    bool past_end;       /* that space was read: an error now is at byte len */
    char *copy;          /* the order's copy of the text, in its arena, with 1 + KEY_PAD
                            zero bytes after it */
    int lexerr;          /* LEX_*, after T_ERROR */
    /* The last token. */
    size_t start;        /* its first byte */
    size_t toklen;       /* its length as yajl counted it (a string's without quotes) */
    const char *s;       /* strings: the contents (decoded when escaped); numbers: the text */
    size_t n;
    bool escaped;        /* strings: has escapes (s is raw until decoded) */
    bool clean;          /* strings: no escapes, valid UTF-8 (so no NUL either) */
    bool is_int;         /* numbers: [-]digits, at most 18 of them: ival is the value */
    int64_t ival;
    /* The key at off, as match_key would find it, when record_pairs found
     * it and stopped there (a record, a list, a repeat, a value to read
     * the general way); NULL otherwise. */
    const tsr_okey_slot *pending;
    size_t pending_len;
    int pairs_rc;        /* record_pairs' RP_ERR: the error of what it read */
} jreader;

/* Bytes that go on a string unremarked: printable ASCII but '"' and '\\'. */
static const unsigned char plain[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x00 */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,   /* 0x10 */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x20: '"' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x30 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x40 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,   /* 0x50: '\\' */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x60 */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,   /* 0x70 */
    /* 0x80 - 0xFF: 0, looked at as UTF-8 */
};

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* ---------------------------------------------------------------------
 * The lexer: yajl_lex.c's, over the text and the one space after it.
 */

/* The next character; -1, without moving, past the space after the text. */
static int next(jreader *j)
{
    if (j->off < j->len)
        return j->t[j->off++];
    if (j->off == j->len) {
        j->off++;
        j->past_end = true;
        return ' ';
    }
    return -1;
}

static int lex_fail(jreader *j, int what)
{
    j->lexerr = what;
    return T_ERROR;
}

static int lex_literal(jreader *j, const char *rest, int tok)
{
    for (; *rest; rest++) {
        int c = next(j);
        if (c < 0)
            return T_EOF;
        if (c != *rest) {
            j->off--;   /* yajl points at the byte that differs */
            return lex_fail(j, LEX_LITERAL);
        }
    }
    j->toklen = j->off - j->start;
    return tok;
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORDWISE 1
/* Eight bytes of a string at once: the high bit of each byte that is not
 * plain ('"', '\\', below 0x20, from 0x80 on), by the usual has-zero-byte
 * tricks.  Bits above the lowest may be false alarms; the lowest is
 * exact, and its byte (ctz / 8) is the first that is not plain. */
static uint64_t stops(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((x - ones * 0x20) & ~x) | x) &
           0x8080808080808080u;
}
#endif

/* The index of the first byte from i on that is not plain (or len). */
static size_t skip_plain(const unsigned char *t, size_t i, size_t len)
{
#ifdef WORDWISE
    while (i + 8 <= len) {
        uint64_t x, m;
        memcpy(&x, t + i, 8);
        if ((m = stops(x)) != 0)
            return i + (size_t)__builtin_ctzll(m) / 8;
        i += 8;
    }
#endif
    while (i < len && plain[t[i]])
        i++;
    return i;
}

/* j->off: just past the opening quote.  Plain ASCII is skipped eight
 * bytes at a time; the rest is looked at byte by byte. */
static int lex_string(jreader *j)
{
    const unsigned char *t = j->t;
    size_t len = j->len, i = j->off, k;
    bool escaped = false, clean = true;
    int c;

    for (;;) {
        i = skip_plain(t, i, len);
        if (i >= len)
            break;
        c = t[i];
        if (c == '"') {
            j->off = i + 1;
            j->s = (const char *)t + j->start + 1;
            j->n = i - j->start - 1;
            j->toklen = j->n;
            j->escaped = escaped;
            j->clean = clean && !escaped;
            return T_STRING;
        }
        if (c == '\\') {
            escaped = true;
            if (i + 1 >= len) {        /* the escaped character is the space after the text */
                j->off = j->len;
                j->past_end = true;
                return lex_fail(j, LEX_ESCAPE);
            }
            c = t[i + 1];
            if (c == 'u') {
                for (k = i + 2; k < i + 6; k++) {
                    if (k >= len) {    /* so is this hex digit */
                        j->off = j->len;
                        j->past_end = true;
                        return lex_fail(j, LEX_HEX);
                    }
                    if (hex_digit(t[k]) < 0) {
                        j->off = k;
                        return lex_fail(j, LEX_HEX);
                    }
                }
                i += 6;
            } else if (c == '"' || c == '\\' || c == '/' || c == 'b' || c == 'f' || c == 'n' ||
                       c == 'r' || c == 't') {
                i += 2;
            } else {
                j->off = i + 1;
                return lex_fail(j, LEX_ESCAPE);
            }
            continue;
        }
        if (c < 0x20) {
            j->off = i;
            return lex_fail(j, LEX_STRING_CHAR);
        }
        /* 0x80 and up: yajl took any byte (its check of the UTF-8 was
         * off); the event reader refuses bad UTF-8 where it keeps a
         * string, so here it is only noted. */
        k = tsr__utf8_char(t + i, len - i);
        if (k) {
            i += k;
        } else {
            clean = false;
            i++;
        }
    }
    /* The text ended inside the string: the space after it is one more
     * character of it, then nothing. */
    j->off = j->len + 1;
    j->past_end = true;
    return T_EOF;
}

/* j->off: the '-' or first digit.  An integer's value is taken on the
 * way (up to 18 digits, which cannot overflow; longer ones are converted,
 * and refused when out of range, by the event reader). */
static int lex_number(jreader *j)
{
    int c = next(j), digits = 0;
    bool neg = c == '-';
    uint64_t v = 0;

    if (neg && (c = next(j)) < 0)
        return T_EOF;
    if (c == '0') {
        digits = 1;
        if ((c = next(j)) < 0)
            return T_EOF;
    } else if (c >= '1' && c <= '9') {
        do {
            v = v * 10u + (unsigned)(c - '0');
            digits++;
            if ((c = next(j)) < 0)
                return T_EOF;
        } while (c >= '0' && c <= '9');
    } else {
        j->off--;
        return lex_fail(j, LEX_MINUS);
    }
    j->is_int = digits <= 18 && c != '.' && c != 'e' && c != 'E';
    if (j->is_int)   /* below 10^18: negated without overflow */
        j->ival = neg ? -(int64_t)v : (int64_t)v;
    if (c == '.') {
        bool fraction = false;
        if ((c = next(j)) < 0)
            return T_EOF;
        while (c >= '0' && c <= '9') {
            fraction = true;
            if ((c = next(j)) < 0)
                return T_EOF;
        }
        if (!fraction) {
            j->off--;
            return lex_fail(j, LEX_DECIMAL);
        }
    }
    if (c == 'e' || c == 'E') {
        if ((c = next(j)) < 0)
            return T_EOF;
        if ((c == '+' || c == '-') && (c = next(j)) < 0)
            return T_EOF;
        if (c < '0' || c > '9') {
            j->off--;
            return lex_fail(j, LEX_EXPONENT);
        }
        do {
            if ((c = next(j)) < 0)
                return T_EOF;
        } while (c >= '0' && c <= '9');
    }
    j->off--;   /* the byte after the number is not part of it */
    j->s = (const char *)j->t + j->start;
    j->n = j->off - j->start;
    j->toklen = j->n;
    return T_NUMBER;
}

static int lex(jreader *j)
{
    int c;

    for (;;) {
        j->start = j->off;
        if ((c = next(j)) < 0)
            return T_EOF;
        j->toklen = 1;
        switch (c) {
        case '{': return T_LBRACE;
        case '}': return T_RBRACE;
        case '[': return T_LBRACK;
        case ']': return T_RBRACK;
        case ':': return T_COLON;
        case ',': return T_COMMA;
        case ' ': case '\t': case '\n': case '\v': case '\f': case '\r':
            continue;
        case '"':
            return lex_string(j);
        case '-': case '0': case '1': case '2': case '3': case '4':
        case '5': case '6': case '7': case '8': case '9':
            j->off--;
            return lex_number(j);
        case 't':
            return lex_literal(j, "rue", T_TRUE);
        case 'f':
            return lex_literal(j, "alse", T_FALSE);
        case 'n':
            return lex_literal(j, "ull", T_NULL);
        case '/':
            j->off--;
            return lex_fail(j, LEX_COMMENT);
        default:
            return lex_fail(j, LEX_CHAR);
        }
    }
}

/* ---------------------------------------------------------------------
 * The fast path.  For the common case -- a key its record knows, met for
 * the first time; a value its field's type takes as it stands -- these do
 * what the event reader's tsr__oread_key and tsr__oread_scalar do, without
 * their generality, here where they are inlined into the grammar.
 * Anything else (another kind of frame, a key unknown or repeated, null, a
 * value of another type, out of range or too long, a category, a string
 * not known to be clean) returns SLOW having changed nothing, and the
 * caller makes the generic call, which decides and words every error.  The
 * differential fuzzer (tests/fuzz/fuzz_order_diff.c) holds this reader to
 * the answers of the former yajl reader, which made only generic calls.
 */
#define SLOW 1
#define HINT_OWNED 1u   /* a string that is valid UTF-8 without NUL, NUL-terminated at s[n],
                           in the order's copy of the text: the order may keep s itself */
#define HINT_INT 2u     /* a number that is [-]digits, whose value (within int64) is ival */

/* The first 8 bytes at p, of which only the first n count (the rest are
 * zeroed): 8 bytes must be readable at p.  Compared with a slot's head,
 * it tells a key from a name without a call to memcmp. */
static inline uint64_t head8(const char *p, size_t n)
{
    uint64_t x;

    memcpy(&x, p, 8);
    if (n >= 8)
        return x;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return n ? x & ~(~(uint64_t)0 >> (8 * n)) : 0;
#else
    return x & (((uint64_t)1 << (8 * n)) - 1);
#endif
}

/* For a map just started: the key index of its record, or NULL when it is
 * not a record's (a points lot, promo uses).  map() matches keys against
 * it where they lie in the text, then takes the one it found with
 * take_key while that map is the innermost open one. */
static const tsr_okey_index *key_index(const tsr_oreader *r)
{
    const tsr_oframe *f = r->depth ? &r->frames[r->depth - 1] : NULL;
    return !r->rc && f && f->kind <= TSR_OF_ITEM ? &r->o->rs->okeys[(tsr_record_kind)f->kind]
                                                 : NULL;
}

/* key_fast for the entry k of the innermost map's index, the key's bytes
 * known to be its name. */
static int take_key(tsr_oreader *r, const tsr_okey_slot *k)
{
    tsr_oframe *f = &r->frames[r->depth - 1];
    uint8_t *seen = r->o->seen[(tsr_record_kind)f->kind];
    uint8_t gen = r->o->seen_gen[(tsr_record_kind)f->kind];

    if (k->len > r->o->rs->limits.max_string_length || seen[k->seen_at] == gen)
        return SLOW;
    tsr__oread_note_key(f, seen, gen, k, k->len);
    return TSR_OK;
}

/* A key, wherever it is: the record's entry when the innermost map is a
 * record's and the key is found in its home slot, unseen.  16 bytes must
 * be readable at key whatever n is (the order's copy is padded). */
static int key_fast(tsr_oreader *r, const char *key, size_t n)
{
    const tsr_okey_index *ix = key_index(r);
    const tsr_okey_slot *k;

    if (!ix || n > r->o->rs->limits.max_string_length)
        return SLOW;
    /* The home slot only: in a perfect index a known key is there (a key
     * that probes, in an index that is not perfect, goes the generic way). */
    k = &ix->slots[tsr__okey_hash(key, n, ix->seed) & ix->mask];
    if (!k->name || k->len != n || head8(key, n) != k->head[0] ||
        (n > 8 && head8(key + 8, n - 8) != k->head[1]) ||
        (n > 16 && memcmp(k->name + 16, key + 16, n - 16) != 0))
        return SLOW;
    return take_key(r, k);
}

/* A value was stored fast in record rec: what settle_owned notes besides
 * (fast_value ran it where a rule applies). */
static inline void note_stored(tsr_order *o, tsr_record_kind rec)
{
    if (rec == TSR_REC_CUSTOMER)
        o->has_customer = true;
    o->finished = false;
}

/* Store v, a value fast_value made for the field of record map f. */
static void put_fast(tsr_order *o, const tsr_oframe *f, const tsr_value *v)
{
    tsr_record_kind rec = (tsr_record_kind)f->kind;

    note_stored(o, rec);
    tsr__order_record(o, rec, f->index)[f->field->slot] = *v;
}

/* The value the scalar makes for the field of record map f, when the field
 * takes it as it stands: false, nothing changed, for anything else.
 * Inlined where it is called, each caller's token kind is then known. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline bool fast_value(tsr_order *o, tsr_record_kind rec, const tsr_field *field,
                              tsr_otok tok, const char *s, size_t n, unsigned hints, int64_t ival,
                              tsr_value *v)
{
    unsigned slot = field->slot;

    if (tok == TSR_OT_STRING && n > o->rs->limits.max_string_length)
        return false;
    switch (field->type) {
    case TSR_T_STRING:
        /* a category must be one of the rule set's: the generic way */
        if (tok != TSR_OT_STRING || !(hints & HINT_OWNED) || n > UINT32_MAX ||
            (rec == TSR_REC_ITEM && slot == TSR_ITEM_CATEGORY))
            return false;
        /* valid, NUL-terminated, in the order's arena already */
        *v = (tsr_value){ .type = TSR_T_STRING, .len = (uint32_t)n, .u.s = s };
        return true;
    case TSR_T_INT:
        *v = (tsr_value){ .type = TSR_T_INT };
        if (tok != TSR_OT_NUMBER)
            return false;
        if (hints & HINT_INT)
            v->u.i = ival;
        else if (tsr__order_int_from_text(s, n, &v->u.i, NULL) != TSR_OK)
            return false;
        /* the built-in rules (quantity >= 1, redeem_points and
         * points_balance >= 0) are for built-in slots only */
        return slot >= tsr__order_builtins[rec].nbuiltin ||
               tsr__order_settle_owned(o, rec, slot, v, NULL) == TSR_OK;
    case TSR_T_DECIMAL:
    case TSR_T_MONEY:
        *v = (tsr_value){ .type = field->type };
        if ((tok != TSR_OT_NUMBER && tok != TSR_OT_STRING) ||
            tsr__parse_fixed(s, n, v->type == TSR_T_MONEY ? o->rs->minor_units : TSR_DEC_DIGITS,
                             &v->u.i) != TSR_OK)
            return false;
        return slot >= tsr__order_builtins[rec].nbuiltin ||   /* price >= 0 */
               tsr__order_settle_owned(o, rec, slot, v, NULL) == TSR_OK;
    case TSR_T_DATE:
        *v = (tsr_value){ .type = TSR_T_DATE };
        return tok == TSR_OT_STRING && tsr__parse_date(s, n, &v->u.i) == TSR_OK;
    case TSR_T_DATETIME:
        *v = (tsr_value){ .type = TSR_T_DATETIME };
        return tok == TSR_OT_STRING && tsr__parse_datetime(s, n, &v->u.i, &v->offset) == TSR_OK;
    case TSR_T_BOOL:
        if (tok != TSR_OT_TRUE && tok != TSR_OT_FALSE)
            return false;
        *v = (tsr_value){ .type = TSR_T_BOOL, .u.i = tok == TSR_OT_TRUE };
        return true;
    default:   /* a list: elements come one by one, the generic way */
        return false;
    }
}

/* A scalar, where a key of a record's map was just taken. */
static int field_fast(tsr_oreader *r, tsr_otok tok, const char *s, size_t n, unsigned hints,
                      int64_t ival)
{
    tsr_oframe *f;
    tsr_value v;

    /* Only a key of a record's map sets TSR_X_FIELD, and a frame pushed since
     * (a list) has none: so the top frame is that map, its key just read. */
    if (r->rc || !r->depth || (f = &r->frames[r->depth - 1])->target != TSR_X_FIELD ||
        !fast_value(r->o, (tsr_record_kind)f->kind, f->field, tok, s, n, hints, ival, &v))
        return SLOW;
    put_fast(r->o, f, &v);
    return TSR_OK;
}

/* ---------------------------------------------------------------------
 * Events.
 */
static int syntax_error(jreader *j, const char *kind, const char *what)
{
    return tsr__oread_fail(&j->r, TSR_EORDER, "invalid JSON near byte %zu: %s error: %s",
                           j->past_end ? j->len : j->off, kind, what);
}

static int parse_error(jreader *j, const char *what)
{
    return syntax_error(j, "parse", what);
}

/* Where the string token's contents lie in the order's copy of the text. */
static char *in_copy(const jreader *j)
{
    return j->copy + (j->s - (const char *)j->t);
}

/* The four hex digits of a \u escape (the lexer checked them). */
static uint32_t hex4(const char *h)
{
    return (uint32_t)(hex_digit(h[0]) << 12 | hex_digit(h[1]) << 8 | hex_digit(h[2]) << 4 |
                      hex_digit(h[3]));
}

/* Decode the escapes of the string token, as yajl did, into the order's
 * copy of the text, where it lies (it never grows: an escape of 2, 6 or 12
 * bytes gives 1 to 4), NUL-terminated.  A \u escape of a lone UTF-16
 * surrogate (a high one not followed by a low one, or a low one alone)
 * refuses the string, where yajl would have made '?' or bytes that are not
 * UTF-8 of it. */
static int decode(jreader *j, const char *what)
{
    const char *s = j->s;
    size_t n = j->n, i = 0, w = 0;
    char *out = in_copy(j);

    while (i < n) {
        uint32_t cp;
        const char *bs = memchr(s + i, '\\', n - i);
        size_t run = bs ? (size_t)(bs - (s + i)) : n - i;   /* up to the next escape */

        memcpy(out + w, s + i, run);
        w += run;
        i += run;
        if (i == n)
            break;
        switch (s[i + 1]) {   /* the lexer let only these through */
        case 'b': out[w++] = '\b'; i += 2; continue;
        case 'f': out[w++] = '\f'; i += 2; continue;
        case 'n': out[w++] = '\n'; i += 2; continue;
        case 'r': out[w++] = '\r'; i += 2; continue;
        case 't': out[w++] = '\t'; i += 2; continue;
        case 'u': break;
        default: out[w++] = s[i + 1]; i += 2; continue;   /* " \ / */
        }
        cp = hex4(s + i + 2);
        i += 6;
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            uint32_t lo = 0;
            if (i + 6 <= n && s[i] == '\\' && s[i + 1] == 'u')
                lo = hex4(s + i + 2);
            if (lo < 0xDC00 || lo > 0xDFFF)
                cp = 0xD800;   /* lone: refused below */
            else {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
        }
        if (cp >= 0xD800 && cp <= 0xDFFF)
            return tsr__oread_fail(&j->r, TSR_EORDER,
                                   "%s has a \\u escape of a lone UTF-16 surrogate", what);
        /* \u0000 too: a NUL, which the event reader refuses */
        w += tsr__utf8_encode(cp, out + w);
    }
    out[w] = '\0';
    j->s = out;
    j->n = w;
    return TSR_OK;
}

static int on_key(jreader *j)
{
    const char *key;
    int rc;

    /* the key as it lies in the order's copy (decoded there when it has
     * escapes), which is padded for the fast path's 8-byte reads */
    if (j->escaped) {
        if ((rc = decode(j, "key")) != TSR_OK)
            return rc;
        key = j->s;
    } else {
        key = in_copy(j);
    }
    rc = key_fast(&j->r, key, j->n);
    return rc == SLOW ? tsr__oread_key(&j->r, key, j->n) : rc;
}

static int on_scalar(jreader *j, int tok)
{
    tsr_otok ot;
    const char *s = NULL;
    size_t n = 0;
    unsigned hints = 0;
    int rc;

    switch (tok) {
    case T_STRING:
        ot = TSR_OT_STRING;
        if (j->escaped) {
            if ((rc = decode(j, "string")) != TSR_OK)
                return rc;
            s = j->s;
        } else {
            /* the same bytes in the order's copy, terminated there */
            char *c = in_copy(j);
            c[j->n] = '\0';
            s = c;
            if (j->clean)
                hints = HINT_OWNED;
        }
        n = j->n;
        break;
    case T_NUMBER:
        ot = TSR_OT_NUMBER;
        s = j->s;
        n = j->n;
        if (j->is_int)
            hints = HINT_INT;
        break;
    case T_TRUE:
        ot = TSR_OT_TRUE;
        break;
    case T_FALSE:
        ot = TSR_OT_FALSE;
        break;
    default:
        ot = TSR_OT_NULL;
        break;
    }
    rc = field_fast(&j->r, ot, s, n, hints, j->ival);
    if (rc != SLOW)
        return rc;
    /* a promo code or a list's string that is the order's already is kept
     * as it is, not checked and copied again */
    j->r.owned = (hints & HINT_OWNED) && n <= UINT32_MAX;
    rc = tsr__oread_scalar(&j->r, ot, s, n);
    j->r.owned = false;
    return rc;
}

/* ---------------------------------------------------------------------
 * The grammar: yajl_parser.c's, by recursive descent.  yajl kept a stack
 * of states; here each state is a place in value(), map() or array(), and
 * each answers a token it does not expect with the message yajl gave in
 * that state (the comments name them).  Recursion is as deep as the
 * order's shape: the event reader refuses any other container at its
 * first bracket, before it is descended into.
 */
static int value(jreader *j, int tok);

/* A token no state takes: the end of the text or a lexical error, or
 * else the state's own complaint. */
static int unexpected(jreader *j, int tok, const char *what)
{
    if (tok == T_EOF)
        return parse_error(j, "premature EOF");
    if (tok == T_ERROR)
        return syntax_error(j, "lexical", lex_messages[j->lexerr]);
    return parse_error(j, what);
}

/* Compact JSON: the punctuation expected next, right there (no white
 * space before it), taken without the lexer. */
static bool take(jreader *j, unsigned char c)
{
    if (j->off < j->len && j->t[j->off] == c) {
        j->off++;
        return true;
    }
    return false;
}

/* The next token where a key is expected. */
static int lex_key(jreader *j)
{
    if (j->off < j->len && j->t[j->off] == '"') {
        j->start = j->off++;
        return lex_string(j);
    }
    return lex(j);
}

#ifdef WORDWISE
/* The index of the first byte from p on that is not plain (stops), in the
 * order's copy of the text: its zeroed padding stops the scan at the end of
 * the text at the latest, and the 8-byte reads stay inside the padding. */
static inline size_t plain_at(const char *p)
{
    size_t i = 0;
    uint64_t x, m;

    for (;;) {
        memcpy(&x, p + i, 8);
        if ((m = stops(x)) != 0)
            return i + (size_t)__builtin_ctzll(m) / 8;
        i += 8;
    }
}

/* The index of the first '"' or NUL from p on, in the order's copy of the
 * text (as plain_at). */
static inline size_t quote_at(const char *p)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    size_t i = 0;
    uint64_t x, q, m;

    for (;;) {
        memcpy(&x, p + i, 8);
        q = x ^ (ones * '"');
        if ((m = (((q - ones) & ~q) | ((x - ones) & ~x)) & highs) != 0)
            return i + (size_t)__builtin_ctzll(m) / 8;
        i += 8;
    }
}
#endif

/* j->off at a '"': the length of the string when it is plain ASCII up to
 * its closing quote (no escape, control or non-ASCII byte), else SIZE_MAX.
 * Read from the order's copy, eight bytes at a time: its zeroed padding
 * stops the scan at the end of the text at the latest. */
#if defined(__GNUC__)
__attribute__((always_inline))   /* in the loops that call it, its constants stay put */
#endif
static inline size_t plain_len(const jreader *j)
{
#ifdef WORDWISE
    const char *p = j->copy + j->off + 1;
    size_t i = plain_at(p);

    return j->off + 1 + i < j->len && p[i] == '"' ? i : SIZE_MAX;
#else
    (void)j;
    return SIZE_MAX;
#endif
}

/* The plain string at j->off, n bytes long, read as lex_string reads it. */
static void take_plain(jreader *j, size_t n)
{
    j->start = j->off;
    j->s = (const char *)j->t + j->off + 1;
    j->n = n;
    j->toklen = n;
    j->escaped = false;
    j->clean = true;
    j->off += n + 2;
}

#ifdef WORDWISE
/* The entry of ix whose name is the key at p (just past its opening quote
 * in the order's copy of the text), when the key is plainly written and
 * shorter than 16 bytes, its length in *np; else NULL.  See match_key. */
static inline const tsr_okey_slot *key_at(const tsr_okey_index *ix, const char *p, size_t *np)
{
    const uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
    const tsr_okey_slot *k;
    uint64_t x0, x1, q, m;
    size_t n;

    memcpy(&x0, p, 8);
    memcpy(&x1, p + 8, 8);
    q = x0 ^ (ones * '"');
    if ((m = (q - ones) & ~q & highs) != 0) {   /* the lowest bit is exact */
        n = (size_t)__builtin_ctzll(m) / 8;
        x0 &= ((uint64_t)1 << (8 * n)) - 1;
        x1 = 0;
    } else {
        q = x1 ^ (ones * '"');
        if ((m = (q - ones) & ~q & highs) == 0)
            return NULL;   /* 16 bytes or more */
        n = 8 + (size_t)__builtin_ctzll(m) / 8;
        x1 &= ((uint64_t)1 << (8 * (n - 8))) - 1;
    }
    k = &ix->slots[tsr__okey_hash(p, n, ix->seed) & ix->mask];
    if (!k->name || k->len != n || x0 != k->head[0] || x1 != k->head[1])
        return NULL;
    *np = n;
    return k;
}
#endif

/* j->off at a '"' where a key is expected: when the string is one of the
 * record's names, plainly written and shorter than 16 bytes, its entry in
 * the key index, the token read.  NULL, nothing read: lex it the ordinary
 * way.  Only the closing quote is looked for (in the first 16 bytes, which
 * the order's copy of the text, padded, always has): bytes before it that
 * equal a name are plain, as every name is letters, digits and '_' (the
 * built-in ones, and the schema's by the rule file's loader), so they are
 * what lex_string would have read with no escape and no byte to check.
 * And a quote found lies in the text, as the padding is zeros.  The key's
 * 16 bytes are compared with the name's two words. */
static const tsr_okey_slot *match_key(jreader *j, const tsr_okey_index *ix)
{
#ifdef WORDWISE
    size_t n;
    const tsr_okey_slot *k = key_at(ix, j->copy + j->off + 1, &n);

    if (k)
        take_plain(j, n);
    return k;
#else
    (void)j;
    (void)ix;
    return NULL;
#endif
}

/* A value, read from here: the common first bytes go straight to their
 * lexer, the rest through lex(). */
static int value_here(jreader *j)
{
    if (j->off < j->len) {
        unsigned char c = j->t[j->off];
        j->start = j->off;
        if (c == '"') {
            size_t n = plain_len(j);
            if (n != SIZE_MAX) {
                take_plain(j, n);
                return value(j, T_STRING);
            }
            j->off++;
            return value(j, lex_string(j));
        }
        if ((c >= '0' && c <= '9') || c == '-')
            return value(j, lex_number(j));
        if (c == '{' || c == '[') {   /* as lex() reads them */
            j->off++;
            j->toklen = 1;
            return value(j, c == '{' ? T_LBRACE : T_LBRACK);
        }
    }
    return value(j, lex(j));
}

/* At t[i], a digit 1 to 9: up to 18 digits, their value in *x, followed by
 * a byte of the text that ends the number (what lex_number would read as
 * an is_int number); *end is past the digits.  False: read it otherwise. */
static inline bool plain_int(const unsigned char *t, size_t i, size_t len, size_t *end,
                             int64_t *x)
{
    size_t lim = len - i > 18 ? i + 18 : len;
    int64_t v = 0;

    do
        v = v * 10 + (t[i++] - '0');
    while (i < lim && t[i] >= '0' && t[i] <= '9');
    *end = i;
    *x = v;
    return i < len && !(t[i] >= '0' && t[i] <= '9') && t[i] != '.' && t[i] != 'e' && t[i] != 'E';
}

/* The value of a record's field whose key map() just took the fast way
 * (f, the innermost frame, has target TSR_X_FIELD), read from here.  The
 * common forms go straight from the text into the field's slot, typed by
 * the field: a plain string (no escape, ASCII) for a string, date,
 * datetime, money or decimal; a number for an integer, money or decimal.
 * What is stored, and when, is what value_here and field_fast would store
 * for the same token; whatever they would not take fast goes to them. */
static int field_here(jreader *j, const tsr_oframe *f)
{
    tsr_order *o = j->o;
    tsr_record_kind rec = (tsr_record_kind)f->kind;
    tsr_value v;
    unsigned char c;
    size_t n;
    char *s;
    int tok;

    if (j->off >= j->len)
        return value_here(j);
    c = j->t[j->off];
    j->start = j->off;
    if (c == '"') {
        if ((n = plain_len(j)) == SIZE_MAX)
            return value_here(j);
        s = j->copy + j->off + 1;
        s[n] = '\0';   /* as on_scalar terminates it */
        if (!fast_value(o, rec, f->field, TSR_OT_STRING, s, n, HINT_OWNED, 0, &v)) {
            take_plain(j, n);
            return value(j, T_STRING);
        }
        j->off += n + 2;
        put_fast(o, f, &v);
        return TSR_OK;
    }
    if (c >= '1' && c <= '9' && f->field->type == TSR_T_INT) {
        size_t i;
        int64_t x;
        if (plain_int(j->t, j->off, j->len, &i, &x) &&
            fast_value(o, rec, f->field, TSR_OT_NUMBER, NULL, 0, HINT_INT, x, &v)) {
            j->off = i;
            put_fast(o, f, &v);
            return TSR_OK;
        }
    }
    if ((c >= '0' && c <= '9') || c == '-') {
        if ((tok = lex_number(j)) != T_NUMBER ||
            !fast_value(o, rec, f->field, TSR_OT_NUMBER, j->s, j->n, j->is_int ? HINT_INT : 0,
                        j->ival, &v))
            return value(j, tok);
        put_fast(o, f, &v);
        return TSR_OK;
    }
    return value_here(j);
}

/* Where the guess of the key after k in a map of a record is kept, in
 * row, the record's guesses in the order (row[0]: of the first key). */
static inline tsr_okey_guess *guess_after(tsr_okey_guess *row, const tsr_okey_slot *k)
{
    size_t i = (size_t)k->seen_at + 1;
    /* the keys too far into the record share the last place: a guess is
     * only ever a guess, checked before it is taken */
    return &row[i < TSR_ORDER_KEY_GUESSES - 1 ? i : TSR_ORDER_KEY_GUESSES - 1];
}

#ifdef WORDWISE
/* Guess k, a name key_at found (shorter than 16 bytes), at g, a place in
 * row. */
static void guess_set(tsr_okey_guess *g, tsr_okey_guess *row, const tsr_okey_slot *k)
{
    size_t n = k->len;   /* the quote's byte */

    g->k = k;
    g->after = guess_after(row, k);
    g->w[0] = k->head[0];
    g->w[1] = k->head[1];
    if (n < 8) {
        g->w[0] |= (uint64_t)'"' << (8 * n);
        g->m[0] = n + 1 < 8 ? ((uint64_t)1 << (8 * (n + 1))) - 1 : ~(uint64_t)0;
        g->m[1] = 0;
    } else {
        g->w[1] |= (uint64_t)'"' << (8 * (n - 8));
        g->m[0] = ~(uint64_t)0;
        g->m[1] = n + 1 < 16 ? ((uint64_t)1 << (8 * (n - 7))) - 1 : ~(uint64_t)0;
    }
}
#endif

/* What record_pairs leaves map() to do next. */
enum {
    RP_NONE,   /* it took nothing: map_need_key, as map() came */
    RP_KEY,    /* it took pairs and a ',': map_need_key, not the first key */
    RP_VAL,    /* it took pairs, the last without its ',': map_got_val */
    RP_END,    /* it took pairs and the closing '}': the map ends */
    RP_ERR     /* what it read failed with j->pairs_rc */
};

static int map(jreader *j, const tsr_okey_index *ix);
static int array(jreader *j);

/* At copy[at], c: the '{' of the customer or the '[' of items or promo
 * codes, as the order's key k (unseen) expects, with room for its frame:
 * the frame pushed as tsr__oread_start_map or start_array pushes it, j at
 * the byte after c.  False, nothing done: anything else. */
static bool open_here(jreader *j, const tsr_okey_slot *k, unsigned char c, size_t at)
{
    tsr_oreader *r = &j->r;
    tsr_order *o = j->o;
    tsr_oframe *nf;
    uint8_t kind;

    if (r->depth >= TSR_OREAD_DEPTH)
        return false;
    switch (k->target) {
    case TSR_X_CUSTOMER:
        if (c != '{')
            return false;
        o->has_customer = true;
        tsr__order_seen_begin(o, TSR_REC_CUSTOMER);
        kind = TSR_OF_CUSTOMER;
        break;
    case TSR_X_ITEMS:
        if (c != '[')
            return false;
        o->has_items = true;
        kind = TSR_OF_ITEMS;
        break;
    case TSR_X_PROMO_CODES:
        if (c != '[')
            return false;
        /* present, even if empty: `order.promo_codes` is then an empty list */
        o->order[TSR_ORDER_PROMO_CODES] = (tsr_value){ .type = TSR_T_LIST, .elem = TSR_T_STRING,
                                                       .u.list = o->promo_values };
        kind = TSR_OF_PROMO_CODES;
        break;
    default:
        return false;
    }
    nf = &r->frames[r->depth++];
    *nf = (tsr_oframe){ .kind = kind };
    j->start = at;
    j->off = at + 1;
    j->toklen = 1;
    return true;
}

/* The pairs of a record's map as compact JSON writes them, from j->off,
 * each read whole before anything of it is stored: `"key":value` with a
 * key of the record's index (found where it lies, as match_key finds it)
 * that names a field, unseen, and a value its field takes as it stands --
 * a plain string for a string field; a string its parser takes whole for
 * a date, datetime, money or decimal (their parsers take only ASCII
 * digits and punctuation, never '"', '\\' or a control byte, so only the
 * closing quote is looked for); digits, not starting with 0, for an
 * integer; true or false for a boolean; `[]` for a list.  Such a pair is stored as map()
 * and field_here would store it, and the separator after it taken.  At
 * the first pair that is anything else, it stops where that pair begins,
 * and map() reads it the general way, which words every error. */
static int record_pairs(jreader *j, const tsr_okey_index *ix)
{
#ifdef WORDWISE
    tsr_order *o = j->o;
    tsr_oframe *f = &j->r.frames[j->r.depth - 1];
    tsr_record_kind rec = (tsr_record_kind)f->kind;
    uint8_t *seen = o->seen[rec], gen = o->seen_gen[rec];
    tsr_value *vals = tsr__order_record(o, rec, f->index);
    const unsigned char *t = j->t;
    char *copy = j->copy;
    size_t len = j->len, off = j->off, max = o->rs->limits.max_string_length;
    tsr_okey_guess *row = o->key_next[rec], *next;
    const tsr_okey_slot *last = NULL;
    int state = RP_NONE;

    /* below 16, a key's length (key_at's names are shorter) may pass the
     * limit: the general way says so */
    if (max < 16)
        return RP_NONE;
    if (max > UINT32_MAX)
        max = UINT32_MAX;
    next = f->last ? guess_after(row, f->last) : &row[0];
    /* the text is read in the order's copy, whose zeroed padding ends it:
     * a byte compared with '"', ':', ',' or '}' there is one of the text
     * (the copy differs only where strings already read were ended) */
    while (copy[off] == '"') {
        const tsr_okey_slot *k;
        const tsr_field *field;
        tsr_value v;
        size_t kn, n, at, end;
        char *s;
        unsigned char c;
        uint64_t x0, x1;

        /* the key that came after the last one the last time, when it is
         * written here as key_at would find it (o->key_next holds only
         * what key_at found: names shorter than 16 bytes), its closing
         * quote too */
        memcpy(&x0, copy + off + 1, 8);
        memcpy(&x1, copy + off + 9, 8);
        if ((x0 & next->m[0]) == next->w[0] && (x1 & next->m[1]) == next->w[1]) {
            k = next->k;   /* a guess was set: nothing matches the blank ones */
            kn = k->len;
        } else {
            if (!(k = key_at(ix, copy + off + 1, &kn)))
                break;
            guess_set(next, row, k);
        }
        next = next->after;
        /* from here, a pair not taken leaves its key to map() */
        j->pending = k;
        j->pending_len = kn;
        if (seen[k->seen_at] == gen)
            break;
        at = off + kn + 2;   /* past the key's closing quote */
        if (copy[at] != ':')
            break;
        c = (unsigned char)copy[++at];   /* at <= len: 0 there */
        if (k->target != TSR_X_FIELD) {
            /* the customer's object, the items' or promo codes' array:
             * read from its first byte as map() would read it, the key
             * noted first (its path) */
            int rc;
            if (!open_here(j, k, c, at))
                break;
            j->pending = NULL;
            tsr__oread_note_key(f, seen, gen, k, kn);
            last = k;
            rc = k->target == TSR_X_CUSTOMER ? map(j, &o->rs->okeys[TSR_REC_CUSTOMER]) : array(j);
            if (rc != TSR_OK) {
                j->pairs_rc = rc;
                return RP_ERR;
            }
            off = j->off;
            state = RP_VAL;
            goto separator;
        }
        field = k->field;
        if (c == '"' && field->type == TSR_T_STRING) {
            /* what fast_value takes of a plain string (a category is the
             * rule set's to check); a quote found lies in the text: the
             * padding is zeros */
            s = copy + at + 1;
            n = plain_at(s);
            if (s[n] != '"' || n > max || (rec == TSR_REC_ITEM && field->slot == TSR_ITEM_CATEGORY))
                break;
            s[n] = '\0';   /* as on_scalar terminates it */
            v = (tsr_value){ .type = TSR_T_STRING, .len = (uint32_t)n, .u.s = s };
            end = at + n + 2;
        } else if (c == '"') {
            s = copy + at + 1;
            n = quote_at(s);
            if (s[n] != '"' ||
                !fast_value(o, rec, field, TSR_OT_STRING, s, n, HINT_OWNED, 0, &v))
                break;
            end = at + n + 2;
        } else if (c >= '1' && c <= '9' && field->type == TSR_T_INT) {
            int64_t x;
            if (!plain_int(t, at, len, &end, &x))
                break;
            /* what fast_value makes of it: x >= 1 passes every built-in
             * rule on integers (quantity >= 1, balances and points >= 0);
             * an order's built-in one is noted as settle_owned notes it */
            v = (tsr_value){ .type = TSR_T_INT, .u.i = x };
            if (rec == TSR_REC_ORDER && field->slot < tsr__order_builtins[rec].nbuiltin &&
                tsr__order_settle_owned(o, rec, field->slot, &v, NULL) != TSR_OK)
                break;
        } else if (field->type == TSR_T_LIST && c == '[' && copy[at + 1] == ']') {
            /* an empty list: what tsr__oread_start_array and end_array store */
            v = (tsr_value){ .type = TSR_T_LIST, .elem = field->elem };
            end = at + 2;
        } else if (field->type == TSR_T_BOOL && len - at >= 4 && memcmp(t + at, "true", 4) == 0) {
            v = (tsr_value){ .type = TSR_T_BOOL, .u.i = 1 };
            end = at + 4;
        } else if (field->type == TSR_T_BOOL && len - at >= 5 &&
                   memcmp(t + at, "false", 5) == 0) {
            v = (tsr_value){ .type = TSR_T_BOOL, .u.i = 0 };
            end = at + 5;
        } else {
            break;
        }
        /* the pair is whole: take it (the frame notes the last key only) */
        j->pending = NULL;
        seen[k->seen_at] = gen;
        last = k;
        vals[field->slot] = v;
        off = end;
        state = RP_VAL;
    separator:
        if (copy[off] == ',') {
            off++;
            state = RP_KEY;
            continue;
        }
        if (copy[off] == '}') {
            off++;
            state = RP_END;
        }
        break;
    }
    if (last)
        tsr__oread_note_key(f, seen, gen, last, last->len);
    if (state != RP_NONE)
        note_stored(o, rec);
    j->off = off;
    return state;
#else
    (void)j;
    (void)ix;
    return RP_NONE;
#endif
}

/* The '}' of a map: a line's or the customer's ends here, as
 * tsr__oread_end_map would end it; anything else goes to it. */
static int end_map(jreader *j)
{
    tsr_oreader *r = &j->r;
    tsr_oframe *f = r->depth ? &r->frames[r->depth - 1] : NULL;

    if (r->rc || !f || (f->kind != TSR_OF_ITEM && f->kind != TSR_OF_CUSTOMER))
        return tsr__oread_end_map(r);
    if (f->kind == TSR_OF_ITEM)
        tsr__order_line_end(j->o, f->index);
    r->depth--;
    return TSR_OK;
}

/* The '}' of a record's map that record_pairs took: as
 * tsr__oread_end_map ends it (the reader has no error: the map's index was
 * found, and the pairs' loop stores nothing that fails). */
static int end_record(jreader *j)
{
    tsr_oreader *r = &j->r;
    tsr_oframe *f = &r->frames[r->depth - 1];

    if (f->kind == TSR_OF_ITEM)
        tsr__order_line_end(j->o, f->index);
    else if (f->kind == TSR_OF_ORDER)
        r->done = true;
    r->depth--;
    return TSR_OK;
}

/* After '{' (the event reader has it); ix: key_index() there. */
static int map(jreader *j, const tsr_okey_index *ix)
{
    const tsr_okey_slot *k;
    bool first = true, fast;
    int tok, rc;

    for (;;) {
        /* map_start, map_need_key */
        if (ix) {
            switch (record_pairs(j, ix)) {
            case RP_END:
                return end_record(j);
            case RP_ERR:
                return j->pairs_rc;
            case RP_VAL:
                first = false;
                goto got_val;
            case RP_KEY:
                first = false;
                break;
            default:
                break;
            }
        }
        if ((k = j->pending) != NULL) {   /* record_pairs found it */
            j->pending = NULL;
            take_plain(j, j->pending_len);
        } else {
            k = ix && j->off < j->len && j->t[j->off] == '"' ? match_key(j, ix) : NULL;
        }
        fast = false;
        if (k) {
            if ((rc = take_key(&j->r, k)) == SLOW)
                rc = on_key(j);   /* met before, or too long: the generic way says so */
            else
                fast = k->target == TSR_X_FIELD;
        } else {
            tok = lex_key(j);
            if (first && tok == T_RBRACE)   /* map_start: an empty object */
                return end_map(j);
            if (tok != T_STRING)
                return unexpected(j, tok, "invalid object key (must be a string)");
            rc = on_key(j);
        }
        if (rc != TSR_OK)
            return rc;
        first = false;
        /* map_sep */
        if (!take(j, ':') && (tok = lex(j)) != T_COLON)
            return unexpected(j, tok, "object key and value must be separated by a colon (':')");
        /* map_need_val */
        if ((rc = fast ? field_here(j, &j->r.frames[j->r.depth - 1]) : value_here(j)) != TSR_OK)
            return rc;
    got_val:
        /* map_got_val */
        if (!take(j, ',')) {
            if (take(j, '}'))
                return end_map(j);
            tok = lex(j);
            if (tok == T_RBRACE)
                return end_map(j);
            if (tok != T_COMMA) {
                /* yajl steps back by the token's length (a string's
                 * without its quotes) for this one message */
                if (tok != T_EOF && tok != T_ERROR)
                    j->off = j->off >= j->toklen ? j->off - j->toklen : 0;
                return unexpected(j, tok, "after key and value, inside map, I expect ',' or '}'");
            }
        }
    }
}

/* The '{' of a line at j->off, in items (the innermost frame, f): its
 * line and frame set up as tsr__oread_start_map would set them up, when
 * neither limit is reached and the order has room for the line (any
 * other case goes the general way, which says what is wrong). */
static bool line_here(jreader *j, tsr_oframe *f)
{
    tsr_oreader *r = &j->r;
    tsr_order *o = j->o;
    size_t max = o->rs->limits.max_order_lines;
    tsr_oframe *nf;

    if (r->rc || r->depth >= TSR_OREAD_DEPTH || f->index >= max || o->nlines >= max ||
        o->nlines >= o->lines_cap)
        return false;
    f->index++;
    nf = &r->frames[r->depth++];
    /* what a record's map frame reads before its first key sets the rest
     * (push() clears the whole frame) */
    nf->kind = TSR_OF_ITEM;
    nf->target = TSR_X_ROOT;
    nf->field = NULL;
    nf->last = NULL;
    nf->key = NULL;
    nf->key_len = 0;
    nf->index = tsr__order_line_blank(o);
    tsr__order_seen_begin(o, TSR_REC_ITEM);
    j->start = j->off++;
    j->toklen = 1;
    return true;
}

/* An element of an array, read from here: an object (a line, a points
 * lot) straight to map(), as value_here and value would take it there; a
 * promo code or a string of a list, written plainly, straight to where
 * on_scalar would put it. */
static int element_here(jreader *j)
{
    tsr_oframe *f = j->r.depth ? &j->r.frames[j->r.depth - 1] : NULL;
    int rc;

    if (j->off < j->len && j->t[j->off] == '"' && f && !j->r.rc &&
        (f->kind == TSR_OF_PROMO_CODES ||
         (f->kind == TSR_OF_LIST && f->list.elem == TSR_T_STRING))) {
        size_t n = plain_len(j);
        if (n != SIZE_MAX && n <= j->o->rs->limits.max_string_length && n <= UINT32_MAX) {
            char *s = j->copy + j->off + 1;
            s[n] = '\0';   /* as on_scalar terminates it */
            take_plain(j, n);
            return tsr__oread_owned_element(&j->r, f, s, n);
        }
    }
    if (j->off < j->len && j->t[j->off] == '{') {
        if (f && f->kind == TSR_OF_ITEMS && line_here(j, f))
            return map(j, &j->o->rs->okeys[TSR_REC_ITEM]);
        j->start = j->off++;
        j->toklen = 1;
        return (rc = tsr__oread_start_map(&j->r)) != TSR_OK ? rc : map(j, key_index(&j->r));
    }
    return value_here(j);
}

/* The ']' of the array of frame f, the innermost: as
 * tsr__oread_end_array ends it (items, promo codes and points lots store
 * nothing there; a list goes to it). */
static int end_array(jreader *j, const tsr_oframe *f)
{
    if (j->r.rc || f->kind == TSR_OF_LIST)
        return tsr__oread_end_array(&j->r);
    j->r.depth--;
    return TSR_OK;
}

/* After '[' (the event reader has it, its frame pushed). */
static int array(jreader *j)
{
    tsr_oframe *f = &j->r.frames[j->r.depth - 1];
    int tok, rc;

    /* array_start: a value, or ']' for an empty array */
    if (!(j->off < j->len && (j->t[j->off] == '{' || j->t[j->off] == '"'))) {
        if ((tok = lex(j)) == T_RBRACK)
            return end_array(j, f);
        rc = value(j, tok);
        goto got_val;
    }
    for (;;) {
        /* array_need_val: a line's '{' straight to its map */
        if (f->kind == TSR_OF_ITEMS && j->off < j->len && j->t[j->off] == '{' && line_here(j, f))
            rc = map(j, &j->o->rs->okeys[TSR_REC_ITEM]);
        else
            rc = element_here(j);
    got_val:
        if (rc != TSR_OK)
            return rc;
        /* array_got_val */
        if (!take(j, ',')) {
            if (take(j, ']'))
                return end_array(j, f);
            tok = lex(j);
            if (tok == T_RBRACK)
                return end_array(j, f);
            if (tok != T_COMMA)
                return unexpected(j, tok, "after array element, I expect ',' or ']'");
        }
    }
}

/* A value whose first token is tok (start, map_need_val, array_need_val;
 * array_start's ']' is array()'s). */
static int value(jreader *j, int tok)
{
    int rc;

    switch (tok) {
    case T_LBRACE:
        if ((rc = tsr__oread_start_map(&j->r)) != TSR_OK)
            return rc;
        return map(j, key_index(&j->r));
    case T_LBRACK:
        if ((rc = tsr__oread_start_array(&j->r)) != TSR_OK)
            return rc;
        return array(j);
    case T_STRING:
    case T_NUMBER:
    case T_TRUE:
    case T_FALSE:
    case T_NULL:
        return on_scalar(j, tok);
    default:
        return unexpected(j, tok, "unallowed token at this point in JSON text");
    }
}

static int parse(jreader *j)
{
    int rc, tok;

    if (j->len && j->t[0] == '{') {   /* as lex() reads it */
        j->start = 0;
        j->off = 1;
        j->toklen = 1;
        tok = T_LBRACE;
    } else {
        tok = lex(j);
    }
    if ((rc = value(j, tok)) != TSR_OK)
        return rc;
    /* parse_complete: nothing but white space may follow */
    if (j->off == j->len)
        return TSR_OK;
    tok = lex(j);
    return tok == T_EOF ? TSR_OK : parse_error(j, "trailing garbage");
}

int tsr__order_read_json(tsr_order *o, const char *text, size_t len, tsr_error *err)
{
    jreader j;
    int rc;

    if (len > o->rs->limits.max_order_size)
        return tsr__err_path(err, TSR_ELIMIT, "$",
                             "order of %zu bytes is larger than the limit (%zu bytes)", len,
                             o->rs->limits.max_order_size);
    /* + 16: a key is read 8 bytes at a time (key_fast, match_key) */
    if (len > SIZE_MAX - 1 - KEY_PAD || !(j.copy = tsr__arena_alloc(&o->arena, len + 1 + KEY_PAD)))
        return tsr__err(err, TSR_ENOMEM, NULL);
    if (len)
        memcpy(j.copy, text, len);
    memset(j.copy + len, 0, 1 + KEY_PAD);
    tsr__oread_init(&j.r, o, false, err);
    j.o = o;
    j.t = (const unsigned char *)text;
    j.len = len;
    j.off = 0;
    j.past_end = false;
    j.ival = 0;
    j.pending = NULL;
    j.pairs_rc = TSR_OK;
    rc = parse(&j);
    if (rc == TSR_OK && !j.r.done)   /* not reachable: a whole value was read */
        rc = tsr__err_path(err, TSR_EORDER, "$", "the order is incomplete");
    if (rc != TSR_OK)
        tsr__order_clear(o);
    return rc;
}
