#!/usr/bin/env bash
# `tessera refund`: a request built from an order and the receipt `tessera
# eval` printed for it; refunded and rejected lines, stdin, receipts that do
# not match (exit 2 with their path), request errors, a broken rule file
# (exit 1), `previous`, clawback, and usage (exit 64).
# Usage: test_refund.sh TESSERA FIXTURES_DIR
. "$(dirname "$0")/../lib.sh"
RULES=$(cd "$(dirname "$0")/../../rules/refunds" && pwd)

# request ORDER RECEIPT LINES DATETIME [EXTRA]: a refund request on stdout
request() {
  printf '{"order":%s,"receipt":%s,"lines":%s,"datetime":"%s"%s}' \
    "$(cat "$1")" "$(cat "$2")" "$3" "$4" "${5:-}"
}

"$TESSERA" eval "$RULES/opera.yaml" "$FIX/opera-order.json" > "$TMP/opera-receipt.json" ||
  { echo "FAIL: cannot price the opera order"; exit 1; }
"$TESSERA" eval "$RULES/park.yaml" "$FIX/park-order.json" > "$TMP/park-receipt.json" ||
  { echo "FAIL: cannot price the park order"; exit 1; }

request "$FIX/opera-order.json" "$TMP/opera-receipt.json" '["t1","t2","f1"]' \
  "2026-11-20T10:00:00+03:00" > "$TMP/req.json"
run "a refund" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/req.json"
expect_status 0
expect_lines out 1
expect_empty err
expect_regex out '^\{"order":"O-1001","ruleset":\{"id":"opera-refunds","version":"2026-11"\},.*\}$'
expect_grep out '"to":"account_credit"'
# t1 paid 4187.00 (10 % off 5000.00, 313 points); 5 % fee
expect_grep out '{"id":"t1","status":"refunded","amount":"3977.65","fee":"209.35","points_restored":313,"points_revoked":42}'
expect_grep out '{"id":"t2","status":"rejected","why":"allowed: `not item.validated` was false"}'
expect_grep out '{"id":"f1","status":"refunded","amount":"700.00","fee":"0.00","points_restored":0,"points_revoked":7}'
expect_grep out '"totals":{"amount":"4677.65","fee":"209.35","clawback":"0.00","clawback_returned":"0.00","points_restored":313,"points_revoked":49,"order_points_revoked":0}'
cp "$TMP/out" "$TMP/from-file"

run "stdin" sh -c "'$TESSERA' refund '$RULES/opera.yaml' - < '$TMP/req.json'"
expect_status 0
cmp -s "$TMP/out" "$TMP/from-file" || bad "stdin output differs from file output"

run "stdin without REQUEST" sh -c "'$TESSERA' refund '$RULES/opera.yaml' < '$TMP/req.json'"
expect_status 0
cmp -s "$TMP/out" "$TMP/from-file" || bad "stdin output differs from file output"

run "too late" sh -c "$(declare -f request); request '$FIX/opera-order.json' '$TMP/opera-receipt.json' '[\"t1\"]' 2026-11-25T10:00:00+03:00 | '$TESSERA' refund '$RULES/opera.yaml'"
expect_status 0
expect_grep out '"why":"allowed: `now <= item.event_start - hours(24)` was false"'
expect_grep out '"totals":{"amount":"0.00"'

# the last line goes: the flat premiere bonus goes with it
request "$FIX/opera-order.json" "$TMP/opera-receipt.json" '["f1"]' "2026-11-20T10:00:00+03:00" \
  ',"previous":{"lines":["t1","t2"]}' > "$TMP/req.json"
run "previous lines" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/req.json"
expect_status 0
expect_grep out '"order_points_revoked":50'
request "$FIX/opera-order.json" "$TMP/opera-receipt.json" '["t1","f1"]' "2026-11-20T10:00:00+03:00" \
  ',"previous":{"lines":["t1"]}' > "$TMP/req.json"
run "a line refunded before" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/req.json"
expect_status 0
expect_grep out '{"id":"t1","status":"rejected","why":"already refunded"}'

# receipts that do not match
sed 's/"version":"2026-11"/"version":"2026-10"/' "$TMP/opera-receipt.json" > "$TMP/old-receipt.json"
request "$FIX/opera-order.json" "$TMP/old-receipt.json" '["t1"]' "2026-11-20T10:00:00+03:00" > "$TMP/req.json"
run "a receipt of another version" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/req.json"
expect_status 2
expect_empty out
expect_regex err '^receipt\.ruleset\.version: error: the receipt was priced by version "2026-10"'

sed 's/"total":"700.00"/"total":"600.00"/' "$TMP/opera-receipt.json" > "$TMP/bad-receipt.json"
request "$FIX/opera-order.json" "$TMP/bad-receipt.json" '["t1"]' "2026-11-20T10:00:00+03:00" > "$TMP/req.json"
run "an edited receipt" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/req.json"
expect_status 2
expect_regex err '^receipt\.lines\[2\]\.total: error: '

request "$FIX/opera-order.json" "$TMP/park-receipt.json" '["t1"]' "2026-11-20T10:00:00+03:00" > "$TMP/req.json"
run "another order's receipt" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/req.json"
expect_status 2
expect_regex err '^receipt\.ruleset\.id: error: '

# the request itself
request "$FIX/opera-order.json" "$TMP/opera-receipt.json" '["t9"]' "2026-11-20T10:00:00+03:00" > "$TMP/req.json"
run "an unknown line" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/req.json"
expect_status 2
expect_grep err 'lines[0]: error: line `t9` is not in the order'

request "$FIX/opera-order.json" "$TMP/opera-receipt.json" '["t1","t1"]' "2026-11-20T10:00:00+03:00" > "$TMP/req.json"
run "a line named twice" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/req.json"
expect_status 2
expect_grep err 'lines[1]: error: line `t1` is named twice'

printf '{"order": {}, "lines": ["t1"]}' > "$TMP/req.json"
run "an incomplete request" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/req.json"
expect_status 2
expect_grep err "the refund request has no \`receipt\`"

run "a missing request file" "$TESSERA" refund "$RULES/opera.yaml" "$TMP/none.json"
expect_status 2
expect_grep err "none.json: error: cannot open"

printf 'rules: [\n' > "$TMP/broken.yaml"
run "a broken rule file" "$TESSERA" refund "$TMP/broken.yaml" "$TMP/req.json"
expect_status 1
expect_regex err 'broken\.yaml:[0-9]+:[0-9]+: error: '

run "no arguments" "$TESSERA" refund
expect_status 64
run "an unknown option" "$TESSERA" refund --frobnicate "$RULES/opera.yaml"
expect_status 64
run "help" "$TESSERA" refund --help
expect_status 0
expect_grep out "usage: tessera refund RULES [REQUEST|-]"

# the park re-prices what the family keeps: without c2 there is no family ticket
request "$FIX/park-order.json" "$TMP/park-receipt.json" '["c2"]' "2026-07-05T12:00:00+03:00" > "$TMP/req.json"
run "a broken family ticket" "$TESSERA" refund "$RULES/park.yaml" "$TMP/req.json"
expect_status 0
expect_grep out '"to":"original_payment"'
expect_grep out '{"id":"c2","status":"refunded","amount":"1239.84","fee":"100.00","points_restored":209,"points_revoked":67}'
expect_grep out '"totals":{"amount":"791.00","fee":"100.00","clawback":"448.84"'
expect_grep out '"reprice":{"lines":["a1","a2","c1","f1"],"paid":"6151.16","now":"6600.00"}'

# previous.clawback is checked against the most it can be, recomputed from
# the receipt and previous.lines: the family ticket (7900.00) after c2 came
# back withheld 553.49; a request claiming 1000000.00 was withheld would be
# paid 1005946.51
"$TESSERA" eval "$RULES/park.yaml" "$FIX/family-order.json" > "$TMP/family-receipt.json" ||
  { echo "FAIL: cannot price the family order"; exit 1; }
request "$FIX/family-order.json" "$TMP/family-receipt.json" '["a1","a2","c1"]' \
  "2026-07-06T12:00:00+03:00" ',"previous":{"lines":["c2"],"clawback":"1000000.00"}' > "$TMP/req.json"
run "a forged previous.clawback" "$TESSERA" refund "$RULES/park.yaml" "$TMP/req.json"
expect_status 2
expect_empty out
cmp -s "$TMP/err" "$FIX/forged-clawback.stderr" ||
  bad "stderr differs from fixtures/forged-clawback.stderr"

request "$FIX/family-order.json" "$TMP/family-receipt.json" '["a1","a2","c1"]' \
  "2026-07-06T12:00:00+03:00" ',"previous":{"lines":["c2"],"clawback":"553.49"}' > "$TMP/req.json"
run "the clawback withheld before" "$TESSERA" refund "$RULES/park.yaml" "$TMP/req.json"
expect_status 0
expect_grep out '"totals":{"amount":"6500.00","fee":"300.00","clawback":"0.00","clawback_returned":"553.49"'
# left out after earlier refunds of a re-pricing rule set: no default is
# right, so the request is refused, saying what to pass
request "$FIX/family-order.json" "$TMP/family-receipt.json" '["a1","a2","c1"]' \
  "2026-07-06T12:00:00+03:00" ',"previous":{"lines":["c2"]}' > "$TMP/req.json"
run "the clawback withheld before, left out" "$TESSERA" refund "$RULES/park.yaml" "$TMP/req.json"
expect_status 2
expect_empty out
cmp -s "$TMP/err" "$FIX/missing-clawback.stderr" ||
  bad "stderr differs from fixtures/missing-clawback.stderr"

# less than the most is the caller's record (an earlier refund could not pay
# for all it broke): accepted, and it only lowers the refund
request "$FIX/family-order.json" "$TMP/family-receipt.json" '["a1","a2","c1"]' \
  "2026-07-06T12:00:00+03:00" ',"previous":{"lines":["c2"],"clawback":"100.00"}' > "$TMP/req.json"
run "a smaller clawback withheld before" "$TESSERA" refund "$RULES/park.yaml" "$TMP/req.json"
expect_status 0
expect_grep out '"totals":{"amount":"6046.51","fee":"300.00","clawback":"0.00","clawback_returned":"100.00"'

# a refund that cannot pay for the discount it breaks is refunded, paying
# back 0.00: the 100.00 drink (90.00 in the basket, 40.00 after the fee)
# leaves the 900.00 one 90.00 dearer; 40.00 is withheld
"$TESSERA" eval "$RULES/kiosk.yaml" "$FIX/kiosk-order.json" > "$TMP/kiosk-receipt.json" ||
  { echo "FAIL: cannot price the kiosk order"; exit 1; }
request "$FIX/kiosk-order.json" "$TMP/kiosk-receipt.json" '["f2"]' "2026-07-01T11:00:00+03:00" > "$TMP/req.json"
run "a refund capped at what it pays back" "$TESSERA" refund "$RULES/kiosk.yaml" "$TMP/req.json"
expect_status 0
expect_grep out '{"id":"f2","status":"refunded","amount":"40.00","fee":"50.00","points_restored":0,"points_revoked":0}'
expect_grep out '"totals":{"amount":"0.00","fee":"50.00","clawback":"40.00","clawback_returned":"0.00"'
expect_grep out '"reprice":{"lines":["f1"],"paid":"810.00","now":"900.00"}'

# what earlier refunds withheld is also at most what their lines paid: the
# 5.00 drink (4.50 in the basket) breaks the 99.50 discount on the 995.00
# one but pays back nothing after the fee, so a request saying 99.50 was
# withheld is refused
"$TESSERA" eval "$RULES/kiosk.yaml" "$FIX/kiosk-cheap-order.json" > "$TMP/cheap-receipt.json" ||
  { echo "FAIL: cannot price the cheap kiosk order"; exit 1; }
request "$FIX/kiosk-cheap-order.json" "$TMP/cheap-receipt.json" '["f1"]' "2026-07-01T11:30:00+03:00" \
  ',"previous":{"lines":["f3"],"clawback":"99.50"}' > "$TMP/req.json"
run "a clawback above what the lines before paid" "$TESSERA" refund "$RULES/kiosk.yaml" "$TMP/req.json"
expect_status 2
expect_empty out
cmp -s "$TMP/err" "$FIX/clawback-above-paid.stderr" ||
  bad "stderr differs from fixtures/clawback-above-paid.stderr"
request "$FIX/kiosk-cheap-order.json" "$TMP/cheap-receipt.json" '["f1"]' "2026-07-01T11:30:00+03:00" \
  ',"previous":{"lines":["f3"],"clawback":"0.00"}' > "$TMP/req.json"
run "the ledger's clawback after a refund that withheld nothing" "$TESSERA" refund "$RULES/kiosk.yaml" "$TMP/req.json"
expect_status 0
expect_grep out '"totals":{"amount":"845.50","fee":"50.00","clawback":"0.00","clawback_returned":"0.00"'

finish
