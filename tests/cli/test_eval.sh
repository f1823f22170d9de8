#!/usr/bin/env bash
# `tessera eval`: exit statuses 0/1/2/64, the JSON on one line, stdin,
# YAML orders, --explain, --customer-safe, --no-trace, and --jsonl going on
# past a bad line.
. "$(dirname "$0")/lib.sh"

run "an order file" "$TESSERA" eval "$FIX/shop.yaml" "$FIX/order.json"
expect_status 0
expect_lines out 1
expect_regex out '^\{"ruleset":\{"id":"shop","version":"1"\},"order":"A-1",.*\}$'
expect_grep out '"due":"17.00"'
expect_empty err
cp "$TMP/out" "$TMP/from-file"

run "stdin with -" sh -c "'$TESSERA' eval '$FIX/shop.yaml' - < '$FIX/order.json'"
expect_status 0
cmp -s "$TMP/out" "$TMP/from-file" || bad "stdin output differs from file output"

run "stdin without ORDER" sh -c "'$TESSERA' eval '$FIX/shop.yaml' < '$FIX/order.json'"
expect_status 0
cmp -s "$TMP/out" "$TMP/from-file" || bad "stdin output differs from file output"

run "a YAML order" "$TESSERA" eval "$FIX/shop.yaml" "$FIX/order.yaml"
expect_status 0
expect_grep out '"tier":"gold"'
expect_grep out '"due":"9.00"'

run "an invalid order" "$TESSERA" eval "$FIX/shop.yaml" "$FIX/dup.json"
expect_status 2
expect_empty out
expect_regex err '^items\[1\]\.id: error: .+'

run "a missing order file" "$TESSERA" eval "$FIX/shop.yaml" "$FIX/no-such-order.json"
expect_status 2
expect_grep err "no-such-order.json: error: cannot open the order"

run "a broken rule file" "$TESSERA" eval "$FIX/broken.yaml" "$FIX/order.json"
expect_status 1
expect_empty out
expect_regex err 'broken\.yaml:7:[0-9]+: error: .*heigth_cm'

run "a missing rule file" "$TESSERA" eval "$FIX/no-such-rules.yaml" "$FIX/order.json"
expect_status 1
expect_grep err "no-such-rules.yaml"

run "--explain" "$TESSERA" eval --explain "$FIX/shop.yaml" "$FIX/order.json"
expect_status 0
expect_grep out "Order A-1, priced by shop (version 1), in EUR"
expect_grep out "Lines"
expect_regex out '^  t1  ticket, child: 1 × 10\.00 +10\.00$'
expect_regex out '^      = total +10\.00$'
expect_grep out "Totals"
expect_regex out '^  due +17\.00$'
expect_grep out "Promo codes"
expect_grep out "NOPE  rejected: unknown"
expect_grep out "Offers"
expect_grep out "  join: Join the club"
expect_grep out "Trace"
expect_grep out "  ✓ categories.child"
expect_grep out "  ✗ discounts.members-10: "

run "--customer-safe" "$TESSERA" eval --customer-safe "$FIX/shop.yaml" "$FIX/order.json"
expect_status 0
expect_grep out '"reason":"not_applicable"'

run "--no-trace" "$TESSERA" eval --no-trace "$FIX/shop.yaml" "$FIX/order.json"
expect_status 0
expect_grep out '"trace":[]'

run "--jsonl with a bad line in the middle" "$TESSERA" eval --jsonl "$FIX/shop.yaml" "$FIX/orders.jsonl"
expect_status 2
expect_lines out 4
expect_regex out '^\{"ruleset":.*"order":"L1"'
expect_regex out '^\{"ruleset":.*"order":"L2"'
expect_regex out '^\{"error":\{"line":3,"path":"items\[1\]\.id","message":"duplicate .+"\}\}$'
expect_regex out '^\{"ruleset":.*"order":"L5"'
sed -n 3p "$TMP/out" | grep -q '"error"' || bad "the error is not on the third output line"
expect_grep err "1 of 4 orders rejected"

run "--jsonl from stdin, all good" sh -c "'$TESSERA' eval --jsonl '$FIX/shop.yaml' < '$FIX/good.jsonl'"
expect_status 0
expect_lines out 2
expect_empty err

# Driven line by line through pipes (a till program talking to a
# co-process): each answer arrives before the next order is sent, although
# results into a pipe are buffered.
what="--jsonl answers each line before the next arrives"
coproc EVAL { "$TESSERA" eval --jsonl "$FIX/shop.yaml" 2>"$TMP/coproc.err"; }
# bash unsets EVAL and EVAL_PID once the co-process ends: keep copies
eval_pid=$EVAL_PID
exec {to_eval}>&"${EVAL[1]}" {from_eval}<&"${EVAL[0]}"
exec {EVAL[1]}>&- {EVAL[0]}<&-
answered=0
while IFS= read -r order; do
  printf '%s\n' "$order" >&"$to_eval"
  if IFS= read -r -t 20 answer <&"$from_eval" && [[ $answer == '{"ruleset":'* ]]; then
    answered=$((answered + 1))
  else
    bad "no answer to order $((answered + 1)) within 20 s"
    break
  fi
done <"$FIX/good.jsonl"
exec {to_eval}>&- {from_eval}<&-
wait "$eval_pid" || bad "exit status $?, expected 0"
[ "$answered" -eq 2 ] || bad "$answered of 2 orders answered"

run "--jsonl with a line that is not JSON" sh -c "printf '%s\n' 'not an order' | '$TESSERA' eval --jsonl '$FIX/shop.yaml'"
expect_status 2
expect_regex out '^\{"error":\{"line":1,'

# Hostile order text.  A long multibyte code past a pattern's match limit:
# the error line is strict UTF-8 (the code is cut between characters) and
# names the rule and the entered code; customer-safe, not the rule's id.
code=A
for _ in $(seq 40); do code="${code}Ж"; done
printf '{"datetime":"2026-06-10T11:00:00+03:00","items":[{"id":"t1","kind":"ticket"}],"promo_codes":["%s!"]}\n' \
  "$code" > "$TMP/hostile.jsonl"
run "--jsonl: a pattern past its limit" "$TESSERA" eval --jsonl "$FIX/hostile.yaml" "$TMP/hostile.jsonl"
expect_status 2
iconv -f UTF-8 -t UTF-8 "$TMP/out" >/dev/null 2>&1 || bad "the error line is not valid UTF-8"
expect_grep out '"path":"promo_codes[0]","rule":"'
expect_grep out 'hostile.yaml:9:5","message":"promo code `AЖЖЖ'
expect_grep out '...`: the pattern of `promo_codes.cyrillic` hit the match limit"'
run "--jsonl --customer-safe: a pattern past its limit" "$TESSERA" eval --jsonl --customer-safe \
  "$FIX/hostile.yaml" "$TMP/hostile.jsonl"
expect_status 2
iconv -f UTF-8 -t UTF-8 "$TMP/out" >/dev/null 2>&1 || bad "the error line is not valid UTF-8"
expect_grep out '"path":"promo_codes[0]"'
expect_no_grep out 'cyrillic'

# Escape sequences in ids reach no terminal: --explain shows them as '?'.
printf '%s\n' '{"id":"A\u001b]0;owned\u0007","datetime":"2026-06-10T11:00:00+03:00","items":[{"id":"t1\u001b[2J","kind":"ticket"}],"promo_codes":["\u001b[31mX"]}' \
  > "$TMP/escapes.json"
run "--explain with escape sequences in ids" "$TESSERA" eval --explain "$FIX/hostile.yaml" "$TMP/escapes.json"
expect_status 0
expect_grep out "Order A?]0;owned?, priced by hostile"
expect_grep out "  t1?[2J  ticket, ticket: 1"
! LC_ALL=C grep -q "$(printf '\033')" "$TMP/out" || bad "an ESC byte reached the output"
! LC_ALL=C grep -q "$(printf '\007')" "$TMP/out" || bad "a BEL byte reached the output"

run "an unknown option" "$TESSERA" eval --frobnicate "$FIX/shop.yaml"
expect_status 64
run "--explain with --jsonl" "$TESSERA" eval --explain --jsonl "$FIX/shop.yaml"
expect_status 64
run "no rule file" "$TESSERA" eval
expect_status 64
run "help" "$TESSERA" help eval
expect_status 0
expect_grep out "--jsonl"

finish
