#!/usr/bin/env bash
# How `tessera check` scales with the number of categories: generated rule
# files of N category bands, each loaded and linted by `tessera check`, and
# loaded and evaluated on one order by `tessera eval` for comparison.  A
# measurement: nothing is asserted (docs/performance.md quotes it).
#
#   bash tests/bench/check_bands.sh [BUILD_DIR] [N...]   (default: build, 1000 10000 16000)
#
# Shapes (BENCH_SHAPES, default all four), each ending in a catch-all:
#   disjoint  `item.height_cm >= i and item.height_cm < i + 1`: no warning
#   gaps      `>= 2i and < 2i + 1`: a one-centimetre gap after each band, N - 1
#             band-gap warnings (each gap no wider than the bands beside it)
#   overlap   `>= i and < i + 2`: every band overlaps the one before, N - 1 warnings
#   cascade   `age(item.birthday, date(item.event_start)) < i`: first match
#             over an expression, each band holding the one before, no warning
# Prints elapsed seconds, maximum resident set size (GNU time's "Maximum
# resident set size") and the lines printed on stderr (the warnings).  Use a
# Release or RelWithDebInfo build for figures worth quoting.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
shift || true
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000 16000)
read -r -a shapes <<< "${BENCH_SHAPES:-disjoint gaps overlap cascade}"
tessera=$build/tessera
[ -x /usr/bin/time ] || { echo "check_bands: needs GNU time (/usr/bin/time)" >&2; exit 77; }

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# bands SHAPE N FILE
bands() {
  awk -v shape="$1" -v n="$2" 'BEGIN {
    print "tessera: 1\nruleset: bands\ncurrency: EUR"
    print "schema:\n  item: { height_cm: int, birthday: date, event_start: datetime }\ncategories:"
    for (i = 0; i < n; i++) {
      if (shape == "disjoint")
        w = sprintf("item.height_cm >= %d and item.height_cm < %d", i, i + 1)
      else if (shape == "gaps")
        w = sprintf("item.height_cm >= %d and item.height_cm < %d", 2 * i, 2 * i + 1)
      else if (shape == "overlap")
        w = sprintf("item.height_cm >= %d and item.height_cm < %d", i, i + 2)
      else
        w = sprintf("age(item.birthday, date(item.event_start)) < %d", i + 1)
      printf "  - { id: b%d, for: item.kind == \"ticket\", when: \"%s\", price: %d.00 }\n", i, w, i % 90 + 10
    }
    print "  - { id: other, for: item.kind == \"ticket\", price: 5.00 }"
  }' > "$3"
}

# measure LABEL COMMAND...: one line "LABEL  S s  KB KiB  LINES stderr lines  (exit N)".
measure() {
  local label=$1 rc=0
  shift
  /usr/bin/time -v -o "$dir/time" "$@" > /dev/null 2> "$dir/stderr" || rc=$?
  awk -v label="$label" -v rc="$rc" -v lines="$(wc -l < "$dir/stderr")" '
    /Elapsed \(wall clock\)/ { n = split($NF, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i] }
    /Maximum resident set size/ { kb = $NF }
    END { printf "%-34s %7.2f s %9d KiB %7d stderr lines  (exit %d)\n", label, s, kb, lines, rc }' "$dir/time"
}

cat > "$dir/order.json" <<'EOF'
{"id": "o", "datetime": "2026-07-01T10:00:00+02:00",
 "items": [{"id": "t", "kind": "ticket", "height_cm": 120, "birthday": "2000-01-01",
            "event_start": "2026-07-02T10:00:00+02:00"}]}
EOF
for n in "${sizes[@]}"; do
  for shape in "${shapes[@]}"; do
    bands "$shape" "$n" "$dir/$shape-$n.yaml"
    measure "check, $n $shape" "$tessera" check "$dir/$shape-$n.yaml"
    measure "eval, $n $shape" "$tessera" eval "$dir/$shape-$n.yaml" "$dir/order.json"
  done
done
