/*
 * fuzz_ruletest.c — libFuzzer harness for rule tests (SPEC §7, ruletest.c):
 * the test-file reader and its checks, expectations of every kind (lines,
 * totals, points, promo codes, applied / not_applied, segments, offers, tier,
 * error, refund), the `refund:` form, the diffs, coverage and report texts.
 *
 * Each input is a test file, run by tsr_test_run_string.  Its `rules:` is read
 * from disk, relative to the test file's name, so on the first input the
 * harness writes its fixed rule files into a fresh temporary directory
 * (mkdtemp) and names every input "<dir>/fuzz.test.yaml":
 *   park.yaml    tests/rules/refunds/park.yaml   (refund_rules.h)
 *   opera.yaml   tests/rules/refunds/opera.yaml  (refund_rules.h)
 *   island.yaml  the shared park scenario        (park_rules.h)
 * The directory is removed at exit.  Includes are refused as in the other
 * harnesses.
 *
 * Inputs that could name a file outside that directory which blocks or is
 * not ours to read (a `rules:` under /dev, /proc or /sys, a terminal, a
 * line-continued double-quoted scalar that might build such a path) are
 * skipped: the fuzzer must not wait on a device.  Ordinary absolute and ../
 * paths to regular files stay: they exercise the "cannot read / does not
 * load" paths.
 *
 * Checked: no crash, no sanitizer report, no leak, no hang; a refused test
 * file carries a well-formed error and leaves *out NULL; a report's counts
 * agree (passed + failed = cases, uncovered <= rules) and every string it
 * hands out is a terminated string.
 */
#include <stdlib.h>
#include <unistd.h>

#include "fuzz_common.h"
#include "park_rules.h"
#include "refund_rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char test_name[128];

static const char *const rule_files[] = { "park.yaml", "opera.yaml", "island.yaml" };

static void remove_dir(void)
{
    char path[128];
    size_t i;

    if (!dir[0])
        return;
    for (i = 0; i < sizeof rule_files / sizeof rule_files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, rule_files[i]);
        remove(path);
    }
    rmdir(dir);
    dir[0] = '\0';
}

static void write_rules(const char *name, const char *text, size_t len)
{
    char path[128];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(text, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "fuzz_ruletest: cannot write %s\n", path);
        abort();
    }
}

static const char *setup(void)
{
    const char *tmp;

    if (dir[0])
        return test_name;
    tmp = getenv("TMPDIR");
    if (!tmp || !*tmp || strlen(tmp) > 40)
        tmp = "/tmp";
    snprintf(dir, sizeof dir, "%s/tsr-fuzz-XXXXXX", tmp);
    if (!mkdtemp(dir)) {
        fprintf(stderr, "fuzz_ruletest: mkdtemp %s failed\n", dir);
        abort();
    }
    atexit(remove_dir);
    write_rules(rule_files[0], refund_park_rules, sizeof refund_park_rules - 1);
    write_rules(rule_files[1], refund_opera_rules, sizeof refund_opera_rules - 1);
    write_rules(rule_files[2], park_rules, sizeof park_rules - 1);
    snprintf(test_name, sizeof test_name, "%s/fuzz.test.yaml", dir);
    return test_name;
}

static int contains(const uint8_t *data, size_t size, const char *needle)
{
    size_t n = strlen(needle), i;

    for (i = 0; i + n <= size; i++)
        if (memcmp(data + i, needle, n) == 0)
            return 1;
    return 0;
}

/* See the header comment: paths that could block, or a scalar that could
 * spell one through escapes. */
static int may_reach_a_device(const uint8_t *data, size_t size)
{
    static const char *const bad[] = { "/dev", "/proc", "/sys", "/run", "tty", "fd/",
                                       "\\\n", "\\\r", "\\x", "\\u", "\\U" };
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (contains(data, size, bad[i]))
            return 1;
    return 0;
}

static void touch(const char *s, const char *what)
{
    if (!s)
        fuzz_die(what, 0, 0);
    (void)strlen(s);
}

static void read_report(const tsr_test_report *r)
{
    size_t i, n = tsr_test_report_case_count(r), u = tsr_test_report_uncovered_count(r);

    if (tsr_test_report_passed(r) + tsr_test_report_failed(r) != n)
        fuzz_die("passed + failed != cases", tsr_test_report_passed(r) + tsr_test_report_failed(r),
                 n);
    for (i = 0; i < n; i++) {
        const char *diff = tsr_test_report_case_diff(r, i);
        touch(tsr_test_report_case_name(r, i), "case without a name");
        touch(diff, "case without a diff");
        if (tsr_test_report_case_passed(r, i) != (diff[0] == '\0'))
            fuzz_die("a case's diff disagrees with its verdict", i, n);
    }
    if (tsr_test_report_case_name(r, n) || tsr_test_report_case_diff(r, n))
        fuzz_die("case accessor out of range returned something", n, n);
    if (u > tsr_test_report_rule_count(r))
        fuzz_die("more rules uncovered than there are", u, tsr_test_report_rule_count(r));
    for (i = 0; i < u; i++)
        touch(tsr_test_report_uncovered(r, i), "uncovered rule without a name");
    if (tsr_test_report_uncovered(r, u))
        fuzz_die("uncovered accessor out of range returned something", u, u);
    touch(tsr_test_report_failures_text(r), "no failures text");
    touch(tsr_test_report_coverage_text(r), "no coverage text");
    touch(tsr_test_report_text(r), "no report text");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *name = setup();
    tsr_load_options opts;
    tsr_test_report *rep;
    tsr_error err;
    size_t before = fuzz_live_bytes;
    int rc;

    if (may_reach_a_device(data, size))
        return 0;
    fuzz_load_options(&opts);
    memset(&err, 0, sizeof err);
    rep = (tsr_test_report *)&err;   /* must come back NULL on failure */
    /* No terminating NUL: the YAML reader must respect `size`. */
    rc = tsr_test_run_string(&rep, (const char *)data, size, name, &opts, &err);
    fuzz_say("test", rc, &err);
    if (rc == TSR_OK) {
        if (!rep)
            fuzz_die("TSR_OK without a report", 0, 0);
        read_report(rep);
        tsr_test_report_free(rep);
    } else {
        if (rep)
            fuzz_die("failed test run left a report in *out", 0, 0);
        fuzz_check_error(rc, &err);
    }
    fuzz_check_balance(before);
    return 0;
}
