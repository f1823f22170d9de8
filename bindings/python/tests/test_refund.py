"""Refunds through the binding: the C library's tsr_refund, request built
from dicts, answers and errors as the library gives them."""
from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import tessera

from conftest import FAMILY_ORDER, PARK_RULES, assert_money_is_decimal, run_cli

MSK = timezone(timedelta(hours=3))
BEFORE_THE_VISIT = "2026-06-11T10:00:00+03:00"      # the tickets are for 2026-06-13


def test_refund_a_ticket(park: tessera.RuleSet, order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    refund = park.refund(order, receipt, ["t1"], BEFORE_THE_VISIT)
    assert refund["order"] == "A-1001"
    assert refund["ruleset"] == receipt["ruleset"]
    [line] = refund["lines"]
    assert line["id"] == "t1" and line["status"] == "refunded"
    paid = Decimal(receipt["lines"][0]["total"])
    assert Decimal(line["amount"]) + Decimal(line["fee"]) == paid
    assert line["fee"] == "100.00"
    assert line["points_revoked"] == receipt["lines"][0]["points_earned"]
    assert refund["totals"]["amount"] == line["amount"]


def test_refund_matches_the_json_entry_point(park: tessera.RuleSet,
                                             order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    request = json.dumps({"order": order, "receipt": receipt, "lines": ["t1", "t2"],
                          "datetime": BEFORE_THE_VISIT})
    assert park.refund(order, receipt, ("t1", "t2"), BEFORE_THE_VISIT) \
        == json.loads(park.refund_json(request))


def test_refund_equals_tessera_refund(park: tessera.RuleSet, order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    request = json.dumps({"order": order, "receipt": receipt, "lines": ["t1"],
                          "datetime": BEFORE_THE_VISIT})
    cli = run_cli("refund", str(PARK_RULES), "-", stdin=request)
    assert cli.status == 0, cli.stderr
    assert park.refund_json(request) == cli.stdout.rstrip("\n")
    assert park.refund(order, receipt, ["t1"], BEFORE_THE_VISIT) == json.loads(cli.stdout)


def test_refund_accepts_datetime_and_a_decimal_receipt(park: tessera.RuleSet,
                                                       order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    as_text = park.refund(order, receipt, ["t2"], BEFORE_THE_VISIT)
    typed = park.refund(order, park.evaluate(order, decimal=True), ["t2"],
                        datetime(2026, 6, 11, 10, 0, tzinfo=MSK))
    assert typed == as_text


def test_refund_money_as_decimal(park: tessera.RuleSet, order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    refund = park.refund(order, receipt, ["t1"], BEFORE_THE_VISIT, decimal=True)
    assert isinstance(refund["lines"][0]["amount"], Decimal)
    assert isinstance(refund["lines"][0]["fee"], Decimal)
    assert isinstance(refund["totals"]["clawback"], Decimal)
    assert isinstance(refund["totals"]["points_revoked"], int)


def test_late_refund_is_rejected_with_the_reason(park: tessera.RuleSet,
                                                 order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    refund = park.refund(order, receipt, ["t1"], "2026-06-13T12:00:00+03:00")
    [line] = refund["lines"]
    assert line["status"] == "rejected" and line["why"]


def test_previous_refunds_are_rejected_as_already_refunded(park: tessera.RuleSet,
                                                           order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    first = park.refund(order, receipt, ["t1"], BEFORE_THE_VISIT)
    again = park.refund(order, receipt, ["t1", "t2"], BEFORE_THE_VISIT,
                        previous={"lines": ["t1"], "clawback": first["totals"]["clawback"]})
    status = {line["id"]: line["status"] for line in again["lines"]}
    assert status == {"t1": "rejected", "t2": "refunded"}


def test_a_forged_previous_clawback_is_a_receipt_error(park: tessera.RuleSet,
                                                       order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    first = park.refund(order, receipt, ["t1"], BEFORE_THE_VISIT)
    withheld = first["totals"]["clawback"]
    with pytest.raises(tessera.ReceiptError) as e:
        park.refund(order, receipt, ["t2"], BEFORE_THE_VISIT,
                    previous={"lines": ["t1"], "clawback": "1000000.00"})
    assert e.value.path == "previous.clawback"
    assert f"withheld at most {withheld}: " in str(e.value)
    assert "(you passed 1000000.00: " in str(e.value)
    # the ledger's figure is accepted
    second = park.refund(order, receipt, ["t2"], BEFORE_THE_VISIT,
                         previous={"lines": ["t1"], "clawback": withheld})
    assert second["lines"][0]["status"] == "refunded"


def test_a_missing_previous_clawback_is_an_order_error(park: tessera.RuleSet,
                                                      order: dict[str, Any]) -> None:
    # the park re-prices: after an earlier refund no default is right, so
    # the figure from the caller's records is asked for
    receipt = park.evaluate(order)
    with pytest.raises(tessera.OrderError) as e:
        park.refund(order, receipt, ["t2"], BEFORE_THE_VISIT, previous={"lines": ["t1"]})
    assert not isinstance(e.value, tessera.ReceiptError)
    assert e.value.path == "previous.clawback"
    assert "pass `clawback`" in str(e.value)
    # with nothing refunded before it may be left out
    assert park.refund(order, receipt, ["t2"], BEFORE_THE_VISIT, previous={"lines": []}) \
        == park.refund(order, receipt, ["t2"], BEFORE_THE_VISIT)


def test_tampered_receipt_is_a_receipt_error_with_its_path(park: tessera.RuleSet,
                                                           order: dict[str, Any]) -> None:
    receipt = copy.deepcopy(park.evaluate(order))
    receipt["lines"][0]["total"] = "1.00"
    with pytest.raises(tessera.ReceiptError) as e:
        park.refund(order, receipt, ["t1"], BEFORE_THE_VISIT)
    assert e.value.path == "receipt.lines[0].total"
    assert e.value.code == -13                                  # TSR_ERECEIPT
    assert isinstance(e.value, tessera.OrderError)


def test_unknown_line_is_an_order_error(park: tessera.RuleSet, order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    with pytest.raises(tessera.OrderError) as e:
        park.refund(order, receipt, ["t1", "nope"], BEFORE_THE_VISIT)
    assert e.value.path == "lines[1]"
    assert not isinstance(e.value, tessera.ReceiptError)


def test_naive_refund_time_is_an_order_error(park: tessera.RuleSet,
                                             order: dict[str, Any]) -> None:
    receipt = park.evaluate(order)
    with pytest.raises(tessera.OrderError) as e:
        park.refund(order, receipt, ["t1"], datetime(2026, 6, 11, 10, 0))
    assert e.value.path == "datetime"


def test_lines_must_not_be_a_single_string(park: tessera.RuleSet,
                                           order: dict[str, Any]) -> None:
    with pytest.raises(TypeError):
        park.refund(order, park.evaluate(order), "t1", BEFORE_THE_VISIT)


def test_decimal_refunds_leave_no_money_as_str(park: tessera.RuleSet) -> None:
    # a child leaves the family pack (clawback), then the rest go too
    # (what was withheld comes back: clawback_returned)
    order = copy.deepcopy(FAMILY_ORDER)
    receipt = park.evaluate(order)
    first = park.refund(order, receipt, ["c1"], BEFORE_THE_VISIT)
    first_decimal = park.refund(order, receipt, ["c1"], BEFORE_THE_VISIT, decimal=True)
    assert Decimal(first["totals"]["clawback"]) > 0
    assert "reprice" in first
    assert assert_money_is_decimal(first, first_decimal) >= 2 + 4 + 2
    previous = {"lines": ["c1"], "clawback": first["totals"]["clawback"]}
    rest = park.refund(order, receipt, ["a1", "a2", "c2"], BEFORE_THE_VISIT, previous=previous)
    rest_decimal = park.refund(order, receipt, ["a1", "a2", "c2"], BEFORE_THE_VISIT,
                               previous=previous, decimal=True)
    assert Decimal(rest["totals"]["clawback_returned"]) > 0
    assert isinstance(rest_decimal["totals"]["clawback_returned"], Decimal)
    assert assert_money_is_decimal(rest, rest_decimal) >= 3 * 2 + 4


@pytest.mark.parametrize("where", ["receipt.totals.due", "previous.clawback"])
def test_a_float_in_a_refund_request_is_a_type_error(park: tessera.RuleSet,
                                                     order: dict[str, Any], where: str) -> None:
    receipt = park.evaluate(order)
    previous = None
    if where == "receipt.totals.due":
        receipt["totals"]["due"] = float(receipt["totals"]["due"])
    else:
        previous = {"lines": [], "clawback": 0.0}
    with pytest.raises(TypeError) as e:
        park.refund(order, receipt, ["t1"], BEFORE_THE_VISIT, previous=previous)
    assert str(e.value).startswith(f"{where}: a float cannot be sent in the refund request")
