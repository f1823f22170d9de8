#!/usr/bin/env bash
# `tessera schema KIND [RULES]`: the three schemas, a rule set's own order
# and test schemas, and the usage errors.
. "$(dirname "$0")/lib.sh"

for kind in rules order test; do
  run "the $kind schema" "$TESSERA" schema "$kind"
  expect_status 0
  expect_empty err
  expect_line out 1 '{'
  expect_grep out '"$schema": "https://json-schema.org/draft/2020-12/schema"'
  expect_grep out '"additionalProperties": false'
done

run "an order schema for a rule set" "$TESSERA" schema order "$FIX/shop.yaml"
expect_status 0
expect_grep out '"height_cm": {'
expect_grep out '"title": "int"'
expect_grep out '"enum": ["child", "adult", null]'

run "a test schema for a rule set" "$TESSERA" schema test "$FIX/shop.yaml"
expect_status 0
expect_grep out '"categories.'

run "no such schema" "$TESSERA" schema rule
expect_status 64
expect_grep err 'no schema `rule`'

run "no kind" "$TESSERA" schema
expect_status 64

run "RULES with the rules schema" "$TESSERA" schema rules "$FIX/shop.yaml"
expect_status 64

run "a broken rule set" "$TESSERA" schema order "$FIX/broken.yaml"
expect_status 1
expect_regex err 'broken\.yaml:7:[0-9]+: error: '
expect_empty out

run "help" "$TESSERA" schema --help
expect_status 0
expect_grep out 'usage: tessera schema KIND [RULES]'

finish
