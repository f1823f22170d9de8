#!/usr/bin/env bash
# `tessera check`: every error of a file in one run, then a summary line on
# stderr (exit 1); for a file that loads, its warnings on stderr and
# `FILE: ok (what was loaded)` on stdout (-q leaves that out); warnings
# alone exit 0 (1 with --strict).
. "$(dirname "$0")/lib.sh"

run "a clean rule file" "$TESSERA" check "$FIX/shop.yaml"
expect_status 0
expect_empty err
expect_lines out 1
expect_regex out '^.*/shop\.yaml: ok \(ruleset [a-z-]+[^)]*[0-9]+ categor(y|ies)[^)]*\)$'

run "a clean rule file, quiet" "$TESSERA" check -q "$FIX/shop.yaml"
expect_status 0
expect_empty err
expect_empty out

run "warnings only" "$TESSERA" check "$FIX/warn.yaml"
expect_status 0
expect_regex err 'warn\.yaml:5:3: warning: segment `idle` is never used'
expect_regex out 'warn\.yaml: ok \(.*\), [0-9]+ warnings?$'

run "warnings with --strict" "$TESSERA" check --strict "$FIX/warn.yaml"
expect_status 1

run "an error" "$TESSERA" check "$FIX/broken.yaml" "$FIX/warn.yaml"
expect_status 1
expect_regex err 'broken\.yaml:7:[0-9]+: error: '
expect_regex err '/broken\.yaml: 1 error$'
expect_grep err "warning:"
expect_regex out 'warn\.yaml: ok'
expect_no_grep out "broken.yaml"

# Every error of one file, in file order, then the count.
cat > "$TMP/many.yaml" <<'YAML'
tessera: 1
ruleset: many
currency: EUR
categories:
  - { id: child, when: item.heigth_cm < 130, price: 10.00 }
discounts:
  - { id: a, percent: 110 }
  - { id: b, for: item.category == "chlid", percent: 5 }
YAML
run "several errors" "$TESSERA" check "$TMP/many.yaml"
expect_status 1
expect_lines err 4
expect_line err 1 "$TMP/many.yaml:5:29: error: unknown field \`item.heigth_cm\`"
expect_line err 2 "$TMP/many.yaml:7:23: error: \`percent\` in discounts.a must be from 0 to 100, not 110"
expect_regex err "^$TMP/many\.yaml:8:36: error: unknown category \`chlid\`: "
expect_line err 4 "$TMP/many.yaml: 3 errors"
expect_empty out

run "a file that cannot be read" "$TESSERA" check "$TMP/none.yaml"
expect_status 1
expect_regex err "none\.yaml: error: "
expect_line err 2 "$TMP/none.yaml: 1 error"

run "an unknown option" "$TESSERA" check --loud "$FIX/shop.yaml"
expect_status 64

cp "$FIX/shop.yaml" "$TMP/-q.yaml"
run "a file named like an option, after --" "$TESSERA" check -- "$TMP/-q.yaml"
expect_status 0
expect_grep out "-q.yaml: ok"

run "no file" "$TESSERA" check -q
expect_status 64

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
