#!/usr/bin/env bash
# Per-call overhead of evaluate() in the Python and PHP bindings against the
# C JSON path, on the park10 workload (../shared/bench/park10/orders.jsonl,
# rules/park10/park10.yaml).  A measurement: nothing is asserted.
#
#   bash tests/bench/bindings_overhead.sh [BUILD_DIR]        (default: build)
#
# BUILD_DIR is a build with the bindings on (it holds tests/bench/bindings_overhead,
# bindings/python/tessera and bindings/php/tessera.so); use a Release or
# RelWithDebInfo build for figures worth quoting.  BENCH_RUNS (9) runs of at
# least BENCH_SECONDS (0.5) each; the table uses the fastest run of each (on
# a shared machine the rest is interference), the raw lines give the median.
#
# The C line is the exact C work one binding call does (tsr_evaluate_text,
# tsr_result_json, tsr_result_free); each binding line minus it is what the
# binding adds: the SWIG call, text in and out (evaluate_json/evaluateJson),
# and the dict/array <-> JSON conversion on top (evaluate).
#
# BENCH_MODE=instructions counts instructions per call instead of time, with
# valgrind's callgrind: the difference between BENCH_CALLS_2 (2200) and
# BENCH_CALLS_1 (200) calls of each path, so start-up and loading cancel out.
# Slow (minutes) but deterministic, which the timings on a busy machine are not.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rules=$root/rules/park10/park10.yaml
orders=${BENCH_ORDERS:-$root/../shared/bench/park10/orders.jsonl}
python=${PYTHON:-/usr/bin/python3}
php=${PHP:-php}

out=$(mktemp)
trap 'rm -f "$out"' EXIT

if [ "${BENCH_MODE:-time}" = instructions ]; then
  n1=${BENCH_CALLS_1:-200} n2=${BENCH_CALLS_2:-2200}
  # instructions LANG PATH TRACE COMMAND...: instructions per call of one path
  instructions() {
    local lang=$1 path=$2 trace=$3 ir1 ir2
    shift 3
    ir1=$(BENCH_CALLS=$n1 BENCH_PATH=$path BENCH_TRACE=$trace valgrind --tool=callgrind \
          --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
    ir2=$(BENCH_CALLS=$n2 BENCH_PATH=$path BENCH_TRACE=$trace valgrind --tool=callgrind \
          --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
    echo "$lang $path trace=$trace instr_per_call=$(( (ir2 - ir1) / (n2 - n1) ))" | tee -a "$out"
  }
  for trace in off on; do
    instructions c evaluate_text $trace "$build/tests/bench/bindings_overhead" "$rules" "$orders"
    if [ -d "$build/bindings/python/tessera" ]; then
      for p in evaluate_json evaluate evaluate_dec; do
        PYTHONPATH=$build/bindings/python instructions python $p $trace \
          "$python" "$here/bindings_overhead.py" "$rules" "$orders"
      done
    fi
    if [ -f "$build/bindings/php/tessera.so" ]; then
      for p in evaluateJson evaluate; do
        instructions php $p $trace "$php" -d opcache.enable_cli=0 \
          -d extension="$build/bindings/php/tessera.so" "$here/bindings_overhead.php" "$rules" "$orders"
      done
    fi
  done
  echo
  echo "instructions per call against the C JSON path (park10, $(wc -l <"$orders") orders):"
  awk '
    { split($4, kv, "="); n = kv[2]; trace = $3
      if ($1 == "c") c[trace] = n; else { name[NR] = $1 " " $2; tr[NR] = trace; v[NR] = n } }
    END {
      printf "  %-26s %-10s %12s %12s %8s\n", "path", "trace", "instr/call", "overhead", "x C"
      for (i = 1; i <= NR; i++) if (i in v)
        printf "  %-26s %-10s %12d %12d %8.2f\n", name[i], tr[i], v[i], v[i] - c[tr[i]], v[i] / c[tr[i]]
    }' "$out"
  exit 0
fi

"$build/tests/bench/bindings_overhead" "$rules" "$orders" 2>/dev/null | tee -a "$out"
if [ -d "$build/bindings/python/tessera" ]; then
  PYTHONPATH=$build/bindings/python "$python" "$here/bindings_overhead.py" "$rules" "$orders" \
    | tee -a "$out"
fi
if [ -f "$build/bindings/php/tessera.so" ]; then
  "$php" -d extension="$build/bindings/php/tessera.so" "$here/bindings_overhead.php" \
    "$rules" "$orders" | tee -a "$out"
fi

echo
echo "per-call overhead against the C JSON path (ns; park10, $(wc -l <"$orders") orders):"
awk '
  { split($4, kv, "="); ns = kv[2]; trace = $3
    if ($1 == "c") c[trace] = ns; else { name[NR] = $1 " " $2; tr[NR] = trace; t[NR] = ns } }
  END {
    printf "  %-26s %-10s %10s %10s %8s\n", "path", "trace", "ns/call", "overhead", "x C"
    for (i = 1; i <= NR; i++) if (i in t)
      printf "  %-26s %-10s %10d %10d %8.2f\n", name[i], tr[i], t[i], t[i] - c[tr[i]], t[i] / c[tr[i]]
  }' "$out"
