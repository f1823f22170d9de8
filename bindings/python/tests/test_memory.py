"""Ownership and memory: results outlive their rule set, objects may be
collected in any order, threads share a rule set, and 100,000 evaluations
do not grow the process (RSS read from /proc/self/statm; a behaviour check,
not a timing)."""
from __future__ import annotations

import gc
import json
import os
import random
import threading
import weakref
from typing import Any

import pytest

import tessera

from conftest import PARK10_ORDERS, PARK_ORDER, PARK_RULES

EVALUATIONS = 100_000
# Growth allowed after the warm-up, in KiB.  A leak of even 32 bytes per
# evaluation would be 3,125 KiB over 100,000 calls.
RSS_SLACK_KIB = 1024


def rss_kib() -> int:
    with open("/proc/self/statm") as f:
        resident_pages = int(f.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE") // 1024


def test_result_outlives_its_ruleset() -> None:
    rs = tessera.RuleSet.from_file(PARK_RULES)
    result = rs.evaluate(PARK_ORDER)
    refund = rs.refund(PARK_ORDER, result, ["t1"], "2026-06-11T10:00:00+03:00")
    ref = weakref.ref(rs)
    del rs
    gc.collect()
    assert ref() is None                       # nothing kept the rule set alive
    assert result["totals"]["due"] and refund["lines"][0]["status"] == "refunded"
    assert json.loads(json.dumps(result)) == result


def test_rulesets_and_results_freed_in_any_order() -> None:
    rng = random.Random(20261122)
    objects: list[Any] = []
    for _ in range(40):
        rs = tessera.RuleSet.from_file(PARK_RULES)
        objects += [rs, rs.evaluate(PARK_ORDER), rs._native]
    for _ in range(3):
        rng.shuffle(objects)
        while len(objects) > 10:
            objects.pop()
            if rng.random() < 0.3:
                gc.collect()
        survivors = [o for o in objects if isinstance(o, tessera.RuleSet)]
        for rs in survivors:
            assert rs.evaluate(PARK_ORDER)["totals"]["due"]
        objects += [tessera.RuleSet.from_file(PARK_RULES) for _ in range(30)]
    objects.clear()
    gc.collect()


def test_native_handle_kept_alone_still_works() -> None:
    rs = tessera.RuleSet.from_file(PARK_RULES)
    native = rs._native
    del rs
    gc.collect()
    assert native.id() == "island-park"


def test_threads_share_one_ruleset() -> None:
    rs = tessera.RuleSet.from_file(PARK_RULES)
    order = json.dumps(PARK_ORDER)
    want = rs.evaluate_json(order)
    failures: list[str] = []

    def work() -> None:
        for _ in range(300):
            got = rs.evaluate_json(order)
            if got != want:
                failures.append(got)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


def _workload() -> list[dict[str, Any]]:
    if PARK10_ORDERS.exists():
        return [json.loads(line) for line in PARK10_ORDERS.read_text().splitlines()[:200]]
    return [PARK_ORDER]


def test_rss_is_stable_over_100k_evaluations() -> None:
    rs = tessera.RuleSet.from_file(PARK_RULES.parent.parent / "park10" / "park10.yaml")
    park = tessera.RuleSet.from_file(PARK_RULES)
    orders = _workload()
    bad = {"datetime": "2026-06-10T11:00:00+03:00",
           "items": [{"id": "x", "kind": "fnb", "price": "1.00"},
                     {"id": "x", "kind": "fnb", "price": "1.00"}]}
    receipt = park.evaluate(PARK_ORDER)

    def run(n: int) -> None:
        for i in range(n):
            rs.evaluate(orders[i % len(orders)], decimal=(i % 2 == 0))
            if i % 10 == 0:                                  # the error path too
                with pytest.raises(tessera.OrderError):
                    rs.evaluate(bad)
            if i % 50 == 0:
                park.refund(PARK_ORDER, receipt, ["t1"], "2026-06-11T10:00:00+03:00")
                with pytest.raises(tessera.RuleError):
                    tessera.RuleSet.from_string("tessera: [", "broken.yaml")

    run(10_000)                                              # warm-up: caches, arenas
    gc.collect()
    before = rss_kib()
    run(EVALUATIONS)
    gc.collect()
    growth = rss_kib() - before
    assert growth < RSS_SLACK_KIB, f"RSS grew by {growth} KiB over {EVALUATIONS} evaluations"
