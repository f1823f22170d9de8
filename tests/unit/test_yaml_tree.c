/*
 * Unit tests for yaml_tree.c: the tree and its positions, every scalar style
 * and the mapping of content offsets back to source columns, and everything
 * the reader refuses (duplicate keys, extra documents, tags, merge keys,
 * empty documents, invalid UTF-8, NUL bytes, aliases); and the limits it
 * enforces while it streams: nesting depth (100,000-deep flow and block
 * documents), alias bombs, scalar length, input size and node count.  No
 * timings are asserted: a limit that were only checked after parsing would
 * show up as a ctest timeout.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "yaml_tree.h"
#include "alloc_fixture.h"

/* The load defaults (TSR_LOAD_OPTIONS_INIT). */
static const tsr_ylimits defaults = { 4u << 20, 64, 64u << 10, 200000, 0 };

typedef struct fixture {
    tsr_alloc alloc;
    tsr_arena arena;
    tsr_error err;
    tsr_ynode *root;
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx)
        return -1;
    tsr__alloc_init(&fx->alloc, NULL);
    tsr__arena_init(&fx->arena, &fx->alloc, 4096);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    tsr__arena_free(&fx->arena);
    free(fx);
    return 0;
}

static int parse_lim(fixture *fx, const char *text, size_t len, const tsr_ylimits *lim)
{
    tsr__error_clear(&fx->err);
    fx->root = NULL;
    return tsr__yaml_parse(&fx->root, text, len, "rules.yaml", lim, &fx->arena, &fx->err);
}

static int parse(fixture *fx, const char *text)
{
    return parse_lim(fx, text, strlen(text), &defaults);
}

/* Parse and require success. */
static tsr_ynode *ok(fixture *fx, const char *text)
{
    int rc = parse(fx, text);
    if (rc != TSR_OK) {
        print_error("unexpected error %d at %d:%d: %s\n", rc, fx->err.line, fx->err.column,
                    fx->err.message);
        fail();
    }
    return fx->root;
}

/* The error check: code, 1-based position and a piece of the message. */
static void check_err(const fixture *fx, int rc, int code, int line, int col, const char *needle)
{
    const tsr_error *e = &fx->err;
    if (rc != code || e->code != code || e->line != line || e->column != col ||
        !strstr(e->message, needle) || strcmp(e->file, "rules.yaml") != 0) {
        print_error("got rc %d code %d at %d:%d \"%s\" (file \"%s\"),\n"
                    "want code %d at %d:%d containing \"%s\"\n",
                    rc, e->code, e->line, e->column, e->message, e->file, code, line, col,
                    needle);
        fail();
    }
    assert_null(fx->root);
}

static void expect_err(fixture *fx, const char *text, int code, int line, int col,
                       const char *needle)
{
    check_err(fx, parse(fx, text), code, line, col, needle);
}

static void expect_err_n(fixture *fx, const char *text, size_t len, int code, int line,
                         int col, const char *needle)
{
    check_err(fx, parse_lim(fx, text, len, &defaults), code, line, col, needle);
}

/* Follow a path of mapping keys ("a") and sequence indexes ("#2"). */
static tsr_ynode *at(tsr_ynode *n, ...)
{
    va_list ap;
    const char *step;

    va_start(ap, n);
    while ((step = va_arg(ap, const char *)) != NULL) {
        assert_non_null(n);
        if (step[0] == '#') {
            size_t i = (size_t)atoi(step + 1);
            assert_int_equal(n->kind, TSR_Y_SEQ);
            assert_true(i < n->u.seq.len);
            n = n->u.seq.items[i];
        } else {
            n = tsr__ymap_get(n, step);
        }
    }
    va_end(ap);
    assert_non_null(n);
    return n;
}

static void check_scalar(const tsr_ynode *n, const char *text, tsr_yscalar_style style, int line,
                         int col)
{
    assert_int_equal(n->kind, TSR_Y_SCALAR);
    assert_int_equal(n->u.scalar.len, strlen(text));
    assert_memory_equal(n->u.scalar.text, text, strlen(text) + 1);
    assert_int_equal(n->u.scalar.style, style);
    assert_int_equal(n->line, line);
    assert_int_equal(n->col, col);
    assert_true(tsr__yaml_scalar_rescan_ok(n));
}

/* The source position of content offset `off`. */
static void check_pos_at(const tsr_ynode *n, size_t off, int line, int col)
{
    int l = -1, c = -1;
    tsr__yaml_scalar_pos(n, off, &l, &c);
    if (l != line || c != col) {
        print_error("offset %zu of \"%s\": got %d:%d, want %d:%d\n", off, n->u.scalar.text, l, c,
                    line, col);
        fail();
    }
}

/* The source position of `token`, found in the scalar's content. */
static void check_pos(const tsr_ynode *n, const char *token, int line, int col)
{
    const char *p = strstr(n->u.scalar.text, token);
    assert_non_null(p);
    check_pos_at(n, (size_t)(p - n->u.scalar.text), line, col);
}

/* ---------------------------------------------------------------------
 * The tree.
 */
static void test_mappings_sequences_and_scalars_keep_their_positions(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "tessera: 1\n"
                             "ruleset: dream-island\n"
                             "tiers:\n"
                             "  - id: gold\n"
                             "    when: customer.visits >= 10\n"
                             "  - {id: silver, when: true}\n"
                             "tags: [a, 'b', \"c\"]\n"
                             "empty: {}\n"
                             "none: []\n");
    tsr_ynode *tiers, *tags;

    assert_int_equal(root->kind, TSR_Y_MAP);
    assert_int_equal(root->line, 1);
    assert_int_equal(root->col, 1);
    assert_int_equal(root->u.map.len, 6);
    check_scalar(root->u.map.pairs[0].key, "tessera", TSR_YS_PLAIN, 1, 1);
    check_scalar(at(root, "tessera", NULL), "1", TSR_YS_PLAIN, 1, 10);
    check_scalar(at(root, "ruleset", NULL), "dream-island", TSR_YS_PLAIN, 2, 10);

    tiers = at(root, "tiers", NULL);
    assert_int_equal(tiers->kind, TSR_Y_SEQ);
    assert_int_equal(tiers->line, 4);
    assert_int_equal(tiers->col, 3);
    assert_int_equal(tiers->u.seq.len, 2);
    assert_int_equal(at(tiers, "#0", NULL)->kind, TSR_Y_MAP);
    assert_int_equal(at(tiers, "#0", NULL)->line, 4);
    assert_int_equal(at(tiers, "#0", NULL)->col, 5);
    check_scalar(at(tiers, "#0", "when", NULL), "customer.visits >= 10", TSR_YS_PLAIN, 5, 11);
    assert_int_equal(at(tiers, "#1", NULL)->line, 6);
    assert_int_equal(at(tiers, "#1", NULL)->col, 5);
    check_scalar(at(tiers, "#1", "id", NULL), "silver", TSR_YS_PLAIN, 6, 10);

    tags = at(root, "tags", NULL);
    assert_int_equal(tags->col, 7);
    check_scalar(at(tags, "#0", NULL), "a", TSR_YS_PLAIN, 7, 8);
    check_scalar(at(tags, "#1", NULL), "b", TSR_YS_SINGLE, 7, 11);
    check_scalar(at(tags, "#2", NULL), "c", TSR_YS_DOUBLE, 7, 16);
    assert_int_equal(at(root, "empty", NULL)->kind, TSR_Y_MAP);
    assert_int_equal(at(root, "empty", NULL)->u.map.len, 0);
    assert_int_equal(at(root, "none", NULL)->kind, TSR_Y_SEQ);
    assert_int_equal(at(root, "none", NULL)->u.seq.len, 0);
}

static void test_raw_points_at_the_scalar_as_written(void **state)
{
    fixture *fx = *state;
    const char *text = "a: 'it''s'\nb: &x !!str   value # c\n";
    tsr_ynode *root = ok(fx, text);
    tsr_ynode *a = at(root, "a", NULL), *b = at(root, "b", NULL);

    assert_ptr_equal(a->u.scalar.raw, text + 3);
    assert_int_equal(a->u.scalar.raw_len, 7);
    /* Properties are not part of the scalar: it starts at `value`. */
    assert_ptr_equal(b->u.scalar.raw, text + 25);
    assert_int_equal(b->u.scalar.raw_len, 5);
    assert_int_equal(b->line, 2);
    assert_int_equal(b->col, 15);
    assert_int_equal(b->u.scalar.tag, TSR_YT_STR);
}

static void test_ymap_get_finds_keys_by_content(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "'a b': 1\n\"c\": 2\nd: [x]\n");

    assert_string_equal(tsr__ymap_get(root, "a b")->u.scalar.text, "1");
    assert_string_equal(tsr__ymap_get(root, "c")->u.scalar.text, "2");
    assert_null(tsr__ymap_get(root, "a"));
    assert_null(tsr__ymap_get(root, "ab"));
    assert_null(tsr__ymap_get(tsr__ymap_get(root, "d"), "x"));
    assert_null(tsr__ymap_get(NULL, "x"));
}

static void test_is_null_and_is_plain_follow_the_core_schema(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "a: ~\nb: null\nc:\nd: 'null'\ne: NULL\nf: nil\ng: !!null\n"
                             "h: !!str null\ni: !!int '12'\nj: \"\"\nk: [1]\nl: |\n  x\n");

    assert_true(tsr__yaml_is_null(at(root, "a", NULL)));
    assert_true(tsr__yaml_is_null(at(root, "b", NULL)));
    assert_true(tsr__yaml_is_null(at(root, "c", NULL)));
    assert_false(tsr__yaml_is_null(at(root, "d", NULL)));
    assert_true(tsr__yaml_is_null(at(root, "e", NULL)));
    assert_false(tsr__yaml_is_null(at(root, "f", NULL)));
    assert_true(tsr__yaml_is_null(at(root, "g", NULL)));
    assert_false(tsr__yaml_is_null(at(root, "h", NULL)));
    assert_false(tsr__yaml_is_null(at(root, "j", NULL)));
    assert_false(tsr__yaml_is_null(at(root, "k", NULL)));
    assert_true(tsr__yaml_is_null(NULL));

    assert_true(tsr__yaml_is_plain(at(root, "a", NULL)));
    assert_false(tsr__yaml_is_plain(at(root, "d", NULL)));
    assert_false(tsr__yaml_is_plain(at(root, "h", NULL)));
    assert_true(tsr__yaml_is_plain(at(root, "i", NULL)));
    assert_false(tsr__yaml_is_plain(at(root, "j", NULL)));
    assert_false(tsr__yaml_is_plain(at(root, "k", NULL)));
    assert_false(tsr__yaml_is_plain(at(root, "l", NULL)));
    assert_false(tsr__yaml_is_plain(NULL));
}

/* ---------------------------------------------------------------------
 * Scalar styles and positions inside them.
 */
static void test_plain_scalar_maps_offsets_to_columns(void **state)
{
    fixture *fx = *state;
    tsr_ynode *w = at(ok(fx, "rules:\n  - when: item.heigth_cm >= 100\n"), "rules", "#0", "when",
                      NULL);

    check_scalar(w, "item.heigth_cm >= 100", TSR_YS_PLAIN, 2, 11);
    check_pos(w, "heigth_cm", 2, 16);
    check_pos(w, "100", 2, 29);
    check_pos_at(w, 0, 2, 11);
    check_pos_at(w, w->u.scalar.len, 2, 32);     /* just after the content */
}

static void test_multiline_plain_scalar_folds_and_maps_each_line(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "when: item.a >= 1 and\n"
                             "  item.heigth_cm < 130\n"
                             "k: one\n"
                             "\n"
                             "  two   \n"
                             "    three\n"
                             "f: [a\n"
                             "    b]\n");
    tsr_ynode *w = at(root, "when", NULL), *k = at(root, "k", NULL);

    check_scalar(w, "item.a >= 1 and item.heigth_cm < 130", TSR_YS_PLAIN, 1, 7);
    check_pos(w, "and", 1, 19);
    check_pos(w, "heigth_cm", 2, 8);
    check_pos_at(w, 15, 1, 22);            /* the folded space: the line break */

    check_scalar(k, "one\ntwo three", TSR_YS_PLAIN, 3, 4);
    check_pos_at(k, 3, 4, 1);              /* the kept "\n": the empty line */
    check_pos(k, "two", 5, 3);
    check_pos(k, "three", 6, 5);
    check_scalar(at(root, "f", "#0", NULL), "a b", TSR_YS_PLAIN, 7, 5);
    check_pos(at(root, "f", "#0", NULL), "b", 8, 5);
}

static void test_single_quoted_scalar_maps_past_doubled_quotes(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "rules:\n"
                             "  - when: 'it''s item.heigth_cm >= 100'\n"
                             "    note: 'first\n"
                             "      second\n"
                             "\n"
                             "      ''third'''\n");
    tsr_ynode *w = at(root, "rules", "#0", "when", NULL), *n = at(root, "rules", "#0", "note", NULL);

    check_scalar(w, "it's item.heigth_cm >= 100", TSR_YS_SINGLE, 2, 11);
    check_pos_at(w, 2, 2, 14);             /* the '' escape */
    check_pos(w, "s item", 2, 16);
    check_pos(w, "heigth_cm", 2, 23);
    check_pos_at(w, w->u.scalar.len, 2, 39);  /* the closing quote */

    check_scalar(n, "first second\n'third'", TSR_YS_SINGLE, 3, 11);
    check_pos(n, "second", 4, 7);
    check_pos(n, "'third", 6, 7);
    check_pos(n, "third", 6, 9);
}

static void test_double_quoted_scalar_maps_past_escapes(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "when: \"\\x41\\u00e9\\t item.heigth_cm\"\n"
                             "b: \"\\U0001F600 \\\" \\\\ x\"\n"
                             "c: \"first\n"
                             "  second \\\n"
                             "   item.heigth_cm\"\n"
                             "d: \"a\\nb\\\n"
                             "\n"
                             "   c\\/d\"\n");
    tsr_ynode *w = at(root, "when", NULL), *b = at(root, "b", NULL), *c = at(root, "c", NULL);
    tsr_ynode *d = at(root, "d", NULL);

    check_scalar(w, "A\xC3\xA9\t item.heigth_cm", TSR_YS_DOUBLE, 1, 7);
    check_pos_at(w, 0, 1, 8);              /* \x41 */
    check_pos_at(w, 1, 1, 12);             /* both bytes of \u00e9 */
    check_pos_at(w, 2, 1, 12);
    check_pos_at(w, 3, 1, 18);             /* \t */
    check_pos(w, "heigth_cm", 1, 26);
    check_pos_at(w, w->u.scalar.len, 1, 35);

    check_scalar(b, "\xF0\x9F\x98\x80 \" \\ x", TSR_YS_DOUBLE, 2, 4);
    check_pos_at(b, 3, 2, 5);
    check_pos(b, "\"", 2, 16);
    check_pos(b, "\\", 2, 19);
    check_pos(b, "x", 2, 22);

    check_scalar(c, "first second item.heigth_cm", TSR_YS_DOUBLE, 3, 4);
    check_pos(c, "second", 4, 3);
    check_pos(c, "heigth_cm", 5, 9);

    check_scalar(d, "a\nb\nc/d", TSR_YS_DOUBLE, 6, 4);
    check_pos_at(d, 1, 6, 6);              /* \n */
    check_pos_at(d, 3, 7, 1);              /* the empty line after an escaped break */
    check_pos(d, "c", 8, 4);
    check_pos(d, "/", 8, 5);
}

static void test_literal_block_scalar_maps_lines_and_indentation(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "when: |\n"
                             "  item.x > 1 and\n"
                             "    item.heigth_cm < 130\n"
                             "keep: |2+ # two more than the parent\n"
                             "   lead\n"
                             "  next\n"
                             "\n"
                             "strip: |-\n"
                             "\n"
                             "  \xC3\xA9t\xC3\xA9\n"
                             "\n"
                             "last: 1\n");
    tsr_ynode *w = at(root, "when", NULL), *k = at(root, "keep", NULL), *s = at(root, "strip", NULL);

    check_scalar(w, "item.x > 1 and\n  item.heigth_cm < 130\n", TSR_YS_LITERAL, 1, 7);
    check_pos_at(w, 0, 2, 3);
    check_pos_at(w, 14, 2, 17);            /* the kept line break */
    check_pos_at(w, 15, 3, 3);             /* the extra indentation is content */
    check_pos(w, "heigth_cm", 3, 10);

    check_scalar(k, " lead\nnext\n\n", TSR_YS_LITERAL, 4, 7);
    check_pos_at(k, 0, 5, 3);
    check_pos(k, "lead", 5, 4);
    check_pos(k, "next", 6, 3);
    check_pos_at(k, 11, 7, 1);             /* kept trailing empty line */

    check_scalar(s, "\n\xC3\xA9t\xC3\xA9", TSR_YS_LITERAL, 8, 8);
    check_pos_at(s, 0, 9, 1);
    check_pos(s, "t", 10, 5);
    check_pos_at(s, s->u.scalar.len, 10, 8);
}

static void test_folded_block_scalar_maps_folded_lines(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "when: >\n"
                             "  item.a >= 1 and\n"
                             "  item.heigth_cm < 130\n"
                             "\n"
                             "    indented\n"
                             "  end\n"
                             "b: >- # note\n"
                             "  text\n");
    tsr_ynode *w = at(root, "when", NULL);

    check_scalar(w, "item.a >= 1 and item.heigth_cm < 130\n\n  indented\nend\n", TSR_YS_FOLDED,
                 1, 7);
    check_pos_at(w, 15, 2, 18);            /* folded into a space: the line break */
    check_pos(w, "heigth_cm", 3, 8);
    check_pos(w, "indented", 5, 5);
    check_pos(w, "end", 6, 3);
    check_scalar(at(root, "b", NULL), "text", TSR_YS_FOLDED, 7, 4);
    check_pos(at(root, "b", NULL), "text", 8, 3);
}

static void test_positions_count_bytes_and_survive_crlf_and_bom(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "\xEF\xBB\xBF"
                             "a: x\r\n"
                             "when: '\xC3\xA9\xC3\xA9\r\n"
                             "  item.heigth_cm'\r\n"
                             "c: \"\xE2\x82\xAC \\u20ac z\"\r\n");
    tsr_ynode *w = at(root, "when", NULL), *c = at(root, "c", NULL);

    check_scalar(root->u.map.pairs[0].key, "a", TSR_YS_PLAIN, 1, 1);
    check_scalar(w, "\xC3\xA9\xC3\xA9 item.heigth_cm", TSR_YS_SINGLE, 2, 7);
    check_pos_at(w, 2, 2, 10);
    check_pos_at(w, 4, 2, 12);             /* the folded CRLF */
    check_pos(w, "heigth_cm", 3, 8);
    check_scalar(c, "\xE2\x82\xAC \xE2\x82\xAC z", TSR_YS_DOUBLE, 4, 4);
    check_pos(c, "z", 4, 16);
}

static void test_rescan_reproduces_every_style(void **state)
{
    /* Odd corners of each style: the re-scan must reproduce libyaml's content
     * exactly, or positions would drift. */
    static const char *const docs[] = {
        "a: x\xC2\x85  y\n",
        "a: 'x\xE2\x80\xA8y'\n",
        "a: \"x\xE2\x80\xA9  \n\n  y\"\n",
        "a: \"\\N\\_\\L\\P\\e\\a\\b\\v\\f\\rx\"\n",
        "a: \"\\\ttab\\ \"\n",
        "a: 'trailing  '\n",
        "a: \"  lead\n  \n  trail  \"\n",
        "a: |+\n\n  x\n\n\n",
        "a: >+\n  a\n  b\n\n   c\n  d\n\n",
        "a: |1-\n  two\n",
        "- >2\n    x\n   y\n",
        "a: |\n  x\n  \tt\n",
        "a: >\n  x\r\n  y\r\n\r\n  z\r\n",
        "a: >\n\n",
        "- |-\n",
        "[a b\n c, 'd\n\n e', \"f\\\n g\"]\n",
        "? a\n  b\n: |\n  c\n",
        "a: !!str\nb: 1\n",
    };
    fixture *fx = *state;
    size_t i;

    for (i = 0; i < TSR_ARRAY_LEN(docs); i++) {
        tsr_ynode *root;
        size_t j;
        int rc = parse(fx, docs[i]);
        if (rc != TSR_OK) {
            print_error("doc %zu: %s\n", i, fx->err.message);
            fail();
        }
        root = fx->root;
        if (root->kind == TSR_Y_SEQ) {
            for (j = 0; j < root->u.seq.len; j++)
                if (root->u.seq.items[j]->kind == TSR_Y_SCALAR &&
                    !tsr__yaml_scalar_rescan_ok(root->u.seq.items[j])) {
                    print_error("doc %zu item %zu\n", i, j);
                    fail();
                }
        } else {
            for (j = 0; j < root->u.map.len; j++)
                if (!tsr__yaml_scalar_rescan_ok(root->u.map.pairs[j].key) ||
                    !tsr__yaml_scalar_rescan_ok(root->u.map.pairs[j].value)) {
                    print_error("doc %zu pair %zu\n", i, j);
                    fail();
                }
        }
    }
}

/* ---------------------------------------------------------------------
 * What is refused.
 */
static void test_duplicate_keys_name_the_key_and_the_first_line(void **state)
{
    fixture *fx = *state;

    expect_err(fx, "a: 1\nb:\n  foo: 1\n  bar: 2\n  foo: 3\n", TSR_EPARSE, 5, 3,
               "duplicate key `foo` (first at line 3)");
    expect_err(fx, "a: 1\n\"a\": 2\n", TSR_EPARSE, 2, 1, "duplicate key `a` (first at line 1)");
    expect_err(fx, "x: {k: 1, 'k': 2}\n", TSR_EPARSE, 1, 11, "duplicate key `k`");
}

static void test_duplicate_keys_are_found_in_large_mappings(void **state)
{
    fixture *fx = *state;
    char text[4096];
    size_t n = 0;
    int i;

    for (i = 0; i < 200; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "k%d: %d\n", i, i);
    assert_int_equal(parse(fx, text), TSR_OK);
    assert_string_equal(tsr__ymap_get(fx->root, "k199")->u.scalar.text, "199");
    snprintf(text + n, sizeof text - n, "k3: again\n");
    expect_err(fx, text, TSR_EPARSE, 201, 1, "duplicate key `k3` (first at line 4)");
}

static void test_keys_must_be_scalars(void **state)
{
    fixture *fx = *state;
    expect_err(fx, "a: 1\n? [x, y]\n: 2\n", TSR_EPARSE, 2, 3, "mapping keys must be scalars");
    expect_err(fx, "{{a: 1}: 2}\n", TSR_EPARSE, 1, 2, "mapping keys must be scalars");
}

static void test_merge_keys_are_refused(void **state)
{
    fixture *fx = *state;
    expect_err(fx, "base: 1\nother:\n  <<: {x: 1}\n", TSR_EPARSE, 3, 3,
               "merge keys (`<<`) are not supported");
    /* Quoted, it is an ordinary key. */
    assert_int_equal(parse(fx, "'<<': 1\n"), TSR_OK);
}

static void test_a_second_document_is_refused(void **state)
{
    fixture *fx = *state;
    expect_err(fx, "a: 1\n---\nb: 2\n", TSR_EPARSE, 2, 1, "second YAML document");
    expect_err(fx, "a: 1\n...\n---\nb: 2\n", TSR_EPARSE, 3, 1, "second YAML document");
    expect_err(fx, "--- {a: 1}\n--- \n", TSR_EPARSE, 2, 1, "only one is allowed");
    /* An explicit end of the one document is fine. */
    assert_int_equal(parse(fx, "---\na: 1\n...\n"), TSR_OK);
}

static void test_empty_documents_are_refused(void **state)
{
    fixture *fx = *state;
    expect_err(fx, "", TSR_EPARSE, 1, 1, "empty document");
    expect_err(fx, "# only a comment\n\n", TSR_EPARSE, 1, 1, "empty document");
    expect_err(fx, "---\n", TSR_EPARSE, 2, 1, "empty document");
    /* A written null is a document; the caller decides what it wants. */
    assert_int_equal(parse(fx, "~\n"), TSR_OK);
}

static void test_custom_tags_are_refused_with_the_tag(void **state)
{
    fixture *fx = *state;
    expect_err(fx, "a: !foo x\n", TSR_EPARSE, 1, 4, "tag `!foo` is not supported");
    expect_err(fx, "a: !!python/object:os.system x\n", TSR_EPARSE, 1, 4,
               "`!!python/object:os.system`");
    expect_err(fx, "a: !!binary aGVsbG8=\n", TSR_EPARSE, 1, 4, "`!!binary`");
    expect_err(fx, "a: !!set {x}\n", TSR_EPARSE, 1, 4, "`!!set`");
    expect_err(fx, "- !foo [1]\n", TSR_EPARSE, 1, 3, "`!foo`");
    expect_err(fx, "%TAG !e! tag:example.com,2000:\n---\na: !e!thing x\n", TSR_EPARSE, 3, 4,
               "`tag:example.com,2000:thing`");
    expect_err(fx, "a: !!map [1]\n", TSR_EPARSE, 1, 4, "cannot be used on a sequence");
    expect_err(fx, "a: !!seq x\n", TSR_EPARSE, 1, 4, "cannot be used on a scalar");
    expect_err(fx, "a: !!int abc\n", TSR_EPARSE, 1, 10, "`abc` is not a valid !!int");
    expect_err(fx, "a: !!bool yes\n", TSR_EPARSE, 1, 11, "not a valid !!bool");
}

static void test_core_schema_tags_are_accepted_and_recorded(void **state)
{
    fixture *fx = *state;
    tsr_ynode *root = ok(fx, "a: !!str true\n"
                             "b: !!int \"42\"\n"
                             "c: !<tag:yaml.org,2002:str> 5\n"
                             "d: ! 7\n"
                             "e: !!float -1.5e3\n"
                             "f: !!map {x: !!seq [!!null ~, !!bool false, !!int 0x1F]}\n");

    check_scalar(at(root, "a", NULL), "true", TSR_YS_PLAIN, 1, 10);
    assert_int_equal(at(root, "a", NULL)->u.scalar.tag, TSR_YT_STR);
    assert_int_equal(at(root, "b", NULL)->u.scalar.tag, TSR_YT_INT);
    check_scalar(at(root, "c", NULL), "5", TSR_YS_PLAIN, 3, 29);
    assert_int_equal(at(root, "c", NULL)->u.scalar.tag, TSR_YT_STR);
    assert_int_equal(at(root, "d", NULL)->u.scalar.tag, TSR_YT_STR);
    assert_false(tsr__yaml_is_plain(at(root, "d", NULL)));
    assert_int_equal(at(root, "e", NULL)->u.scalar.tag, TSR_YT_FLOAT);
    assert_int_equal(at(root, "f", "x", "#2", NULL)->u.scalar.tag, TSR_YT_INT);
    assert_true(tsr__yaml_is_null(at(root, "f", "x", "#0", NULL)));
}

static void test_invalid_utf8_is_refused_where_it_is(void **state)
{
    fixture *fx = *state;
    expect_err(fx, "a: b\xff" "c\n", TSR_EPARSE, 1, 5, "invalid UTF-8 (byte 0xFF)");
    expect_err(fx, "a: 1\nb: \xc0\xaf\n", TSR_EPARSE, 2, 4, "invalid UTF-8 (byte 0xC0)");
    expect_err(fx, "a: \xe0\x80\xaf\n", TSR_EPARSE, 1, 4, "invalid UTF-8");
    expect_err(fx, "a: \xed\xa0\x80\n", TSR_EPARSE, 1, 4, "invalid UTF-8 (byte 0xED)");
    expect_err(fx, "a: \xf4\x90\x80\x80\n", TSR_EPARSE, 1, 4, "invalid UTF-8");
    expect_err(fx, "a: 'x\xc3'\n", TSR_EPARSE, 1, 6, "invalid UTF-8");
    expect_err(fx, "a: \xe2\x82", TSR_EPARSE, 1, 4, "invalid UTF-8");
    expect_err(fx, "a: 1 # \xff\n", TSR_EPARSE, 1, 8, "invalid UTF-8");
    expect_err(fx, "a: \xc3\xa9\xff\n", TSR_EPARSE, 1, 6, "invalid UTF-8");
    expect_err(fx, "\xff\xfe" "a\0:\0", TSR_EPARSE, 1, 1, "UTF-16");
}

static void test_nul_bytes_are_refused(void **state)
{
    fixture *fx = *state;
    expect_err_n(fx, "a: b\0c\n", 7, TSR_EPARSE, 1, 5, "NUL byte");
    expect_err_n(fx, "a: 1\n\0", 6, TSR_EPARSE, 2, 1, "NUL byte");
    /* From an escape: the error points at the escape. */
    expect_err(fx, "a: 1\nb: \"x\\0y\"\n", TSR_EPARSE, 2, 6, "NUL character");
    expect_err(fx, "b: \"x\\u0000\"\n", TSR_EPARSE, 1, 6, "NUL character");
}

static void test_control_characters_are_refused_with_position(void **state)
{
    fixture *fx = *state;
    expect_err(fx, "a: 1\nb: x\x07y\n", TSR_EPARSE, 2, 5, "control character U+0007");
}

static void test_syntax_errors_carry_libyaml_problem_at_our_position(void **state)
{
    fixture *fx = *state;
    expect_err(fx, "a: [1, 2\nb: 3\n", TSR_EPARSE, 2, 2,
               "did not find expected ',' or ']' (while parsing a flow sequence started at "
               "line 1, column 4)");
    expect_err(fx, "a: 'abc\n", TSR_EPARSE, 2, 1, "found unexpected end of stream");
    /* libyaml counts characters; columns here are bytes. */
    expect_err(fx, "\xC3\xA9\xC3\xA9: [1,\n\xC3\xA9: x\n", TSR_EPARSE, 3, 1,
               "(while parsing a flow sequence started at line 1, column 7)");
    expect_err(fx, "a: \"\\q\"\n", TSR_EPARSE, 1, 5, "unknown escape");
}

static void test_aliases_are_refused_by_default_but_anchors_are_fine(void **state)
{
    fixture *fx = *state;
    assert_int_equal(parse(fx, "a: &x 1\nb: 2\n"), TSR_OK);
    expect_err(fx, "a: &x 1\nb: *x\n", TSR_ELIMIT, 2, 4, "aliases are not allowed");
}

static void test_allowed_aliases_expand_to_copies(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    const char *text = "base: &b {x: 1, y: [1, 2]}\ncopy: *b\nk: &k name\n*k : 3\n";
    tsr_ynode *base, *copy;

    lim.max_aliases = 5;
    assert_int_equal(parse_lim(fx, text, strlen(text), &lim), TSR_OK);
    base = at(fx->root, "base", NULL);
    copy = at(fx->root, "copy", NULL);
    assert_ptr_not_equal(base, copy);
    assert_int_equal(copy->kind, TSR_Y_MAP);
    assert_ptr_not_equal(at(base, "y", NULL), at(copy, "y", NULL));
    assert_string_equal(at(copy, "y", "#1", NULL)->u.scalar.text, "2");
    assert_string_equal(at(fx->root, "name", NULL)->u.scalar.text, "3");

    text = "a: *nope\n";
    check_err(fx, parse_lim(fx, text, strlen(text), &lim), TSR_EPARSE, 1, 4, "no anchor");
    text = "a: &r [1, *r]\n";
    check_err(fx, parse_lim(fx, text, strlen(text), &lim), TSR_EPARSE, 1, 11,
              "inside the node it names");
    text = "a: &k x\n*k : 2\nx: 3\n";
    check_err(fx, parse_lim(fx, text, strlen(text), &lim), TSR_EPARSE, 3, 1,
              "duplicate key `x`");
    /* An alias used as a key is reported where the alias is. */
    text = "a: &k x\nb: 1\n*k : 2\n*k : 3\n";
    check_err(fx, parse_lim(fx, text, strlen(text), &lim), TSR_EPARSE, 4, 1,
              "duplicate key `x`");
    text = "a: &m [1]\n? *m\n: 2\n";
    check_err(fx, parse_lim(fx, text, strlen(text), &lim), TSR_EPARSE, 2, 3,
              "mapping keys must be scalars, not a sequence");
}

static void test_every_allocation_failure_is_reported_without_leaks(void **state)
{
    char text[2048];
    size_t n, fail_at;
    int i, rc = TSR_ENOMEM;
    tsr_ylimits lim = defaults;

    (void)state;
    /* Anchors and aliases, many collections, and a mapping large enough for
     * the duplicate-key hash table. */
    n = (size_t)snprintf(text, sizeof text, "anchor: &a {x: [1, 2, {y: z}]}\nlist:\n");
    for (i = 0; i < 30; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "  - {id: t%d, k%d: 'v', q: *a}\n", i, i);
    for (i = 0; i < 40; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "big%d: \"x\\ty\"\n", i);
    assert_true(n < sizeof text - 1);
    lim.max_aliases = 30;
    for (fail_at = 1; rc == TSR_ENOMEM; fail_at++) {
        counting c = { .fail_at = fail_at };
        tsr_allocator user = { counting_realloc, &c };
        tsr_alloc a;
        tsr_arena ar;
        tsr_error err;
        tsr_ynode *root = NULL;

        tsr__alloc_init(&a, &user);
        tsr__arena_init(&ar, &a, 256);
        rc = tsr__yaml_parse(&root, text, n, "oom.yaml", &lim, &ar, &err);
        if (rc == TSR_ENOMEM)
            assert_null(root);
        else
            assert_int_equal(rc, TSR_OK);
        tsr__arena_free(&ar);
        assert_int_equal(c.live, 0);
        assert_true(fail_at < 100000);
    }
}

/* =====================================================================
 * Limits, enforced while streaming.
 */
#define DEEP 100000

/* `head`, then `unit` repeated n times, then `tail`; malloc'd. */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
    size_t h = strlen(head), u = strlen(unit), t = strlen(tail), i;
    char *s = malloc(h + u * n + t + 1);

    assert_non_null(s);
    memcpy(s, head, h);
    for (i = 0; i < n; i++)
        memcpy(s + h + i * u, unit, u);
    memcpy(s + h + n * u, tail, t + 1);
    *len = h + u * n + t;
    return s;
}

static void expect_deep_refused(fixture *fx, const char *unit, const char *tail, int line, int col)
{
    size_t len;
    char *text = repeat("", unit, DEEP, tail, &len);
    check_err(fx, parse_lim(fx, text, len, &defaults), TSR_ELIMIT, line, col,
              "nesting deeper than 64");
    free(text);
}

/* ---------------------------------------------------------------------
 * Depth.
 */
static void test_deep_flow_sequences_are_refused_at_level_65(void **state)
{
    expect_deep_refused(*state, "[", "", 1, 65);
}

static void test_closed_deep_flow_sequences_are_refused_too(void **state)
{
    fixture *fx = *state;
    size_t len, i;
    char *text = malloc(2 * DEEP + 2);

    assert_non_null(text);
    for (i = 0; i < DEEP; i++) {
        text[i] = '[';
        text[DEEP + i] = ']';
    }
    text[2 * DEEP] = '\n';
    len = 2 * DEEP + 1;
    check_err(fx, parse_lim(fx, text, len, &defaults), TSR_ELIMIT, 1, 65, "nesting deeper than 64");
    free(text);
}

static void test_deep_flow_mappings_are_refused_at_level_65(void **state)
{
    expect_deep_refused(*state, "{a: ", "", 1, 4 * 64 + 1);
}

static void test_deep_block_sequences_are_refused_at_level_65(void **state)
{
    expect_deep_refused(*state, "- ", "x\n", 1, 2 * 64 + 1);
}

static void test_deep_block_mappings_are_refused_at_level_65(void **state)
{
    fixture *fx = *state;
    /* Indentation grows by one per level: 100,000 levels would be 5 GB of
     * spaces, so this one stops at 1,000 (the limit is crossed at 65). */
    size_t cap = 1000 * 1004, len = 0;
    char *text = malloc(cap);
    int i;

    assert_non_null(text);
    for (i = 0; i < 1000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%*sa:\n", i, "");
    check_err(fx, parse_lim(fx, text, len, &defaults), TSR_ELIMIT, 65, 65, "nesting deeper than 64");
    free(text);
}

static void test_mixed_deep_nesting_is_refused(void **state)
{
    /* Level 65 is the `[` of the 33rd "[{a: ". */
    expect_deep_refused(*state, "[{a: ", "", 1, 5 * 32 + 1);
}

static void test_nesting_at_the_limit_is_accepted(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    char text[256];
    int i;

    for (i = 0; i < 64; i++) {
        text[i] = '[';
        text[64 + i] = ']';
    }
    assert_int_equal(parse_lim(fx, text, 128, &defaults), TSR_OK);
    lim.max_depth = 63;
    check_err(fx, parse_lim(fx, text, 128, &lim), TSR_ELIMIT, 1, 64, "nesting deeper than 63");
}

static void test_aliases_cannot_nest_past_the_limit(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    const char *text = "a: &x [[1]]\nb: [*x]\n";

    lim.max_depth = 3;
    lim.max_aliases = 10;
    check_err(fx, parse_lim(fx, text, strlen(text), &lim), TSR_ELIMIT, 2, 5,
              "nesting deeper than 3");
    lim.max_depth = 4;
    assert_int_equal(parse_lim(fx, text, strlen(text), &lim), TSR_OK);
}

/* ---------------------------------------------------------------------
 * Aliases.
 */
static const char billion_laughs[] =
    "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n";

static void test_billion_laughs_is_refused_when_aliases_are_off(void **state)
{
    fixture *fx = *state;
    check_err(fx, parse_lim(fx, billion_laughs, strlen(billion_laughs), &defaults), TSR_ELIMIT, 2, 8,
              "aliases are not allowed");
}

static void test_billion_laughs_is_refused_with_ten_aliases_allowed(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;

    lim.max_aliases = 10;
    check_err(fx, parse_lim(fx, billion_laughs, strlen(billion_laughs), &lim), TSR_ELIMIT, 3, 11,
              "more than 10 aliases");
}

static void test_billion_laughs_is_refused_by_node_count_with_any_alias_allowance(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;

    /* Every copy counts: level e is 66,430 nodes, so its second copy passes
     * 200,000. */
    lim.max_aliases = 4000000000u;
    check_err(fx, parse_lim(fx, billion_laughs, strlen(billion_laughs), &lim), TSR_ELIMIT, 6, 11,
              "more than 200000 YAML nodes");
}

static void test_ten_aliases_cannot_copy_past_the_node_limit(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t len;
    /* 1,000 scalars doubled by each of five levels of two aliases: 63,127
     * nodes in all, the 20,000th reached by the first copy of d. */
    char *text = repeat("a: &a [", "x,", 999,
                        "x]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: &d [*c, *c]\n"
                        "e: &e [*d, *d]\nf: [*e, *e]\n", &len);

    lim.max_aliases = 10;
    lim.max_nodes = 20000;
    check_err(fx, parse_lim(fx, text, len, &lim), TSR_ELIMIT, 5, 8, "more than 20000 YAML nodes");
    lim.max_nodes = 63127;
    assert_int_equal(parse_lim(fx, text, len, &lim), TSR_OK);
    lim.max_nodes = 63126;
    check_err(fx, parse_lim(fx, text, len, &lim), TSR_ELIMIT, 6, 9, "more than 63126 YAML nodes");
    free(text);
}

/* ---------------------------------------------------------------------
 * Sizes and counts.
 */
static void test_huge_scalar_is_refused_by_the_size_limit(void **state)
{
    fixture *fx = *state;
    size_t len;
    char *text = repeat("a: ", "x", 20u << 20, "\n", &len);

    check_err(fx, parse_lim(fx, text, len, &defaults), TSR_ELIMIT, 0, 0,
              "larger than the limit of 4194304 bytes");
    free(text);
}

static void test_huge_scalar_is_refused_by_the_scalar_limit(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t len;
    char *text = repeat("a: ", "x", 20u << 20, "\n", &len);

    lim.max_size = 32u << 20;
    check_err(fx, parse_lim(fx, text, len, &lim), TSR_ELIMIT, 1, 4,
              "scalar longer than 65536 bytes");
    /* Quoted, and as a key, the same. */
    memcpy(text, "- '", 3);
    text[len - 1] = '\'';
    check_err(fx, parse_lim(fx, text, len, &lim), TSR_ELIMIT, 1, 3, "scalar longer than 65536 bytes");
    free(text);
}

static void test_scalar_at_the_limit_is_accepted(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t len;
    char *text = repeat("a: ", "y", 100, "\n", &len);

    lim.max_scalar = 100;
    assert_int_equal(parse_lim(fx, text, len, &lim), TSR_OK);
    lim.max_scalar = 99;
    check_err(fx, parse_lim(fx, text, len, &lim), TSR_ELIMIT, 1, 4, "scalar longer than 99 bytes");
    free(text);
}

static void test_node_count_limit_counts_every_node(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t len;
    const char *map = "{a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7, h: 8, i: 9, j: 10}";
    /* One sequence and 499 scalars. */
    char *text = repeat("[", "1, ", 498, "1]", &len);

    lim.max_nodes = 500;
    assert_int_equal(parse_lim(fx, text, len, &lim), TSR_OK);
    lim.max_nodes = 499;
    check_err(fx, parse_lim(fx, text, len, &lim), TSR_ELIMIT, 1, 1496, "more than 499 YAML nodes");
    free(text);

    /* Keys count: a mapping of 10 pairs is 21 nodes. */
    lim.max_nodes = 21;
    assert_int_equal(parse_lim(fx, map, strlen(map), &lim), TSR_OK);
    lim.max_nodes = 20;
    check_err(fx, parse_lim(fx, map, strlen(map), &lim), TSR_ELIMIT, 1, 59, "more than 20 YAML nodes");
}

static void test_file_size_limit_is_checked_before_parsing(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    char text[128];

    memset(text, 'z', sizeof text);
    memcpy(text, "a: ", 3);
    lim.max_size = 100;
    assert_int_equal(parse_lim(fx, text, 100, &lim), TSR_OK);
    check_err(fx, parse_lim(fx, text, 101, &lim), TSR_ELIMIT, 0, 0,
              "input of 101 bytes is larger than the limit of 100 bytes");
    /* Even invalid input is refused for its size first. */
    text[50] = '\xff';
    check_err(fx, parse_lim(fx, text, 101, &lim), TSR_ELIMIT, 0, 0, "larger than the limit");
}

/* Wide documents stay linear: libyaml's simple-key bookkeeping and our
 * duplicate-key check both scale. */
static void test_wide_documents_are_accepted(void **state)
{
    fixture *fx = *state;
    tsr_ylimits lim = defaults;
    size_t cap = 100000 * 24, len = 1, i;
    char *text = malloc(cap);

    assert_non_null(text);
    lim.max_nodes = 1000000;
    text[0] = '{';
    for (i = 0; i < 100000; i++)
        len += (size_t)snprintf(text + len, cap - len, "%sk%zu: %zu", i ? ", " : "", i, i);
    text[len++] = '}';
    assert_int_equal(parse_lim(fx, text, len, &lim), TSR_OK);
    assert_int_equal(fx->root->u.map.len, 100000);
    assert_string_equal(tsr__ymap_get(fx->root, "k99999")->u.scalar.text, "99999");

    /* The same with one key repeated at the very end. */
    len--;
    len += (size_t)snprintf(text + len, cap - len, ", k77: again}");
    check_err(fx, parse_lim(fx, text, len, &lim), TSR_EPARSE, 1, (int)(len - 10),
              "duplicate key `k77` (first at line 1)");
    free(text);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mappings_sequences_and_scalars_keep_their_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_raw_points_at_the_scalar_as_written, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ymap_get_finds_keys_by_content, setup, teardown),
        cmocka_unit_test_setup_teardown(test_is_null_and_is_plain_follow_the_core_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_plain_scalar_maps_offsets_to_columns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiline_plain_scalar_folds_and_maps_each_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_single_quoted_scalar_maps_past_doubled_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_double_quoted_scalar_maps_past_escapes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_literal_block_scalar_maps_lines_and_indentation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_folded_block_scalar_maps_folded_lines, setup, teardown),
        cmocka_unit_test_setup_teardown(test_positions_count_bytes_and_survive_crlf_and_bom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rescan_reproduces_every_style, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_name_the_key_and_the_first_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_are_found_in_large_mappings, setup, teardown),
        cmocka_unit_test_setup_teardown(test_keys_must_be_scalars, setup, teardown),
        cmocka_unit_test_setup_teardown(test_merge_keys_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_a_second_document_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_documents_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_custom_tags_are_refused_with_the_tag, setup, teardown),
        cmocka_unit_test_setup_teardown(test_core_schema_tags_are_accepted_and_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8_is_refused_where_it_is, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nul_bytes_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_control_characters_are_refused_with_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_syntax_errors_carry_libyaml_problem_at_our_position, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aliases_are_refused_by_default_but_anchors_are_fine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_allowed_aliases_expand_to_copies, setup, teardown),
        cmocka_unit_test(test_every_allocation_failure_is_reported_without_leaks),
        cmocka_unit_test_setup_teardown(test_deep_flow_sequences_are_refused_at_level_65, setup, teardown),
        cmocka_unit_test_setup_teardown(test_closed_deep_flow_sequences_are_refused_too, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_flow_mappings_are_refused_at_level_65, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_block_sequences_are_refused_at_level_65, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_block_mappings_are_refused_at_level_65, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mixed_deep_nesting_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nesting_at_the_limit_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aliases_cannot_nest_past_the_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_billion_laughs_is_refused_when_aliases_are_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_billion_laughs_is_refused_with_ten_aliases_allowed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_billion_laughs_is_refused_by_node_count_with_any_alias_allowance, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ten_aliases_cannot_copy_past_the_node_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_scalar_is_refused_by_the_size_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_huge_scalar_is_refused_by_the_scalar_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalar_at_the_limit_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_node_count_limit_counts_every_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_size_limit_is_checked_before_parsing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wide_documents_are_accepted, setup, teardown),
    };
    /* `test_x NAME` runs the cases NAME matches (a * wildcard) alone */
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
