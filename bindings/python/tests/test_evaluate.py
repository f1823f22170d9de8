"""Evaluating orders: dicts in and out, Python values, errors with paths."""
from __future__ import annotations

import copy
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

import tessera

from conftest import FAMILY_ORDER, PARK_RULES, assert_money_is_decimal, plain_json, run_cli

MSK = timezone(timedelta(hours=3))


def test_evaluate_returns_the_result_dict(park: tessera.RuleSet, order: dict[str, Any]) -> None:
    result = park.evaluate(order)
    assert result["ruleset"] == {"id": "island-park", "version": park.version}
    assert result["order"] == "A-1001"
    lines = {line["id"]: line for line in result["lines"]}
    assert lines["t1"]["category"] == "child"
    assert lines["t1"]["unit_price"] == "2200.00"          # a Saturday: weekend price
    assert lines["f1"]["total"] == "300.00"
    assert isinstance(result["points"]["earned"], int)
    t = result["totals"]
    assert Decimal(t["subtotal"]) - Decimal(t["discount"]) - Decimal(t["redeemed_value"]) \
        == Decimal(t["due"])
    assert result["trace"]


def test_result_equals_the_cli_json(park: tessera.RuleSet, order: dict[str, Any]) -> None:
    cli = run_cli("eval", str(PARK_RULES), "-", stdin=plain_json(order))
    assert cli.status == 0, cli.stderr
    assert park.evaluate(order) == json.loads(cli.stdout)
    assert park.evaluate_json(plain_json(order)) == cli.stdout.rstrip("\n")


def test_evaluate_json_takes_str_bytes_and_yaml(park: tessera.RuleSet,
                                                order: dict[str, Any]) -> None:
    text = json.dumps(order)
    assert park.evaluate_json(text) == park.evaluate_json(text.encode())
    yaml_text = "datetime: '2026-06-10T11:00:00+03:00'\nitems:\n  - {id: f1, kind: fnb, price: '5.00'}\n"
    assert json.loads(park.evaluate_json(yaml_text))["totals"]["due"] == "5.00"


def test_options_trace_and_customer_safe(park: tessera.RuleSet, order: dict[str, Any]) -> None:
    order["promo_codes"] = ["NOPE-1"]
    assert park.evaluate(order, trace=False)["trace"] == []
    assert park.evaluate(order)["promo_codes"][0]["reason"] == "unknown"
    safe = park.evaluate(order, customer_safe=True)["promo_codes"][0]
    assert safe["reason"] == "not_applicable"


def test_python_decimal_date_and_datetime_values(park: tessera.RuleSet,
                                                 order: dict[str, Any]) -> None:
    as_text = park.evaluate(order)
    typed = dict(order)
    typed["datetime"] = datetime(2026, 6, 10, 11, 0, tzinfo=MSK)
    typed["customer"] = dict(order["customer"], birthday=date(2015, 6, 15),
                             last_visit=date(2026, 1, 3))
    typed["items"] = [dict(i) for i in order["items"]]
    typed["items"][0]["event_start"] = datetime(2026, 6, 13, 7, 0, tzinfo=timezone.utc)
    typed["items"][2]["price"] = Decimal("150.00")
    with_strings = dict(order, customer=dict(order["customer"], birthday="2015-06-15",
                                             last_visit="2026-01-03"))
    with_strings["items"] = [dict(i) for i in order["items"]]
    with_strings["items"][0]["event_start"] = "2026-06-13T07:00:00+00:00"
    assert park.evaluate(typed) == park.evaluate(with_strings)
    assert park.evaluate(typed)["segments"] == ["birthday"]
    assert as_text["segments"] == []


def test_decimal_keeps_its_digits(park: tessera.RuleSet, order: dict[str, Any]) -> None:
    order["items"][2]["price"] = Decimal("1.5E+2")             # 150, exactly
    assert park.evaluate(order)["lines"][2]["unit_price"] == "150.00"
    order["items"][2]["price"] = Decimal("150.005")            # finer than kopecks
    with pytest.raises(tessera.OrderError) as e:
        park.evaluate(order)
    assert e.value.path == "items[2].price"


def test_naive_datetime_is_an_order_error_with_its_path(park: tessera.RuleSet,
                                                        order: dict[str, Any]) -> None:
    order["items"][1]["event_start"] = datetime(2026, 6, 13, 10, 0)
    with pytest.raises(tessera.OrderError) as e:
        park.evaluate(order)
    assert e.value.path == "items[1].event_start"
    assert "offset" in e.value.message
    assert str(e.value).startswith("items[1].event_start: ")


@pytest.mark.parametrize("value, path", [
    ({1, 2}, "items[2].price"),
    (Decimal("NaN"), "items[2].price"),
])
def test_values_json_cannot_carry_are_order_errors(park: tessera.RuleSet, order: dict[str, Any],
                                                   value: Any, path: str) -> None:
    order["items"][2]["price"] = value
    with pytest.raises(tessera.OrderError) as e:
        park.evaluate(order)
    assert e.value.path == path


def test_order_must_be_a_mapping(park: tessera.RuleSet) -> None:
    with pytest.raises(TypeError):
        park.evaluate('{"datetime": "2026-06-10T11:00:00+03:00"}')  # type: ignore[arg-type]


def test_money_as_decimal_on_request(park: tessera.RuleSet, order: dict[str, Any]) -> None:
    order["redeem_points"] = 300
    text = park.evaluate(order)
    dec = park.evaluate(order, decimal=True)
    for k, v in dec["totals"].items():
        assert isinstance(v, Decimal) and v == Decimal(text["totals"][k])
    for line, tline in zip(dec["lines"], text["lines"]):
        for k in ("unit_price", "subtotal", "total"):
            assert line[k] == Decimal(tline[k]) and isinstance(line[k], Decimal)
        assert isinstance(line["redeemed"]["value"], Decimal)
        assert isinstance(line["redeemed"]["points"], int)      # points stay ints
        assert isinstance(line["points_earned"], int)
        for d in line["discounts"]:
            assert isinstance(d["amount"], Decimal)
    assert dec["totals"]["redeemed_value"] == Decimal("300.00")
    assert str(dec["totals"]["due"]) == text["totals"]["due"]   # exponent kept: "…00"


def test_duplicate_line_id_is_an_order_error_at_items_1_id(park: tessera.RuleSet,
                                                           order: dict[str, Any]) -> None:
    order["items"][1]["id"] = "t1"
    with pytest.raises(tessera.OrderError) as e:
        park.evaluate(order)
    err = e.value
    assert err.path == "items[1].id"
    assert err.code == -7                                      # TSR_EORDER
    assert err.file is None and err.line is None
    assert str(err) == f"items[1].id: {err.message}"
    cli = run_cli("eval", str(PARK_RULES), "-", stdin=plain_json(order))
    assert cli.status == 2 and err.message in cli.stderr and "items[1].id" in cli.stderr


def test_a_ticket_type_passed_through_is_a_selectable_category(park: tessera.RuleSet,
                                                               order: dict[str, Any]) -> None:
    order["items"][1]["category"] = "concession"         # the park's only selectable type
    lines = {line["id"]: line for line in park.evaluate(order)["lines"]}
    assert (lines["t2"]["category"], lines["t2"]["unit_price"]) == ("concession", "2300.00")


@pytest.mark.parametrize("line, category, message", [
    (1, "toddler", 'category "toddler" is not selectable'),         # a free ticket for an adult
    (2, "toddler", 'category "toddler" is not selectable'),         # a free cafe line
    (0, "concession", "its `when` does not hold"),                  # 118 cm: a child's price
    (1, "vip", 'unknown category "vip"'),
])
def test_an_order_never_chooses_its_own_price(park: tessera.RuleSet, order: dict[str, Any],
                                              line: int, category: str, message: str) -> None:
    order["items"][line]["category"] = category
    with pytest.raises(tessera.OrderError) as e:
        park.evaluate(order)
    assert e.value.path == f"items[{line}].category"
    assert message in e.value.message
    cli = run_cli("eval", str(PARK_RULES), "-", stdin=plain_json(order))
    assert cli.status == 2 and f"items[{line}].category" in cli.stderr


def test_malformed_json_is_an_order_error(park: tessera.RuleSet) -> None:
    with pytest.raises(tessera.OrderError) as e:
        park.evaluate_json('{"datetime": ')
    assert e.value.code == -7                                  # TSR_EORDER
    assert "JSON" in e.value.message


def test_wrong_type_is_an_order_error_at_its_path(park: tessera.RuleSet,
                                                  order: dict[str, Any]) -> None:
    order["customer"]["visits"] = "three"
    with pytest.raises(tessera.OrderError) as e:
        park.evaluate(order)
    assert e.value.path == "customer.visits"


def test_overflow_is_an_evaluation_error() -> None:
    rs = tessera.RuleSet.from_string("""\
tessera: 1
ruleset: overflow
version: "1"
currency: EUR
schema:
  item: { n: int }
categories:
  - id: big
    for: item.kind == "ticket"
    when: item.n * 1000000000 > 5
    price: 10.00
""", "overflow.yaml")
    with pytest.raises(tessera.EvaluationError) as e:
        rs.evaluate({"datetime": "2026-06-10T11:00:00+03:00",
                     "items": [{"id": "t1", "kind": "ticket", "n": 9_000_000_000_000_000}]})
    assert e.value.code == -11                                 # TSR_EEVAL
    assert "overflow" in e.value.message
    assert not isinstance(e.value, tessera.OrderError)


# -- money is never a float ---------------------------------------------------

@pytest.mark.parametrize("where, value", [
    ("items[2].price", 19.99),                 # the one that used to pass
    ("items[2].price", 0.1 + 0.2),             # the one that used to fail
    ("items[2].price", 150.0),
    ("items[0].height_cm", 118.0),
    ("customer.visits", 3.0),
    ("redeem_points", float("nan")),
    ("customer.points_lots[0].points", 100.0),
])
def test_a_float_anywhere_is_a_type_error_naming_its_path(park: tessera.RuleSet,
                                                          order: dict[str, Any],
                                                          where: str, value: float) -> None:
    if where.startswith("items"):
        index, key = int(where[6]), where.split(".")[1]
        order["items"][index][key] = value
    elif where == "customer.visits":
        order["customer"]["visits"] = value
    elif where == "redeem_points":
        order["redeem_points"] = value
    else:
        order["customer"]["points_lots"] = [{"id": "L1", "points": value}]
    with pytest.raises(TypeError) as e:
        park.evaluate(order)
    assert str(e.value).startswith(f"{where}: a float cannot be sent in the order")
    assert repr(value) in str(e.value)


def test_strings_that_look_like_floats_are_not_floats(park: tessera.RuleSet,
                                                      order: dict[str, Any]) -> None:
    for text in ('C-"77",1.5e+3', "C-77:1.5", '"'):
        order["customer"]["id"] = text
        assert park.evaluate(order)["order"] == "A-1001"
        order["items"][2]["price"] = 150.0                # and a float is still found
        with pytest.raises(TypeError, match=r"^items\[2\]\.price: "):
            park.evaluate(order)
        order["items"][2]["price"] = "150.00"


def test_money_as_str_int_and_decimal_agree(park: tessera.RuleSet,
                                            order: dict[str, Any]) -> None:
    prices: list[Any] = ["150.00", 150, Decimal("150.00"), Decimal("150")]
    results = []
    for price in prices:
        order["items"][2]["price"] = price
        results.append(park.evaluate(order))
    assert all(r == results[0] for r in results)


# -- decimal=True converts every money field ---------------------------------

def test_decimal_result_leaves_no_money_as_str(park: tessera.RuleSet) -> None:
    # a family pack, a promo code, points redeemed and earned
    order = copy.deepcopy(FAMILY_ORDER)
    as_text = park.evaluate(order)
    as_decimal = park.evaluate(order, decimal=True)
    assert any(line["discounts"] for line in as_text["lines"])
    assert as_text["points"]["redeemed"] > 0
    assert assert_money_is_decimal(as_text, as_decimal) >= 5 * 4 + 4
