#!/usr/bin/env bash
# `tessera diff`: the table and --json over a few orders, --top, orders
# rejected by one side, stdin, two currencies (exit 1) and usage (exit 64).
# Usage: test_diff.sh TESSERA FIXTURES_DIR
. "$(dirname "$0")/../lib.sh"
RULES=$(cd "$(dirname "$0")/../../rules/refunds" && pwd)

run "the table" "$TESSERA" diff "$RULES/park.yaml" "$FIX/park-next.yaml" "$FIX/orders.jsonl"
expect_status 0
expect_empty err
expect_grep out "(park-refunds, version 2026-11) -> "
expect_regex out '^  revenue \(due\) +14900\.00 +14300\.00 +-600\.00 +-4\.03%$'
expect_regex out '^  discounts +1200\.00 +1800\.00 +\+600\.00 +\+50\.00%$'
expect_regex out '^  points earned +745 +715 +-30 +-4\.03%$'
expect_regex out '^  points redeemed +0 +0 +0 +n/a$'
expect_grep out "orders: 5 read, 4 priced under both, 2 changed (50.00% of those priced)"
expect_grep out "rejected: 1 only by old, 0 only by new, 0 by both"
expect_grep out "line 5: old: items[0]: the line has no price and matches no category"
expect_regex out '^ +1  D-1 +7900\.00 -> 7500\.00 \(-400\.00\) +395 -> 375 \(-20\)$'
expect_regex out '^ +4  D-3 +4500\.00 -> 4300\.00 \(-200\.00\) +225 -> 215 \(-10\)$'
cp "$TMP/out" "$TMP/from-file"

run "stdin" sh -c "'$TESSERA' diff '$RULES/park.yaml' '$FIX/park-next.yaml' - < '$FIX/orders.jsonl'"
expect_status 0
cmp -s "$TMP/out" "$TMP/from-file" || bad "stdin output differs from file output"

run "--json --top 1" "$TESSERA" diff --json --top 1 "$RULES/park.yaml" "$FIX/park-next.yaml" "$FIX/orders.jsonl"
expect_status 0
expect_lines out 1
expect_grep out '"orders":{"read":5,"priced":4,"changed":2,"rejected_old":1,"rejected_new":0,"rejected_both":0}'
expect_grep out '"revenue":{"old":"14900.00","new":"14300.00","change":"-600.00","percent":"-4.03"}'
expect_grep out '"points_redeemed":{"old":0,"new":0,"change":0,"percent":null}'
expect_grep out '"rejected":[{"line":5,"old":"items[0]: the line has no price and matches no category","new":null}]'
expect_grep out '"top":[{"line":1,"order":"D-1","due":{"old":"7900.00","new":"7500.00","change":"-400.00","percent":"-5.06"},"points_earned":{"old":395,"new":375,"change":-20,"percent":"-5.06"}}]}'

run "the same rules: nothing moves" "$TESSERA" diff --top 0 "$RULES/park.yaml" "$RULES/park.yaml" "$FIX/orders.jsonl"
expect_status 0
expect_grep out "0 changed"
expect_no_grep out "moved most"

sed 's/currency: RUB/currency: EUR/' "$FIX/park-next.yaml" > "$TMP/eur.yaml"
run "two currencies" "$TESSERA" diff "$RULES/park.yaml" "$TMP/eur.yaml" "$FIX/orders.jsonl"
expect_status 1
expect_grep err "only rule sets in one currency can be compared"

# an order both sides reject gives its reason too, also a line longer than
# an order may be (16 MiB), which neither side can read
{ head -n 4 "$FIX/orders.jsonl"
  printf '{"id":"'
  head -c 17000000 /dev/zero | tr '\0' x
  printf '"}\n'; } > "$TMP/long.jsonl"
run "a line both reject" "$TESSERA" diff "$RULES/park.yaml" "$FIX/park-next.yaml" "$TMP/long.jsonl"
expect_status 0
expect_grep out "rejected: 0 only by old, 0 only by new, 1 by both"
expect_grep out "line 5: old: the line is longer than the limit of 16777216 bytes"
expect_grep out "line 5: new: the line is longer than the limit of 16777216 bytes"

run "a missing order file" "$TESSERA" diff "$RULES/park.yaml" "$FIX/park-next.yaml" "$TMP/none.jsonl"
expect_status 2
run "too few arguments" "$TESSERA" diff "$RULES/park.yaml" "$FIX/park-next.yaml"
expect_status 64
run "a bad --top" "$TESSERA" diff --top many "$RULES/park.yaml" "$FIX/park-next.yaml" "$FIX/orders.jsonl"
expect_status 64

finish
