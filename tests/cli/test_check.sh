#!/usr/bin/env bash
# `tessera check`: warnings alone exit 0 (1 with --strict), errors exit 1.
. "$(dirname "$0")/lib.sh"

run "a clean rule file" "$TESSERA" check "$FIX/shop.yaml"
expect_status 0
expect_empty err

run "warnings only" "$TESSERA" check "$FIX/warn.yaml"
expect_status 0
expect_regex err 'warn\.yaml:5:3: warning: segment `idle` is never used'

run "warnings with --strict" "$TESSERA" check --strict "$FIX/warn.yaml"
expect_status 1

run "an error" "$TESSERA" check "$FIX/broken.yaml" "$FIX/warn.yaml"
expect_status 1
expect_regex err 'broken\.yaml:7:[0-9]+: error: '
expect_grep err "warning:"

# Includes stay in the rule file's directory unless --allow-path names more
# (any command takes it; check and test here).
mkdir -p "$TMP/rules" "$TMP/shared"
printf 'categories:\n  - { id: shared }\n' > "$TMP/shared/common.yaml"
printf 'tessera: 1\nruleset: r\ncurrency: EUR\ninclude: [../shared/common.yaml]\n' > "$TMP/rules/main.yaml"
printf 'tessera_test: 1\nrules: ../rules/main.yaml\ncases: []\n' > "$TMP/shared/main.test.yaml"
run "an include outside the rule file's directory" "$TESSERA" check "$TMP/rules/main.yaml"
expect_status 1
expect_grep err 'main.yaml:4:11: error: cannot include `../shared/common.yaml`: it is outside the directory of'
run "--allow-path DIR" "$TESSERA" check --allow-path "$TMP/shared" "$TMP/rules/main.yaml"
expect_status 0
expect_empty err
run "--allow-path=DIR after the file" "$TESSERA" check "$TMP/rules/main.yaml" "--allow-path=$TMP/shared"
expect_status 0
run "a test file's rules outside its directory" "$TESSERA" test "$TMP/shared/main.test.yaml"
expect_status 1
expect_grep err 'main.test.yaml:2:8: error: `rules: ../rules/main.yaml` is outside the directory of the test file'
run "a test file with --allow-path" "$TESSERA" test --allow-path "$TMP" "$TMP/shared/main.test.yaml"
expect_status 0
expect_grep out "0 passed, 0 failed"
run "--allow-path without a directory" "$TESSERA" check "$TMP/rules/main.yaml" --allow-path
expect_status 64
run "help" "$TESSERA" help check
expect_grep out "--allow-path DIR"

finish
