#!/usr/bin/env bash
# `tessera test`: exit statuses, failure diffs, coverage lines, the final
# count line over several files, and broken test files counted as failed.
. "$(dirname "$0")/lib.sh"

run "passing tests" "$TESSERA" test "$FIX/shop.test.yaml"
expect_status 0
expect_regex out '^coverage of shop\.yaml: [0-9]+ of 7 rules applied \([0-9]+%\)$'
expect_line out "$(wc -l <"$TMP/out")" "2 passed, 0 failed"
expect_empty err

run "a failing case" "$TESSERA" test "$FIX/failing.test.yaml"
expect_status 1
expect_regex out '^FAIL .*failing\.test\.yaml:9: wrong on purpose$'
expect_grep out '  totals.due: expected "1.00", got "17.00"'
expect_regex out '^not covered: '
expect_line out "$(wc -l <"$TMP/out")" "1 passed, 1 failed"

run "several files add up" "$TESSERA" test "$FIX/shop.test.yaml" "$FIX/failing.test.yaml"
expect_status 1
expect_line out "$(wc -l <"$TMP/out")" "3 passed, 1 failed"

run "a broken test file" "$TESSERA" test "$FIX/broken.test.yaml" "$FIX/shop.test.yaml"
expect_status 1
expect_regex err 'broken\.test\.yaml:8:5: error: unknown key `expcet` in a case; did you mean `expect`\?'
expect_line out "$(wc -l <"$TMP/out")" "2 passed, 1 failed"

run "a missing test file" "$TESSERA" test "$FIX/nothing.test.yaml"
expect_status 1
expect_grep err "nothing.test.yaml"
expect_line out 1 "0 passed, 1 failed"

run "--verbose and --no-coverage" "$TESSERA" test -v --no-coverage "$FIX/shop.test.yaml"
expect_status 0
expect_grep out "ok   a member with the half code"
expect_no_grep out "coverage"

run "no files" "$TESSERA" test
expect_status 64

finish
