/*
 * expr_lex.c — the tokenizer of the expression language (SPEC §2).
 *
 * Turns the source text into an array of tokens with exact byte ranges, so
 * every later error can point at a column.  Literals are decoded here:
 * integers (checked against int64), decimals (at most 6 fractional digits,
 * exact), and quoted strings with their escapes.  Common slips from other
 * languages (`=`, `&&`, `||`, `!`) get an error that names the right word.
 */
#include "expr_impl.h"

static const char *const tok_names[TK__COUNT] = {
    [TK_EOF] = "end of expression", [TK_IDENT] = "name", [TK_INT] = "integer",
    [TK_DEC] = "decimal", [TK_STR] = "string",
    [TK_LPAREN] = "`(`", [TK_RPAREN] = "`)`", [TK_LBRACK] = "`[`", [TK_RBRACK] = "`]`",
    [TK_COMMA] = "`,`", [TK_DOT] = "`.`",
    [TK_EQ] = "`==`", [TK_NE] = "`!=`", [TK_LT] = "`<`", [TK_LE] = "`<=`", [TK_GT] = "`>`",
    [TK_GE] = "`>=`", [TK_PLUS] = "`+`", [TK_MINUS] = "`-`", [TK_STAR] = "`*`",
    [TK_SLASH] = "`/`", [TK_PERCENT] = "`%`",
    [TK_AND] = "`and`", [TK_OR] = "`or`", [TK_NOT] = "`not`", [TK_IN] = "`in`",
    [TK_IF] = "`if`", [TK_ELSE] = "`else`", [TK_TRUE] = "`true`", [TK_FALSE] = "`false`",
};

const char *tsr__tok_name(tsr_tok_kind k)
{
    return (unsigned)k < TK__COUNT ? tok_names[k] : "?";
}

static const struct {
    const char *word;
    uint8_t kind;
} keywords[] = {
    { "and", TK_AND }, { "or", TK_OR }, { "not", TK_NOT }, { "in", TK_IN },
    { "if", TK_IF }, { "else", TK_ELSE }, { "true", TK_TRUE }, { "false", TK_FALSE },
};

static bool is_ident_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static bool is_ident_char(unsigned char c)
{
    return is_ident_start(c) || is_digit(c);
}

static int push(tsr_xcx *cx, size_t *cap, const tsr_token *t)
{
    if (cx->ntoks == *cap) {
        void *p = cx->toks;
        if (tsr__arena_grow(&cx->scratch, &p, cap, cx->ntoks, sizeof *cx->toks, 32) != TSR_OK)
            return tsr__err(cx->err, TSR_ENOMEM, "out of memory");
        cx->toks = p;
    }
    cx->toks[cx->ntoks++] = *t;
    return TSR_OK;
}

/* Length of the UTF-8 sequence starting at s[0] (for quoting a stray
 * character whole); the source was validated as UTF-8 before lexing. */
static size_t utf8_len(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        return 2;
    if ((c & 0xF0) == 0xE0)
        return 3;
    return 4;
}

static int lex_number(tsr_xcx *cx, size_t i, tsr_token *t, size_t *end)
{
    const char *s = cx->src;
    size_t j = i;
    uint64_t v = 0;
    bool too_big = false;

    while (j < cx->len && is_digit((unsigned char)s[j])) {
        unsigned d = (unsigned)(s[j] - '0');
        if (v > (UINT64_C(9223372036854775808) - d) / 10)
            too_big = true;
        else
            v = v * 10 + d;
        j++;
    }
    if (j < cx->len && s[j] == '.') {
        if (j + 1 >= cx->len || !is_digit((unsigned char)s[j + 1]))
            return tsr__xerr(cx, TSR_EPARSE, j + 1, "expected digits after `.` in `%.*s`",
                             (int)(j + 1 - i), s + i);
        j++;
        while (j < cx->len && is_digit((unsigned char)s[j]))
            j++;
        if (j < cx->len && (is_ident_char((unsigned char)s[j]) || s[j] == '.'))
            goto junk;
        int64_t dec;
        int rc = tsr__parse_fixed(s + i, j - i, TSR_DEC_DIGITS, &dec);
        if (rc == TSR_EVALUE)
            return tsr__xerr(cx, TSR_EVALUE, i,
                             "decimal `%.*s` is out of range or has more than %d fractional digits",
                             (int)(j - i), s + i, TSR_DEC_DIGITS);
        if (rc != TSR_OK)
            return tsr__xerr(cx, TSR_EPARSE, i, "invalid number `%.*s`", (int)(j - i), s + i);
        t->kind = TK_DEC;
        t->num = dec;
    } else {
        if (j < cx->len && is_ident_char((unsigned char)s[j]))
            goto junk;
        if (too_big)
            return tsr__xerr(cx, TSR_EVALUE, i, "integer `%.*s` is out of range",
                             (int)(j - i), s + i);
        t->kind = TK_INT;
        if (v == UINT64_C(9223372036854775808)) {
            t->int_min_only = true;
            t->num = INT64_MIN;
        } else {
            t->num = (int64_t)v;
        }
    }
    *end = j;
    return TSR_OK;

junk:
    while (j < cx->len && (is_ident_char((unsigned char)s[j]) || s[j] == '.'))
        j++;
    return tsr__xerr(cx, TSR_EPARSE, i, "invalid number `%.*s`", (int)(j - i), s + i);
}

/* Escapes: \" \\ \n \t \' (SPEC) plus \r.  Any other backslash is kept as
 * written, so that regular expressions read naturally (`"^\d+$"`) without
 * doubling every backslash inside an already-quoted YAML scalar. */
static int escape_char(char c)
{
    switch (c) {
    case '"': return '"';
    case '\'': return '\'';
    case '\\': return '\\';
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    default: return -1;
    }
}

size_t tsr__str_src_offset(const char *src, size_t tok_off, size_t index)
{
    size_t j = tok_off + 1, k = 0;
    while (k < index && src[j] != '\0') {
        if (src[j] == '\\' && src[j + 1] != '\0' && escape_char(src[j + 1]) >= 0)
            j += 2;
        else
            j++;
        k++;
    }
    return j;
}

static int lex_string(tsr_xcx *cx, size_t i, tsr_token *t, size_t *end)
{
    const char *s = cx->src;
    char q = s[i];
    size_t j = i + 1;
    bool escapes = false;

    for (;;) {
        if (j >= cx->len)
            return tsr__xerr(cx, TSR_EPARSE, i, "unterminated string");
        if (s[j] == q)
            break;
        if (s[j] == '\\' && j + 1 < cx->len) {
            escapes = true;
            j += 2;
            continue;
        }
        j++;
    }
    t->kind = TK_STR;
    if (!escapes) {
        /* The source copy lives in the rule set arena: point into it. */
        t->str = s + i + 1;
        t->slen = (uint32_t)(j - i - 1);
    } else {
        char *d = tsr__arena_alloc(cx->arena, j - i);
        if (!d)
            return tsr__err(cx->err, TSR_ENOMEM, "out of memory");
        size_t n = 0;
        for (size_t k = i + 1; k < j; k++) {
            int e;
            if (s[k] == '\\' && (e = escape_char(s[k + 1])) >= 0) {
                d[n++] = (char)e;
                k++;
            } else {
                d[n++] = s[k];
            }
        }
        d[n] = '\0';
        t->str = d;
        t->slen = (uint32_t)n;
    }
    *end = j + 1;
    return TSR_OK;
}

int tsr__expr_lex(tsr_xcx *cx)
{
    const char *s = cx->src;
    size_t i = 0, cap = 0;
    int rc;

    cx->ntoks = 0;
    while (i < cx->len) {
        unsigned char c = (unsigned char)s[i];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            i++;
            continue;
        }
        tsr_token t;
        memset(&t, 0, sizeof t);
        t.off = (uint32_t)i;
        size_t end = i + 1;

        if (is_ident_start(c)) {
            while (end < cx->len && is_ident_char((unsigned char)s[end]))
                end++;
            t.kind = TK_IDENT;
            t.str = s + i;
            t.slen = (uint32_t)(end - i);
            for (size_t k = 0; k < TSR_ARRAY_LEN(keywords); k++) {
                if (strlen(keywords[k].word) == end - i &&
                    memcmp(keywords[k].word, s + i, end - i) == 0) {
                    t.kind = keywords[k].kind;
                    break;
                }
            }
        } else if (is_digit(c)) {
            if ((rc = lex_number(cx, i, &t, &end)) != TSR_OK)
                return rc;
        } else if (c == '"' || c == '\'') {
            if ((rc = lex_string(cx, i, &t, &end)) != TSR_OK)
                return rc;
        } else {
            char n = '\0';
            if (i + 1 < cx->len)
                n = s[i + 1];
            switch (c) {
            case '(': t.kind = TK_LPAREN; break;
            case ')': t.kind = TK_RPAREN; break;
            case '[': t.kind = TK_LBRACK; break;
            case ']': t.kind = TK_RBRACK; break;
            case ',': t.kind = TK_COMMA; break;
            case '.':
                if (is_digit((unsigned char)n))
                    return tsr__xerr(cx, TSR_EPARSE, i,
                                     "a number needs a digit before `.` (write `0.%c…`)", n);
                t.kind = TK_DOT;
                break;
            case '+': t.kind = TK_PLUS; break;
            case '-': t.kind = TK_MINUS; break;
            case '*': t.kind = TK_STAR; break;
            case '/': t.kind = TK_SLASH; break;
            case '%': t.kind = TK_PERCENT; break;
            case '=':
                if (n != '=')
                    return tsr__xerr(cx, TSR_EPARSE, i, "unexpected `=`; did you mean `==`?");
                t.kind = TK_EQ;
                end = i + 2;
                break;
            case '!':
                if (n != '=')
                    return tsr__xerr(cx, TSR_EPARSE, i, "unexpected `!`; use `not` (or `!=`)");
                t.kind = TK_NE;
                end = i + 2;
                break;
            case '<':
                t.kind = n == '=' ? TK_LE : TK_LT;
                end = n == '=' ? i + 2 : i + 1;
                break;
            case '>':
                t.kind = n == '=' ? TK_GE : TK_GT;
                end = n == '=' ? i + 2 : i + 1;
                break;
            case '&':
                return tsr__xerr(cx, TSR_EPARSE, i, "unexpected `%s`; use `and`",
                                 n == '&' ? "&&" : "&");
            case '|':
                return tsr__xerr(cx, TSR_EPARSE, i, "unexpected `%s`; use `or`",
                                 n == '|' ? "||" : "|");
            default: {
                size_t l = utf8_len(c);
                if (i + l > cx->len)
                    l = cx->len - i;
                if (c < 0x20 || c == 0x7F)
                    return tsr__xerr(cx, TSR_EPARSE, i, "unexpected control character 0x%02X", c);
                return tsr__xerr(cx, TSR_EPARSE, i, "unexpected character `%.*s`", (int)l, s + i);
            }
            }
        }
        t.len = (uint32_t)(end - i);
        if ((rc = push(cx, &cap, &t)) != TSR_OK)
            return rc;
        i = end;
    }
    tsr_token eof;
    memset(&eof, 0, sizeof eof);
    eof.kind = TK_EOF;
    eof.off = (uint32_t)cx->len;
    return push(cx, &cap, &eof);
}
