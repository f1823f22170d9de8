"""Shared fixtures of the Python binding's tests.

Run through ctest (`ctest -R bindings.python`), which puts the package built
in the tree on PYTHONPATH and says where the CLI and the shared scenarios
are; by hand:

    PYTHONPATH=build/bindings/python TESSERA_CLI=build/tessera \\
        /usr/bin/python3 -m pytest bindings/python/tests

(from the repository root, not from bindings/python, where the source
package without its extension would shadow the built one).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest

import tessera

SOURCE = Path(os.environ.get("TESSERA_SOURCE_DIR") or Path(__file__).resolve().parents[3])
SHARED = Path(os.environ.get("TESSERA_SHARED") or SOURCE.parent / "shared")
CLI = os.environ.get("TESSERA_CLI") or None

PARK_RULES = SOURCE / "rules" / "park" / "park.yaml"
SCENARIO_DIR = SHARED / "scenarios" / "park"
PARK10_RULES = SOURCE / "rules" / "park10" / "park10.yaml"
PARK10_ORDERS = SHARED / "bench" / "park10" / "orders.jsonl"

# A dated park order (rules/park/park.yaml prices tickets by their visit day).
PARK_ORDER: dict[str, Any] = {
    "id": "A-1001",
    "datetime": "2026-06-10T11:00:00+03:00",
    "customer": {"id": "C-77", "member": True, "visits": 3, "points_balance": 1200},
    "items": [
        {"id": "t1", "kind": "ticket", "height_cm": 118,
         "event_start": "2026-06-13T10:00:00+03:00"},
        {"id": "t2", "kind": "ticket", "height_cm": 175,
         "event_start": "2026-06-13T10:00:00+03:00"},
        {"id": "f1", "kind": "fnb", "price": "150.00", "quantity": 2},
    ],
}


# Four tickets (a family pack), drinks, a promo code and points to redeem:
# a result with every kind of money field.
FAMILY_ORDER: dict[str, Any] = {
    "id": "A-2001",
    "datetime": "2026-06-10T11:00:00+03:00",
    "customer": {"id": "C-78", "member": True, "visits": 3, "points_balance": 5000,
                 "tags": ["season_pass"]},
    "items": [
        {"id": "a1", "kind": "ticket", "height_cm": 180,
         "event_start": "2026-06-13T10:00:00+03:00"},
        {"id": "a2", "kind": "ticket", "height_cm": 175,
         "event_start": "2026-06-13T10:00:00+03:00"},
        {"id": "c1", "kind": "ticket", "height_cm": 120,
         "event_start": "2026-06-13T10:00:00+03:00"},
        {"id": "c2", "kind": "ticket", "height_cm": 118,
         "event_start": "2026-06-13T10:00:00+03:00"},
        {"id": "f1", "kind": "fnb", "price": "150.00", "quantity": 2},
    ],
    "promo_codes": ["SUMMER26"],
    "redeem_points": 300,
}


def plain_json(value: Any) -> str:
    """JSON for the CLI, written without the binding's encoder."""
    def default(v: Any) -> str:
        if isinstance(v, (date, datetime)):
            return v.isoformat()
        raise TypeError(type(v).__name__)
    return json.dumps(value, default=default)


@dataclass
class CliRun:
    status: int
    stdout: str
    stderr: str


def run_cli(*args: str, stdin: str | None = None) -> CliRun:
    if not CLI:
        pytest.skip("TESSERA_CLI is not set: the tessera CLI was not built (TSR_BUILD_CLI=OFF)")
    p = subprocess.run([CLI, *args], input=stdin, capture_output=True, text=True, check=False)
    return CliRun(p.returncode, p.stdout, p.stderr)


@pytest.fixture(scope="session")
def park() -> tessera.RuleSet:
    return tessera.RuleSet.from_file(PARK_RULES)


@pytest.fixture
def order() -> dict[str, Any]:
    return json.loads(json.dumps(PARK_ORDER))


MONEY_TEXT = re.compile(r"^-?[0-9]+\.[0-9]{2}$")    # RUB: exactly two minor digits


def walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every (path, leaf) of a JSON-shaped value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from walk(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from walk(v, f"{path}[{i}]")
    else:
        yield path, value


def assert_money_is_decimal(as_text: dict[str, Any], as_decimal: dict[str, Any]) -> int:
    """Every money string of as_text is a Decimal of the same value at the
    same path of as_decimal, and nothing else changed.  Returns how many."""
    text_leaves = dict(walk(as_text))
    decimal_leaves = dict(walk(as_decimal))
    assert text_leaves.keys() == decimal_leaves.keys()
    converted = 0
    for path, leaf in decimal_leaves.items():
        text = text_leaves[path]
        if isinstance(text, str) and MONEY_TEXT.match(text):
            assert isinstance(leaf, Decimal), f"{path} is money left as {leaf!r}"
            assert str(leaf) == text
            converted += 1
        else:
            assert not isinstance(leaf, Decimal), f"{path} is not money: {text!r}"
            assert leaf == text and type(leaf) is type(text)
    return converted
