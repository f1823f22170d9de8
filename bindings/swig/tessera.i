/*
 * tessera.i — the one SWIG interface behind every Tessera binding.
 *
 * It wraps a deliberately small surface: an opaque rule-set handle whose
 * methods call the C library's text entry points (load a rule file or a
 * string, evaluate order JSON, refund a request) and hand the result JSON
 * back as a host string.  No result object outlives the call that made it,
 * so the host's garbage collector may free rule sets and results in any
 * order.  Each language's idiomatic layer (bindings/python/tessera/,
 * bindings/php/src/) turns dicts / arrays into JSON and back; no rule
 * semantics live anywhere but in the C library.
 *
 * Every tsr_error becomes an exception whose class comes from the one table
 * below.  The per-language files (python/tessera_python.i,
 * php/tessera_php.i, found through -I) only create those classes in the host
 * language, raise them, and convert text in (`const char *text, size_t len`:
 * a host string, not copied) and out (tsrb_text); everything else is here.
 *
 * Build (bindings/python/CMakeLists.txt, setup.py, bindings/php/CMakeLists.txt):
 *   swig -python -module _native -interface _tessera -Iinclude -Ibindings/python ...
 *       -> tessera/_native.py (proxy) + the C of tessera/_tessera.*.so
 *   swig -php7 -prefix Tessera -Iinclude -Ibindings/php ...
 *       -> tessera.so with the class TesseraNativeRuleSet
 */
%module tessera

%{
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "tessera.h"
%}

/* ---------------------------------------------------------------------
 * Error classes: the one table.  Index 0 is the base of all the others.
 * A host creates them in this order (a base always comes before its
 * subclasses) under its own namespace: tessera.RuleError in Python,
 * Tessera\RuleError in PHP.
 */
%{
typedef enum tsrb_class {
    TSRB_ERROR = 0,
    TSRB_RULE_ERROR,
    TSRB_ORDER_ERROR,
    TSRB_EVALUATION_ERROR,
    TSRB_RECEIPT_ERROR,
    TSRB_CLASS_COUNT
} tsrb_class;

typedef struct tsrb_class_info {
    const char *name;    /* class name inside the host's tessera namespace */
    int base;            /* index of the base class; -1: the host's own base */
    const char *doc;
} tsrb_class_info;

static const tsrb_class_info tsrb_classes[TSRB_CLASS_COUNT] = {
    { "Error", -1,
      "Base class of every Tessera error.  Raised as itself for what is neither "
      "the rule file's nor the order's fault: out of memory, an invalid argument." },
    { "RuleError", TSRB_ERROR,
      "A rule file (or a file it includes) could not be loaded: bad YAML, a broken "
      "rule, an expression that does not type-check, a failed include.  file, line "
      "and column say where." },
    { "OrderError", TSRB_ERROR,
      "An order or refund request is invalid: malformed JSON, a wrong type, a "
      "duplicate line id, a price finer than the currency.  path says where, e.g. "
      "items[1].id." },
    { "EvaluationError", TSRB_ERROR,
      "A valid order could not be evaluated against the rule set (an arithmetic "
      "overflow, a regular-expression limit)." },
    { "ReceiptError", TSRB_ORDER_ERROR,
      "A refund's receipt does not match its order and rule set (another rule set "
      "or version, other line ids, amounts that differ).  path says where, e.g. "
      "receipt.lines[0].total." },
};

/* What a call was doing decides what a status code means: TSR_EPARSE while
 * loading is a broken rule file, while evaluating a malformed order. */
typedef enum tsrb_context { TSRB_LOADING = 0, TSRB_EVALUATING = 1 } tsrb_context;

static const struct tsrb_code_class {
    int code;
    tsrb_class when[2];     /* [TSRB_LOADING], [TSRB_EVALUATING] */
} tsrb_codes[] = {
    /* code            loading                evaluating */
    { TSR_ENOMEM,   { TSRB_ERROR,           TSRB_ERROR } },
    { TSR_EIO,      { TSRB_RULE_ERROR,      TSRB_ERROR } },
    { TSR_EPARSE,   { TSRB_RULE_ERROR,      TSRB_ORDER_ERROR } },
    { TSR_ESCHEMA,  { TSRB_RULE_ERROR,      TSRB_ORDER_ERROR } },
    { TSR_ETYPE,    { TSRB_RULE_ERROR,      TSRB_ORDER_ERROR } },
    { TSR_ENAME,    { TSRB_RULE_ERROR,      TSRB_ORDER_ERROR } },
    { TSR_EORDER,   { TSRB_ORDER_ERROR,     TSRB_ORDER_ERROR } },
    { TSR_ELIMIT,   { TSRB_RULE_ERROR,      TSRB_ORDER_ERROR } },
    { TSR_EVALUE,   { TSRB_RULE_ERROR,      TSRB_ORDER_ERROR } },
    { TSR_EINVAL,   { TSRB_ERROR,           TSRB_ERROR } },
    { TSR_EEVAL,    { TSRB_EVALUATION_ERROR, TSRB_EVALUATION_ERROR } },
    { TSR_EINCLUDE, { TSRB_RULE_ERROR,      TSRB_RULE_ERROR } },
    { TSR_ERECEIPT, { TSRB_RECEIPT_ERROR,   TSRB_RECEIPT_ERROR } },
};

static tsrb_class tsrb_class_of(int code, tsrb_context ctx)
{
    size_t i;
    for (i = 0; i < sizeof tsrb_codes / sizeof tsrb_codes[0]; i++)
        if (tsrb_codes[i].code == code)
            return tsrb_codes[i].when[ctx];
    return TSRB_ERROR;   /* a code newer than this table */
}

/* A failed call that left err without a code (it should not happen) still
 * raises, with the status it returned. */
static void tsrb_settle(tsr_error *err, int rc)
{
    if (rc != TSR_OK && err->code == TSR_OK) {
        err->code = rc;
        strncpy(err->message, tsr_strerror(rc), sizeof err->message - 1);
        err->message[sizeof err->message - 1] = '\0';
    }
}

/* A result handed back as text: the host copies `text` into its own string
 * and then `release(owner)` frees what it was borrowed from. */
typedef struct tsrb_text {
    const char *text;        /* NULL: nothing (the call failed) */
    size_t len;
    void *owner;
    void (*release)(void *owner);
} tsrb_text;

/* Results kept for the next evaluate_json (tsr_evaluate_text_into): with
 * the rule set's own spare orders, a call allocates nothing in steady
 * state.  A few slots shared by every thread and rule set, taken and
 * filled by atomic exchange: a host thread that ends leaves nothing behind,
 * and no destructor runs at exit or when the module is unloaded (what the
 * slots hold then is a few results of reachable memory).  A result may
 * outlive the rule set it came from only to be evaluated into again or
 * freed, which the library allows. */
#define TSRB_SPARE_RESULTS 8
/* a result of a very large order is not kept */
#define TSRB_KEEP_MAX_LINES 1000
static _Atomic(tsr_result *) tsrb_spare_results[TSRB_SPARE_RESULTS];

static tsr_result *tsrb_take_result(void)
{
    size_t i;
    for (i = 0; i < TSRB_SPARE_RESULTS; i++) {
        tsr_result *r;
        if (atomic_load_explicit(&tsrb_spare_results[i], memory_order_relaxed) &&
            (r = atomic_exchange_explicit(&tsrb_spare_results[i], NULL, memory_order_acquire)))
            return r;
    }
    return NULL;
}

static void tsrb_release_result(void *owner)
{
    tsr_result *r = (tsr_result *)owner;
    size_t i;

    if (tsr_result_line_count(r) <= TSRB_KEEP_MAX_LINES) {
        for (i = 0; i < TSRB_SPARE_RESULTS; i++) {
            tsr_result *empty = NULL;
            if (atomic_compare_exchange_strong_explicit(&tsrb_spare_results[i], &empty, r,
                                                        memory_order_release,
                                                        memory_order_relaxed))
                return;
        }
    }
    tsr_result_free(r);
}

static void tsrb_release_refund(void *owner)
{
    tsr_refund_result_free((tsr_refund_result *)owner);
}

%}

/* Per language: host exception classes, tsrb_raise(), text in and out. */
#if defined(SWIGPYTHON)
%include "tessera_python.i"
#elif defined(SWIGPHP)
%include "tessera_php.i"
#else
#error "tessera.i: no binding for this language"
#endif

%{
/* The GIL (Python) is dropped around the work in C: a rule set is immutable
 * and may be used by any number of threads at once.  No-ops elsewhere. */
#ifndef TSRB_BEGIN_C
#  define TSRB_BEGIN_C
#  define TSRB_END_C
#endif
%}

/* ---------------------------------------------------------------------
 * Errors: every wrapped function that can fail takes a trailing
 * `tsr_error *load_err` (failures mean a rule file) or `tsr_error *order_err`
 * (failures mean the order or request), hidden from the host; when the call
 * fails the exception is raised before anything is returned.
 */
%typemap(in, numinputs=0) tsr_error *load_err (tsr_error temp),
                          tsr_error *order_err (tsr_error temp) {
    memset(&temp, 0, sizeof temp);
    $1 = &temp;
}
%typemap(argout) tsr_error *load_err {
    if ($1->code != TSR_OK) {
        tsrb_raise($1, TSRB_LOADING);
        SWIG_fail;
    }
}
%typemap(argout) tsr_error *order_err {
    if ($1->code != TSR_OK) {
        tsrb_raise($1, TSRB_EVALUATING);
        SWIG_fail;
    }
}

/* ---------------------------------------------------------------------
 * The rule set.  Created only by the static loaders (the host owns what
 * they return: %newobject), freed by the host's collector through the
 * destructor.  Immutable once loaded.
 */
%{
/* The handle's C name differs from the library's type so that the methods
 * SWIG generates (tsrb_ruleset_load_file, ...) do not collide with the
 * library's own functions. */
typedef struct tsr_ruleset tsrb_ruleset;
%}
%rename(NativeRuleSet) tsrb_ruleset;
%nodefaultdtor tsrb_ruleset;
%newobject tsrb_ruleset::load_file;
%newobject tsrb_ruleset::load_string;

/* A handle made without a loader holds no rule set: `new` / NativeRuleSet()
 * is refused by the constructor below, and any other handle without one
 * raises here instead of reaching C with NULL.  (SWIG's PHP backend runs no
 * check typemap on $this; there the constructor refuses, and the C functions
 * are NULL-safe anyway.) */
%typemap(check) tsrb_ruleset *self {
    if (!$1) {
        tsr_error e;
        memset(&e, 0, sizeof e);
        e.code = TSR_EINVAL;
        strcpy(e.message, "no rule set: create one with load_file or load_string");
        tsrb_raise(&e, TSRB_LOADING);
        SWIG_fail;
    }
}

/* `allow`: directories `include:` may read from besides the rule file's own
 * tree (tsr_load_options.allow_paths), NUL-separated, allow_len bytes in
 * all (0: none).  Loads with the library's defaults otherwise. */
%apply (const char *text, size_t len) { (const char *allow, size_t allow_len) };
%{
static int tsrb_load(tsr_ruleset **rs, const char *path, const char *text, size_t len,
                     const char *name, const char *allow, size_t allow_len, tsr_error *err)
{
    tsr_load_options opts;
    char *copy = NULL;
    const char **dirs = NULL;
    size_t n = 0, i;
    int rc;

    tsr_load_options_init(&opts, TSR_LOAD_OPTIONS_VERSION);
    if (allow_len > 0) {
        copy = malloc(allow_len + 1);
        dirs = malloc((allow_len / 2 + 2) * sizeof *dirs);
        if (!copy || !dirs) {
            free(copy);
            free(dirs);
            err->code = TSR_ENOMEM;
            strcpy(err->message, "out of memory");
            return TSR_ENOMEM;
        }
        memcpy(copy, allow, allow_len);
        copy[allow_len] = '\0';
        for (i = 0; i < allow_len; i += strlen(copy + i) + 1)
            if (copy[i] != '\0')
                dirs[n++] = copy + i;
        dirs[n] = NULL;
        opts.allow_paths = dirs;
    }
    rc = path ? tsr_ruleset_load_file(rs, path, &opts, err)
              : tsr_ruleset_load_string(rs, text, len, name, &opts, err);
    free(dirs);
    free(copy);
    return rc;
}
%}

typedef struct {} tsrb_ruleset;

%extend tsrb_ruleset {
    /* Not constructible: use load_file or load_string. */
    tsrb_ruleset(tsr_error *load_err) {
        load_err->code = TSR_EINVAL;
        strcpy(load_err->message, "use NativeRuleSet::load_file or load_string to make a rule set");
        return NULL;
    }

    /* Load, resolve and type-check a rule file and its includes. */
    static tsrb_ruleset *load_file(const char *path, const char *allow, size_t allow_len,
                                  tsr_error *load_err) {
        tsr_ruleset *rs = NULL;
        tsrb_settle(load_err, tsrb_load(&rs, path, NULL, 0, NULL, allow, allow_len, load_err));
        return rs;
    }

    /* Load from text; `name` (may be null) is used in error messages and as
     * the base for relative includes. */
    static tsrb_ruleset *load_string(const char *text, size_t len, const char *name,
                                    const char *allow, size_t allow_len, tsr_error *load_err) {
        tsr_ruleset *rs = NULL;
        tsrb_settle(load_err, tsrb_load(&rs, NULL, text, len, name, allow, allow_len,
                                        load_err));
        return rs;
    }

    ~tsrb_ruleset() {
        tsr_ruleset_free($self);
    }

    const char *id() { return tsr_ruleset_id($self); }
    const char *version() { return tsr_ruleset_version($self); }
    const char *currency() { return tsr_ruleset_currency($self); }

    /* Evaluate an order given as JSON (or YAML) text; returns the result
     * JSON of SPEC §6, byte for byte what `tessera eval` prints. */
    tsrb_text evaluate_json(const char *text, size_t len, int customer_safe, int no_trace,
                            tsr_error *order_err) {
        tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
        tsr_result *res = NULL;
        tsrb_text out = { NULL, 0, NULL, NULL };
        int rc;

        opts.customer_safe = customer_safe;
        opts.no_trace = no_trace;
        TSRB_BEGIN_C
        res = tsrb_take_result();
        rc = tsr_evaluate_text_into(&res, $self, text, len, &opts, order_err);
        if (rc == TSR_OK && !(out.text = tsr_result_json(res, &out.len)))
            rc = TSR_ENOMEM;
        TSRB_END_C
        tsrb_settle(order_err, rc);
        if (rc != TSR_OK) {
            tsr_result_free(res);
            out.text = NULL;
            return out;
        }
        out.owner = res;
        out.release = tsrb_release_result;
        return out;
    }

    /* Refund lines of an evaluated order, from a request given as JSON:
     * {"order", "receipt", "lines", "datetime", "previous"?}; returns the
     * refund JSON (what `tessera refund` prints). */
    tsrb_text refund_json(const char *text, size_t len, tsr_error *order_err) {
        tsr_refund_result *res = NULL;
        tsrb_text out = { NULL, 0, NULL, NULL };
        int rc;

        TSRB_BEGIN_C
        rc = tsr_refund(&res, $self, text, len, order_err);
        if (rc == TSR_OK && !(out.text = tsr_refund_result_json(res, &out.len)))
            rc = TSR_ENOMEM;
        TSRB_END_C
        tsrb_settle(order_err, rc);
        if (rc != TSR_OK) {
            tsr_refund_result_free(res);
            out.text = NULL;
            return out;
        }
        out.owner = res;
        out.release = tsrb_release_refund;
        return out;
    }

    /* The version of the C library the binding runs on (tsr_version()). */
    static const char *library_version() { return tsr_version(); }
}

/* ---------------------------------------------------------------------
 * A comparison of two rule sets over many orders (tsr_diff: what `tessera
 * diff` reports), for batch engines (Python's tessera.batch).  It borrows
 * its two rule sets: the idiomatic layer keeps them referenced for as long
 * as the comparison lives.  Failures raise like an order's do (a state of
 * another comparison is TSR_EINVAL: tessera.Error).  Python only: PHP has no
 * batch layer, and a bare handle there could outlive its rule sets.
 */
#if defined(SWIGPYTHON)
%{
typedef struct tsr_diff tsrb_diff;

static void tsrb_release_nothing(void *owner)
{
    (void)owner;
}
%}
%rename(NativeDiff) tsrb_diff;
%nodefaultdtor tsrb_diff;

typedef struct {} tsrb_diff;

%extend tsrb_diff {
    /* Compare `old_rs` and `new_rs`, keeping the `top` orders that moved most. */
    tsrb_diff(tsrb_ruleset *old_rs, tsrb_ruleset *new_rs, size_t top, tsr_error *order_err) {
        tsr_diff *d = NULL;
        tsrb_settle(order_err, tsr_diff_new(&d, old_rs, new_rs, top, order_err));
        return d;
    }

    ~tsrb_diff() {
        tsr_diff_free($self);
    }

    /* The next input line (without its newline). */
    void add_line(const char *text, size_t len, tsr_error *order_err) {
        tsrb_settle(order_err, tsr_diff_add_line($self, text, len, order_err));
    }

    /* The comparison so far, as the library's state JSON. */
    tsrb_text state_json(tsr_error *order_err) {
        tsrb_text out = { NULL, 0, NULL, tsrb_release_nothing };
        if (!(out.text = tsr_diff_state_json($self, &out.len)))
            tsrb_settle(order_err, TSR_ENOMEM);
        return out;
    }

    /* Add a state of another part of the input (which follows what this
     * comparison has seen). */
    void merge_json(const char *text, size_t len, tsr_error *order_err) {
        tsrb_settle(order_err, tsr_diff_merge_json($self, text, len, order_err));
    }

    /* The report: format 0 text (`tessera diff`), 1 JSON (`--json`). */
    tsrb_text report(int format, const char *old_name, const char *new_name, tsr_error *order_err) {
        tsrb_text out = { NULL, 0, NULL, tsrb_release_nothing };
        if (format != TSR_DIFF_TEXT && format != TSR_DIFF_JSON)
            tsrb_settle(order_err, TSR_EINVAL);
        else if (!(out.text = tsr_diff_report($self, format, old_name, new_name, &out.len)))
            tsrb_settle(order_err, TSR_ENOMEM);
        return out;
    }
}
#endif
