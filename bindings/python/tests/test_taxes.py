"""Taxes pass through: per-line tax, totals.tax, the per-rate summary, and
the tax a refund contains, as strings or as Decimal."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

import tessera

from conftest import run_cli, plain_json

# A US-style sales tax of 8.875 % added on top; gift cards carry none.
SHOP = """\
tessera: 1
ruleset: corner-shop
currency: USD
refunds: { allowed: "true" }
taxes:
  prices: exclusive
  rates: [{ id: sales, for: item.kind != "gift_card", rate: 8.875 }]
"""

ORDER: dict[str, Any] = {
    "id": "S-1",
    "datetime": "2026-06-10T11:00:00-04:00",
    "items": [{"id": "a", "kind": "book", "price": "19.99"},
              {"id": "b", "kind": "pen", "price": "4.50", "quantity": 3},
              {"id": "c", "kind": "gift_card", "price": "25.00"}],
}


@pytest.fixture(scope="module")
def shop() -> tessera.RuleSet:
    return tessera.RuleSet.from_string(SHOP, "shop.yaml")


def test_tax_per_line_totals_and_rates(shop: tessera.RuleSet) -> None:
    result = shop.evaluate(ORDER)
    lines = {line["id"]: line for line in result["lines"]}
    # 19.99 × 8.875 % = 1.774… -> 1.77; 13.50 × 8.875 % = 1.198… -> 1.20
    assert lines["a"]["tax"] == {"id": "sales", "rate": "8.875", "amount": "1.77"}
    assert lines["b"]["tax"]["amount"] == "1.20"
    assert lines["c"]["tax"] is None
    assert lines["a"]["total"] == "19.99"                    # exclusive: totals stay net
    assert result["totals"]["tax"] == "2.97"
    assert result["totals"]["due"] == "61.46"                # 58.49 + 2.97
    assert result["taxes"] == [{"id": "sales", "rate": "8.875", "base": "33.49",
                                "amount": "2.97"}]


def test_tax_as_decimal_keeps_the_rate_a_string(shop: tessera.RuleSet) -> None:
    result = shop.evaluate(ORDER, decimal=True)
    t = result["totals"]
    assert t["tax"] == Decimal("2.97")
    assert t["subtotal"] - t["discount"] - t["redeemed_value"] + t["tax"] == t["due"]
    assert result["lines"][0]["tax"]["amount"] == Decimal("1.77")
    assert result["lines"][0]["tax"]["rate"] == "8.875"      # a rate, not money
    assert result["taxes"][0]["base"] == Decimal("33.49")


def test_result_with_tax_equals_the_cli_json(shop: tessera.RuleSet, tmp_path) -> None:
    rules = tmp_path / "shop.yaml"
    rules.write_text(SHOP)
    cli = run_cli("eval", str(rules), "-", stdin=plain_json(ORDER))
    assert cli.status == 0, cli.stderr
    assert shop.evaluate_json(plain_json(ORDER)) == cli.stdout.rstrip("\n")


def test_refund_reports_the_tax_it_contains(shop: tessera.RuleSet) -> None:
    receipt = shop.evaluate(ORDER)
    refund = shop.refund(ORDER, receipt, ["a"], "2026-06-11T10:00:00-04:00", decimal=True)
    [line] = refund["lines"]
    # what the book cost includes the tax added: 19.99 + 1.77 = 21.76, which
    # contains 21.76 × 8.875 / 108.875 = 1.7737… -> 1.77
    assert line["amount"] == Decimal("21.76")
    assert line["tax"]["amount"] == Decimal("1.77")
    assert refund["totals"]["tax"] == Decimal("1.77")


def test_a_receipt_with_a_wrong_tax_is_refused(shop: tessera.RuleSet) -> None:
    receipt = shop.evaluate(ORDER)
    receipt["lines"][1]["tax"]["amount"] = "1.19"
    with pytest.raises(tessera.ReceiptError) as e:
        shop.refund(ORDER, receipt, ["a"], "2026-06-11T10:00:00-04:00")
    # the receipt no longer adds up: its lines' tax is 2.96, its total 2.97
    assert e.value.path == "receipt.totals.tax"
    assert "2.96" in str(e.value)
