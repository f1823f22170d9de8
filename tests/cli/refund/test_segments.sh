#!/usr/bin/env bash
# `tessera segments`: one line per profile, --at, an order line as a
# profile, error lines that do not stop the stream (exit 2 at the end),
# stdin, a broken rule file (exit 1) and usage (exit 64).
# Usage: test_segments.sh TESSERA FIXTURES_DIR
. "$(dirname "$0")/../lib.sh"
RULES=$(cd "$(dirname "$0")/../../rules/refunds" && pwd)

run "profiles" "$TESSERA" segments --at 2026-07-01T00:00:00+03:00 "$RULES/park.yaml" "$FIX/profiles.jsonl"
expect_status 2
expect_lines out 4
expect_line out 1 '{"id":"C-1","segments":["lapsed"],"tier":null}'
expect_line out 2 '{"id":"C-2","segments":[],"tier":null}'
expect_line out 3 '{"error":{"line":4,"path":"customer.last_visit","message":"\"yesterday\" is not a date (YYYY-MM-DD)"}}'
expect_line out 4 '{"id":"C-4","segments":["lapsed"],"tier":null}'
expect_grep err "1 of 4 profiles rejected"
cp "$TMP/out" "$TMP/from-file"

run "stdin" sh -c "'$TESSERA' segments --at=2026-07-01T00:00:00+03:00 '$RULES/park.yaml' - < '$FIX/profiles.jsonl'"
expect_status 2
cmp -s "$TMP/out" "$TMP/from-file" || bad "stdin output differs from file output"

grep -v yesterday "$FIX/profiles.jsonl" > "$TMP/good.jsonl"
run "all good" "$TESSERA" segments --at 2026-07-01T00:00:00+03:00 "$RULES/park.yaml" "$TMP/good.jsonl"
expect_status 0
expect_lines out 3
expect_empty err

# --at moves the customer out of `lapsed`
run "another time" "$TESSERA" segments --at 2020-06-01T00:00:00Z "$RULES/park.yaml" "$TMP/good.jsonl"
expect_status 0
expect_line out 1 '{"id":"C-1","segments":[],"tier":null}'

# without --at, now (C-1 last came in 2020: lapsed whenever the test runs)
run "now" "$TESSERA" segments "$RULES/park.yaml" "$TMP/good.jsonl"
expect_status 0
expect_line out 1 '{"id":"C-1","segments":["lapsed"],"tier":null}'

run "a bad --at" "$TESSERA" segments --at tomorrow "$RULES/park.yaml" "$TMP/good.jsonl"
expect_status 64
expect_grep err "tomorrow"

printf 'rules: [\n' > "$TMP/broken.yaml"
run "a broken rule file" "$TESSERA" segments "$TMP/broken.yaml" "$TMP/good.jsonl"
expect_status 1
expect_empty out

# a line longer than an order may be (16 MiB) is refused without being
# held whole, and the stream goes on
{ printf '{"customer":{"id":"C-1"}}\n{"customer":{"id":"'
  head -c 17000000 /dev/zero | tr '\0' x
  printf '"}}\n{"customer":{"id":"C-3"}}\n'; } > "$TMP/long.jsonl"
run "an over-long line" "$TESSERA" segments --at 2026-06-10T11:00:00+03:00 "$RULES/park.yaml" "$TMP/long.jsonl"
expect_status 2
expect_line out 2 '{"error":{"line":2,"path":null,"message":"the line is longer than the limit of an order"}}'
expect_line out 3 '{"id":"C-3","segments":[],"tier":null}'

run "a missing input" "$TESSERA" segments "$RULES/park.yaml" "$TMP/none.jsonl"
expect_status 2
run "no arguments" "$TESSERA" segments
expect_status 64
run "help" "$TESSERA" help segments
expect_status 0
expect_grep out "--at DATETIME"

finish
