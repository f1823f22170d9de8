#!/usr/bin/python3
"""Write a year of invented Island Park web-shop orders as JSON Lines, one
file a month (orders-2026-01.jsonl ... orders-2026-12.jsonl), for
reprice_year.py to re-price.

    examples/dask/make_orders.py 50000 /tmp/park-orders

The same count always gives the same files (a fixed seed).  Most orders are
valid; a few are not, as in a real export: a ticket without its visit day
(refused by every rule version), a truncated line, a blank line.
"""
from __future__ import annotations

import json
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

MSK = timezone(timedelta(hours=3))
FNB = [("COLA-05", "150.00"), ("KIDS-MENU", "450.00"), ("CAPPUCCINO", "220.00"),
       ("BURGER", "590.00"), ("ICE-CREAM", "180.00")]
MERCH = [("MUG", "890.00"), ("CAP", "1290.00"), ("PONCHO", "390.00")]


def order(rng: random.Random, n: int, at: datetime) -> dict:
    visit = (at + timedelta(days=rng.choice([0, 1, 2, 3, 7]))).replace(hour=10, minute=0, second=0)
    items: list[dict] = []
    for t in range(rng.choice([1, 1, 2, 2, 3, 4, 4, 5])):
        items.append({"id": f"t{t + 1}", "kind": "ticket", "height_cm": rng.choice([92, 112, 121, 128, 135, 168, 182]),
                      "event_start": visit.isoformat()})
    for f in range(rng.choice([0, 0, 1, 2])):
        sku, price = rng.choice(FNB)
        items.append({"id": f"f{f + 1}", "kind": "fnb", "sku": sku, "quantity": rng.randint(1, 4), "price": price,
                      "event_start": visit.replace(hour=13).isoformat()})
    if rng.random() < 0.1:
        sku, price = rng.choice(MERCH)
        items.append({"id": "m1", "kind": "merch", "sku": sku, "price": price})
    if rng.random() < 0.01:
        items.append({"id": "p1", "kind": "pass", "sku": "SEASON-2026"})
    o: dict = {"id": f"W-{n:06d}", "datetime": at.isoformat(), "channel": rng.choice(["web", "web", "app"]),
               "items": items}
    if rng.random() < 0.8:
        c = {"id": f"C-{rng.randint(1, 9000):05d}", "member": rng.random() < 0.6, "visits": rng.randint(0, 12),
             "points_balance": rng.choice([0, 0, 150, 400, 1200])}
        if rng.random() < 0.3:
            c["birthday"] = f"{rng.randint(1960, 2018)}-{at.month:02d}-{min(28, at.day + rng.randint(0, 5)):02d}"
        if rng.random() < 0.1:
            c["tags"] = ["season_pass"]
        if rng.random() < 0.05:
            c["last_visit"] = "2024-05-01"
        o["customer"] = c
        if c["points_balance"] and rng.random() < 0.3:
            o["redeem_points"] = rng.choice([100, 300, 1000])
    r = rng.random()
    if r < 0.05:
        o["promo_codes"] = ["SUMMER26"]
    elif r < 0.06:
        o["promo_codes"] = [f"DOC-{rng.randint(0, 999999):06d}"]
    elif r < 0.07:
        o["promo_codes"] = ["FREE-TICKETS"]
    return o


def main() -> int:
    if len(sys.argv) != 3:
        print("usage: make_orders.py COUNT OUT_DIR", file=sys.stderr)
        return 64
    count, out = int(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(20261207)
    start = datetime(2026, 1, 1, tzinfo=MSK)
    step = timedelta(days=365) / count
    files: dict[int, list[str]] = {m: [] for m in range(1, 13)}
    for n in range(count):
        at = (start + step * n).replace(microsecond=0)
        o = order(rng, n + 1, at)
        r = rng.random()
        if r < 0.002:
            del o["items"][0]["event_start"]               # no visit day: no price in any version
        line = json.dumps(o, separators=(",", ":"))
        if r > 0.999:
            line = line[: len(line) // 2]                   # a truncated export line
        files[at.month].append(line)
        if rng.random() < 0.001:
            files[at.month].append("")
    for month, lines in files.items():
        (out / f"orders-2026-{month:02d}.jsonl").write_text("".join(line + "\n" for line in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
