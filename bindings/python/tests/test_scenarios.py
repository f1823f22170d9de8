"""The shared park scenario's orders (../shared/scenarios/park/park.test.yaml)
evaluated through the binding give exactly what the C library gives: the
same result JSON, byte for byte, as `tessera eval` built in the same tree,
and the same error with the same JSON path.  Also the 1,024 park10 orders
against `tessera eval --jsonl`."""
from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

import tessera

from conftest import PARK10_ORDERS, PARK10_RULES, SCENARIO_DIR, plain_json, run_cli

SCENARIO_TESTS = SCENARIO_DIR / "park.test.yaml"


def _cases() -> list[Any]:
    if not SCENARIO_TESTS.exists():
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"shared scenario not found: {SCENARIO_TESTS} (set TESSERA_SHARED)"))]
    doc = yaml.safe_load(SCENARIO_TESTS.read_text())
    return [pytest.param(case, id=case["name"]) for case in doc["cases"]]


@pytest.fixture(scope="module")
def scenario_rules() -> tuple[tessera.RuleSet, str]:
    path = SCENARIO_DIR / yaml.safe_load(SCENARIO_TESTS.read_text())["rules"]
    return tessera.RuleSet.from_file(path), str(path)


@pytest.mark.parametrize("case", _cases())
def test_scenario_order_matches_the_c_library(case: dict[str, Any],
                                              scenario_rules: tuple[tessera.RuleSet, str]) -> None:
    rs, path = scenario_rules
    order = case["order"]
    cli = run_cli("eval", path, "-", stdin=plain_json(order))
    expected_error = (case.get("expect") or {}).get("error")
    if cli.status == 0:
        assert expected_error is None
        assert rs.evaluate(order) == json.loads(cli.stdout)
        assert rs.evaluate_json(plain_json(order)) == cli.stdout.rstrip("\n")
    else:
        assert cli.status == 2, cli.stderr                      # an invalid order
        with pytest.raises(tessera.OrderError) as e:
            rs.evaluate(order)
        assert e.value.path and e.value.path in cli.stderr
        assert e.value.message in cli.stderr
        if expected_error:
            assert expected_error in str(e.value)


def test_park10_orders_match_tessera_eval_jsonl() -> None:
    if not PARK10_ORDERS.exists():
        pytest.skip(f"park10 workload not found: {PARK10_ORDERS} (set TESSERA_SHARED)")
    lines = PARK10_ORDERS.read_text().splitlines()
    cli = run_cli("eval", "--jsonl", str(PARK10_RULES), "-", stdin="\n".join(lines) + "\n")
    assert cli.status == 0, cli.stderr
    expected = cli.stdout.splitlines()
    assert len(expected) == len(lines) == 1024
    rs = tessera.RuleSet.from_file(PARK10_RULES)
    for text, want in zip(lines, expected):
        assert rs.evaluate_json(text) == want
        assert rs.evaluate(json.loads(text)) == json.loads(want)
