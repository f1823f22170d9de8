/*
 * ruletest.c — running rule tests (SPEC §7): a YAML file of cases, each an
 * order and a partial expectation of its result, run against the rule file
 * the test file names.  `tessera test` is a thin layer over this, and so
 * can every binding be.  The passes and the report have a file each
 * (ruletest.h).
 *
 * A run has two passes: the first checks the whole test file
 * (ruletest_check.c), the second evaluates each case and compares what it
 * writes (ruletest_compare.c); the report counts coverage
 * (ruletest_report.c).
 *
 * Test files may use YAML anchors and aliases (to share an order between
 * cases) even though rule files may not: they are written by the same
 * people who run them, and the node limit still bounds what aliases expand to.
 */
#include "ruletest.h"

#include <errno.h>
#include <limits.h>

#define TEST_MAX_ALIASES 1000u

/* ---------------------------------------------------------------------
 * Running cases.
 */
/* The order of a case, read and evaluated; *res NULL with `oerr` filled
 * when it was rejected. */
static int evaluate_case(runner *R, const tsr_ynode *order, tsr_result **res, tsr_error *oerr)
{
    static const tsr_eval_options opts = TSR_EVAL_OPTIONS_INIT;
    int rc;

    *res = NULL;
    tsr_order_reset(R->order);
    rc = tsr__order_read_ynode(R->order, order, oerr);
    if (rc == TSR_OK)
        rc = tsr__order_finish(R->order, oerr);
    if (rc == TSR_OK)
        rc = tsr_evaluate(res, R->rs, R->order, &opts, oerr);
    /* out of memory is the run's failure, not the case's */
    return rc == TSR_ENOMEM ? TSR_ENOMEM : TSR_OK;
}

static int run_case(runner *R, const tsr_ynode *c, test_case *tc)
{
    const tsr_ynode *expect = tsr__ymap_get(c, "expect");
    const tsr_ynode *want_error = expect ? tsr__ymap_get(expect, "error") : NULL;
    tsr_result *res = NULL;
    tsr_error oerr;
    int rc;

    R->diff.len = 0;
    if (R->diff.data)
        R->diff.data[0] = '\0';
    tc->name = tsr__arena_strndup(&R->rep->arena, tsr__ytext(tsr__ymap_get(c, "name")),
                                  tsr__ymap_get(c, "name")->u.scalar.len);
    tc->line = c->line;
    if (!tc->name)
        return TSR_ENOMEM;
    tsr__error_clear(&oerr);
    if ((rc = evaluate_case(R, tsr__ymap_get(c, "order"), &res, &oerr)) != TSR_OK)
        return rc;
    tsr__ruletest_compare_error(R, want_error, res, &oerr);
    if (res) {
        const tsr_ynode *refund = tsr__ymap_get(c, "refund");
        tsr__ruletest_compare_result(R, expect, res);
        tsr__ruletest_cover(R, res);
        /* a refund: case refunds with the receipt just produced (SPEC §7) */
        rc = refund ? tsr__ruletest_refund_case(R->rs, R->order, res, refund,
                                                expect ? tsr__ymap_get(expect, "refund") : NULL,
                                                &R->diff)
                    : TSR_OK;
        tsr_result_free(res);
        if (rc != TSR_OK)
            return rc;
    }
    if (R->diff.failed)
        return TSR_ENOMEM;
    tc->passed = R->diff.len == 0;
    tc->diff = tsr__arena_strndup(&R->rep->arena, R->diff.data ? R->diff.data : "", R->diff.len);
    return tc->diff ? TSR_OK : TSR_ENOMEM;
}

/* ---------------------------------------------------------------------
 * The test file.
 */

/* `rules:` relative to the directory of the test file. */
static char *rules_path(tsr_arena *ar, const char *test_name, const char *rules)
{
    const char *slash = test_name ? strrchr(test_name, '/') : NULL;
    size_t dir, n;
    char *p;

    if (rules[0] == '/' || !slash)
        return tsr__arena_strndup(ar, rules, strlen(rules));
    dir = (size_t)(slash - test_name) + 1;
    n = strlen(rules);
    p = tsr__arena_alloc(ar, dir + n + 1);
    if (!p)
        return NULL;
    memcpy(p, test_name, dir);
    memcpy(p + dir, rules, n + 1);
    return p;
}

/* The YAML limits of the test file: the rule file's, but with aliases
 * (test files share orders through anchors). */
static void test_limits(tsr_ylimits *lim, const tsr_load_options *eff)
{
    lim->max_size = eff->max_file_size;
    lim->max_depth = eff->max_depth;
    lim->max_scalar = eff->max_scalar_length;
    lim->max_nodes = eff->max_nodes;
    lim->max_aliases = TEST_MAX_ALIASES;
}

/* `rules:` must lead into the test file's directory tree (or an allowed
 * one), as a rule file's `include:` must: a test file cannot make the
 * runner read, and echo in its errors, any file the process may read. */
static int check_rules_path(runner *R, const tsr_ynode *rules, const char *path,
                            const tsr_load_options *eff)
{
    char real[PATH_MAX];

    if (tsr__path_allowed(R->at.file, path, eff->allow_paths, real) != TSR_EINCLUDE)
        return TSR_OK;   /* inside, or not there: loading it says so */
    tsr__err_at(R->at.err, TSR_EINCLUDE, R->at.file, rules->line, rules->col,
                "`rules: %s` is outside the directory of the test file (the load option "
                "allow_paths, or tessera --allow-path DIR, allows more)", rules->u.scalar.text);
    return TSR_EINCLUDE;
}

static int run_cases(runner *R, const tsr_ynode *cases)
{
    tsr_test_report *rep = R->rep;
    size_t i;
    int rc;

    if ((rc = tsr_order_new(&R->order, R->rs, R->at.err)) != TSR_OK)
        return rc;
    if ((rc = tsr__ruletest_collect_rules(R)) != TSR_OK)
        return rc;
    rep->cases = tsr__arena_calloc(&rep->arena, cases->u.seq.len + 1, sizeof *rep->cases);
    if (!rep->cases)
        return TSR_ENOMEM;
    for (i = 0; i < cases->u.seq.len; i++) {
        test_case *tc = &rep->cases[rep->ncases++];
        if ((rc = run_case(R, cases->u.seq.items[i], tc)) != TSR_OK)
            return rc;
        if (tc->passed)
            rep->passed++;
        else
            rep->failed++;
    }
    return tsr__ruletest_finish(R);
}

/* Parse, check and run; everything the run allocates beyond the report is
 * released by the caller through R. */
static int run(runner *R, const char *text, size_t len, const tsr_load_options *opts,
               tsr_ruleset **rs, tsr_arena *tmp)
{
    const tsr_ynode *root, *rules = NULL, *cases = NULL;
    tsr_ynode *parsed = NULL;
    tsr_load_options eff;
    tsr_ylimits lim;
    const char *path;
    size_t i;
    int rc;

    if ((rc = tsr__load_options_effective(&eff, opts, R->at.err)) != TSR_OK)
        return rc;
    test_limits(&lim, &eff);
    if ((rc = tsr__yaml_parse(&parsed, text, len, R->at.file, &lim, tmp, R->at.err)) != TSR_OK)
        return rc;
    root = parsed;
    if ((rc = tsr__ruletest_check_top(R, root, &rules, &cases)) != TSR_OK)
        return rc;
    R->rules_file = tsr__arena_strndup(&R->rep->arena, rules->u.scalar.text, rules->u.scalar.len);
    path = rules_path(tmp, R->at.file, rules->u.scalar.text);
    if (!R->rules_file || !path)
        return TSR_ENOMEM;
    if ((rc = check_rules_path(R, rules, path, &eff)) != TSR_OK ||
        (rc = tsr_ruleset_load_file(rs, path, opts, R->at.err)) != TSR_OK)
        return rc;
    R->rs = *rs;
    for (i = 0; i < cases->u.seq.len; i++)
        if ((rc = tsr__ruletest_check_case(R, cases->u.seq.items[i], i)) != TSR_OK)
            return rc;
    return run_cases(R, cases);
}

int tsr_test_run_string(tsr_test_report **out, const char *text, size_t len, const char *name,
                        const tsr_load_options *opts, tsr_error *err)
{
    tsr_test_report *rep = NULL;
    tsr_ruleset *rs = NULL;
    tsr_arena tmp;
    runner R;
    int rc;

    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_test_run_string: `out` is NULL");
    *out = NULL;
    if (!text && len)
        return tsr__err(err, TSR_EINVAL, "tsr_test_run_string: `text` is NULL");
    if (!name)
        name = "<string>";
    if ((rc = tsr__ruletest_new_report(&rep, opts, name)) != TSR_OK)
        return tsr__err(err, rc, "out of memory");

    memset(&R, 0, sizeof R);
    R.rep = rep;
    R.at.file = rep->file;
    R.at.err = err;
    tsr__buf_init(&R.diff, &rep->alloc);
    tsr__arena_init(&tmp, &rep->alloc, 16384);

    rc = run(&R, text ? text : "", len, opts, &rs, &tmp);

    tsr_order_free(R.order);
    tsr_ruleset_free(rs);
    tsr__buf_free(&R.diff);
    tsr__arena_free(&tmp);
    if (rc != TSR_OK) {
        if (rc == TSR_ENOMEM)
            tsr__err(err, TSR_ENOMEM, "out of memory");
        tsr_test_report_free(rep);
        return rc;
    }
    *out = rep;
    return TSR_OK;
}

/* The whole file, at most `max` bytes, into a buffer of *cap bytes that the
 * caller frees. */
static int read_file(const tsr_alloc *alloc, const char *path, size_t max, char **out,
                     size_t *len, size_t *cap, tsr_error *err)
{
    FILE *f = fopen(path, "rb");
    size_t n = 0;
    char *buf = NULL;
    int rc = TSR_OK;

    *cap = 0;
    if (!f)
        return tsr__err_at(err, TSR_EIO, path, 0, 0, "cannot open the test file: %s",
                           strerror(errno));
    for (;;) {
        void *p = buf;
        size_t nread;
        if (tsr__grow(alloc, &p, cap, n + 65536 + 1, 1) != TSR_OK) {
            rc = tsr__err(err, TSR_ENOMEM, "out of memory");
            break;
        }
        buf = p;
        nread = fread(buf + n, 1, *cap - n - 1, f);
        n += nread;
        if (n > max) {
            rc = tsr__err_at(err, TSR_ELIMIT, path, 0, 0,
                             "the test file is larger than the limit of %zu bytes", max);
            break;
        }
        if (nread == 0)
            break;
    }
    if (rc == TSR_OK && ferror(f))
        rc = tsr__err_at(err, TSR_EIO, path, 0, 0, "cannot read the test file: %s",
                         strerror(errno));
    fclose(f);
    if (rc != TSR_OK) {
        tsr__free(alloc, buf, *cap);
        return rc;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return TSR_OK;
}

int tsr_test_run_file(tsr_test_report **out, const char *path, const tsr_load_options *opts,
                      tsr_error *err)
{
    static const tsr_load_options defaults = TSR_LOAD_OPTIONS_INIT;
    tsr_alloc alloc;
    size_t cap = 0, len = 0, max;
    char *text = NULL;
    int rc;

    tsr__error_clear(err);
    if (!out)
        return tsr__err(err, TSR_EINVAL, "tsr_test_run_file: `out` is NULL");
    *out = NULL;
    if (!path)
        return tsr__err(err, TSR_EINVAL, "tsr_test_run_file: `path` is NULL");
    tsr__alloc_init(&alloc, opts && opts->version >= 1 ? opts->allocator : NULL);
    max = opts && opts->version >= 1 && opts->max_file_size ? opts->max_file_size
                                                            : defaults.max_file_size;
    if ((rc = read_file(&alloc, path, max, &text, &len, &cap, err)) != TSR_OK)
        return rc;
    rc = tsr_test_run_string(out, text, len, path, opts, err);
    tsr__free(&alloc, text, cap);
    return rc;
}
