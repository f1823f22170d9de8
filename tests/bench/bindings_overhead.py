"""The Python side of tests/bench/bindings_overhead.sh: per-call time of the
binding's evaluate paths on the park10 orders.

    PYTHONPATH=build/bindings/python python3 bindings_overhead.py RULES ORDERS.jsonl

  evaluate_json  str in, str out: SWIG call, GIL released around C
  evaluate       dict in (json.dumps), dict out (json.loads)
  evaluate_dec   the same with decimal=True (money fields as Decimal)

The fastest of BENCH_RUNS runs of at least BENCH_SECONDS each, after a
warm-up (and the median); one line per path and trace setting:
`python evaluate trace=off ns_per_call=... median=...`.

With BENCH_CALLS=N, BENCH_PATH and BENCH_TRACE=on|off it makes exactly N
calls of that path and prints nothing: bindings_overhead.sh counts their
instructions.
"""
from __future__ import annotations

import gc
import json
import os
import sys
import time
from statistics import median
from typing import Any, Callable

import tessera


def per_call_ns(call: Callable[[Any], Any], inputs: list[Any], secs: float,
                runs: int) -> tuple[float, float]:
    def run(min_secs: float) -> float:
        count, n, i = 0, len(inputs), 0
        t0 = time.perf_counter()
        while True:
            for _ in range(256):
                call(inputs[i % n])
                i += 1
            count += 256
            t = time.perf_counter() - t0
            if t >= min_secs:
                return t * 1e9 / count
    run(0.5)
    times = [run(secs) for _ in range(runs)]
    return min(times), median(times)


def main(rules: str, orders_path: str) -> None:
    runs = int(os.environ.get("BENCH_RUNS") or 9)
    secs = float(os.environ.get("BENCH_SECONDS") or 0.5)
    rs = tessera.RuleSet.from_file(rules)
    with open(orders_path, encoding="utf-8") as f:
        texts = [line.strip() for line in f if line.strip()]
    dicts = [json.loads(t) for t in texts]
    gc.disable()                       # the collector's pauses are not the binding's
    if os.environ.get("BENCH_CALLS"):
        trace = os.environ.get("BENCH_TRACE") == "on"
        fixed: dict[str, tuple[Callable[[Any], Any], list[Any]]] = {
            "evaluate_json": (lambda t: rs.evaluate_json(t, trace=trace), texts),
            "evaluate": (lambda d: rs.evaluate(d, trace=trace), dicts),
            "evaluate_dec": (lambda d: rs.evaluate(d, trace=trace, decimal=True), dicts),
        }
        call, inputs = fixed[os.environ["BENCH_PATH"]]
        for i in range(int(os.environ["BENCH_CALLS"])):
            call(inputs[i % len(inputs)])
        return
    for trace in (False, True):
        paths = [
            ("evaluate_json", lambda t: rs.evaluate_json(t, trace=trace), texts),
            ("evaluate", lambda d: rs.evaluate(d, trace=trace), dicts),
            ("evaluate_dec", lambda d: rs.evaluate(d, trace=trace, decimal=True), dicts),
        ]
        for name, call, inputs in paths:
            best, mid = per_call_ns(call, inputs, secs, runs)
            print(f"python {name} trace={'on' if trace else 'off'} ns_per_call={best:.0f} "
                  f"median={mid:.0f}", flush=True)
            gc.collect()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
