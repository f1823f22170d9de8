#!/usr/bin/env bash
# ctest examples.dask: reprice_year.py on a LocalCluster of 2 worker
# processes over 50,000 generated orders (a year, one file a month, read in
# 1 MiB partitions that cut the files) must print, byte for byte, what
# `tessera diff` prints on one machine for the same lines.
# Usage: test_reprice_year.sh TESSERA PYTHON SOURCE_DIR
set -euo pipefail
tessera=$1 python=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
old=$src/rules/park/park.yaml new=$src/examples/dask/park-2027.yaml

"$python" "$src/examples/dask/make_orders.py" 50000 "$tmp/orders"
cat "$tmp"/orders/orders-2026-*.jsonl | "$tessera" diff "$old" "$new" - > "$tmp/one-machine.txt"
"$python" "$src/examples/dask/reprice_year.py" --workers 2 --blocksize 1MiB \
  "$old" "$new" "$tmp/orders/orders-2026-*.jsonl" > "$tmp/dask.txt"

# Not a comparison of nothing: every kind of line the report counts is there.
grep -q '^  orders: 50000 read, 4[0-9]\{4\} priced under both, [1-9][0-9]* changed' "$tmp/one-machine.txt"
grep -q '^  rejected: 0 only by old, [1-9][0-9]* only by new, [1-9][0-9]* by both$' "$tmp/one-machine.txt"
grep -q '^Orders that moved most' "$tmp/one-machine.txt"
if ! diff -u "$tmp/one-machine.txt" "$tmp/dask.txt"; then
  echo "test_reprice_year: the Dask report differs from tessera diff's" >&2
  exit 1
fi
echo "test_reprice_year: 50000 orders on 2 Dask workers: the report is tessera diff's, byte for byte"
