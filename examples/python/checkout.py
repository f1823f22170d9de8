#!/usr/bin/env python3
"""A checkout service function: price a shop's basket with Tessera and print
the receipt.  Copy `checkout()` into your service; load the rule set once per
process (it is immutable and thread-safe) and call it for every basket.

    PYTHONPATH=build/bindings/python python3 examples/python/checkout.py

The shop keeps its own basket type; Tessera sees an order dict (docs/reference/order.md) and
answers with a result dict (what `tessera eval` prints).  Money is Decimal on both sides here,
times are aware datetimes; nothing about prices is decided in this file.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Sequence
from zoneinfo import ZoneInfo

import tessera

RULES = Path(__file__).resolve().parents[2] / "rules" / "park" / "park.yaml"
PARK_TIME = ZoneInfo("Europe/Moscow")


@dataclass
class BasketLine:
    """One line of the shop's basket, as the shop stores it."""
    line_id: str
    name: str
    kind: str                        # ticket, fnb, merch, pass
    quantity: int = 1
    price: Decimal | None = None     # tickets are priced by the rules
    height_cm: int | None = None     # tickets: the visitor's height
    visit: datetime | None = None    # tickets: opening time of the visit day
    ticket_type: str | None = None   # tickets: the type the customer chose, if any


@dataclass
class Customer:
    customer_id: str
    member: bool
    visits: int
    points_balance: int = 0
    tags: Sequence[str] = ()


class CheckoutError(Exception):
    """The basket cannot be priced; `line_id` names the basket line when known."""
    def __init__(self, message: str, line_id: str | None = None) -> None:
        super().__init__(message)
        self.line_id = line_id


def checkout(rules: tessera.RuleSet, order_id: str, basket: Sequence[BasketLine],
             customer: Customer, *, promo_codes: Sequence[str] = (),
             redeem_points: int = 0, now: datetime | None = None) -> dict[str, Any]:
    """Price a basket: the Tessera result, money as Decimal."""
    items = []
    for line in basket:
        item: dict[str, Any] = {"id": line.line_id, "kind": line.kind, "quantity": line.quantity}
        if line.price is not None:
            item["price"] = line.price
        if line.height_cm is not None:
            item["height_cm"] = line.height_cm
        if line.visit is not None:
            item["event_start"] = line.visit
        if line.ticket_type:
            # Passed through as the line's category: the rule file says which
            # types an order may name (`selectable`) and checks each against
            # the line, so a customer cannot pick a price (OrderError if not).
            item["category"] = line.ticket_type
        items.append(item)
    order = {
        "id": order_id,
        "datetime": now or datetime.now(PARK_TIME),
        "channel": "web",
        "customer": {"id": customer.customer_id, "member": customer.member,
                     "visits": customer.visits, "points_balance": customer.points_balance,
                     "tags": list(customer.tags)},
        "items": items,
        "promo_codes": list(promo_codes),
        "redeem_points": redeem_points,
    }
    try:
        return rules.evaluate(order, decimal=True, trace=False)
    except tessera.OrderError as e:
        # items[2].price -> the shop's own line id, for the message to the user
        line_id = None
        if e.path and e.path.startswith("items["):
            index = int(e.path[len("items["):e.path.index("]")])
            line_id = basket[index].line_id if index < len(basket) else None
        raise CheckoutError(e.message or str(e), line_id) from e


def _off(amount: Decimal) -> Decimal:
    """An amount taken off, printed with a minus (but never as -0.00)."""
    return -amount if amount else amount


def print_receipt(result: dict[str, Any], basket: Sequence[BasketLine]) -> None:
    names = {line.line_id: line.name for line in basket}
    currency = result["currency"]
    print(f"Order {result['order']}  ({result['ruleset']['id']} {result['ruleset']['version']})")
    for line in result["lines"]:
        label = names[line["id"]]
        if line["category"]:
            label += f" [{line['category']}]"
        print(f"  {line['quantity']} x {label:<34} {line['subtotal']:>10} {currency}")
        for discount in line["discounts"]:
            print(f"      {discount['id']:<36} {_off(discount['amount']):>10}")
        if line["redeemed"]["points"]:
            print(f"      {'points redeemed: ' + str(line['redeemed']['points']):<36}"
                  f" {_off(line['redeemed']['value']):>10}")
    totals = result["totals"]
    print(f"  {'Subtotal':.<40} {totals['subtotal']:>10} {currency}")
    print(f"  {'Discounts':.<40} {_off(totals['discount']):>10}")
    print(f"  {'Paid with points':.<40} {_off(totals['redeemed_value']):>10}")
    print(f"  {'Due':.<40} {totals['due']:>10} {currency}")
    for code in result["promo_codes"]:
        reason = f" ({code['reason']})" if code.get("reason") else ""
        print(f"  promo code {code['code']}: {code['status']}{reason}")
    points = result["points"]
    print(f"  points: {points['earned']} earned, {points['redeemed']} redeemed")
    for offer in result["offers"]:
        print(f"  * {offer['message']}")


def main() -> int:
    rules = tessera.RuleSet.from_file(RULES)          # once per process
    visit = datetime(2026, 6, 13, 10, 0, tzinfo=PARK_TIME)
    basket = [
        BasketLine("b1", "Day ticket", "ticket", height_cm=182, visit=visit),
        BasketLine("b2", "Day ticket", "ticket", height_cm=176, visit=visit),
        BasketLine("b3", "Day ticket", "ticket", height_cm=121, visit=visit),
        BasketLine("b4", "Day ticket", "ticket", height_cm=109, visit=visit),
        BasketLine("b5", "Cola 0.5 l", "fnb", quantity=4, price=Decimal("150.00")),
        BasketLine("b6", "Day ticket", "ticket", height_cm=171, visit=visit,
                   ticket_type="concession"),
    ]
    customer = Customer("C-77", member=True, visits=6, points_balance=1200)
    result = checkout(rules, "WEB-10231", basket, customer, promo_codes=["summer26"],
                      redeem_points=500, now=datetime(2026, 6, 10, 18, 5, tzinfo=PARK_TIME))
    print_receipt(result, basket)

    # A basket the rules cannot price: the error names the shop's line.
    broken = basket[:1] + [BasketLine("b9", "Gift card", "voucher", price=Decimal("1000.005"))]
    try:
        checkout(rules, "WEB-10232", broken, customer)
    except CheckoutError as e:
        print(f"\ncannot check out: basket line {e.line_id}: {e}")

    # A ticket type the customer may not choose: a toddler's free ticket for an adult.
    edited = basket[:1] + [BasketLine("b7", "Day ticket", "ticket", height_cm=176, visit=visit,
                                      ticket_type="toddler")]
    try:
        checkout(rules, "WEB-10233", edited, customer)
    except CheckoutError as e:
        print(f"cannot check out: basket line {e.line_id}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
