#!/usr/bin/env python3
"""make_corpora.py — (re)generates the seed corpora in tests/fuzz/corpus/.

Run from anywhere: python3 tests/fuzz/tools/make_corpora.py [SHARED_DIR]
SHARED_DIR (default /work/shared) holds scenarios/ and bench/park10/.  The
script only adds or overwrites the files it names ("seed-*", "rules-*",
"invalid-*", "hostile-*", "expr-*", "order-*"); reproducers of findings
("crash-*", "leak-*", "timeout-*", "ubsan-*") are kept as they are.
"""
import glob
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(FUZZ))
SHARED = sys.argv[1] if len(sys.argv) > 1 else "/work/shared"
CORPUS = os.path.join(FUZZ, "corpus")


def put(kind, name, data):
    d = os.path.join(CORPUS, kind)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def read(path):
    with open(path, "rb") as f:
        return f.read()


# ---------------------------------------------------------------- rule sets
MIN = "tessera: 1\nruleset: r\ncurrency: EUR\n"

put("ruleset", "rules-park.yaml", read(os.path.join(SHARED, "scenarios/park/park.yaml")))
put("ruleset", "rules-park10.yaml", read(os.path.join(SHARED, "bench/park10/park10.tessera.yaml")))
for p in sorted(glob.glob(os.path.join(REPO, "rules/*/*.yaml"))):
    rel = os.path.relpath(p, os.path.join(REPO, "rules")).replace("/", "-")
    put("ruleset", "rules-repo-" + rel, read(p))
for p in sorted(glob.glob(os.path.join(REPO, "tests/rules/invalid/*/*.yaml"))):
    case = os.path.basename(os.path.dirname(p))
    put("ruleset", "invalid-%s-%s" % (case, os.path.basename(p)), read(p))

valid = {
    "minimal": MIN,
    "all-sections": MIN + """version: "x"
minor_units: 2
rounding: half_even
timezone: Europe/Moscow
schema:
  item: { h: int, z: string, s: datetime, v: bool, w: decimal, m: money, d: date, l: list<string> }
  customer: { visits: int, last: date, member: bool, spend: money }
tables:
  price: { A: 1.00, B: 2.50 }
  days: [2026-12-24, 2026-12-25]
  names: ["a", "b"]
segments:
  new: customer.visits == 0
  lapsed: days_between(customer.last, date(now)) > 180
tiers:
  - { id: gold, when: customer.spend >= 500.00 }
categories:
  - id: c1
    for: item.kind == "ticket"
    when: item.h < 100
    price: tables.price[item.z]
    valid: { from: 2026-01-01, until: 2026-12-31, weekdays: [1, 2, 3], hours: "10:00-14:00" }
    channels: [web, app]
  - id: c2
    price: 3.00
promo_codes:
  - id: p1
    match: '^P-[0-9]{2}$'
    valid: { from: 2026-01-01 }
    when: customer.member
    max_uses_per_customer: 1
    max_uses: 10
    combinable: false
  - id: p2
    code: SUMMER10
discounts:
  - { id: d1, requires: p1, for: item.kind == "ticket", percent: 50, exclusive: true, priority: 5 }
  - id: d2
    bundle:
      - { for: item.category == "c1", quantity: 2 }
      - { for: item.category == "c2", quantity: 1 }
    price: 4.00
    max_applications: 2
  - { id: d3, for: item.kind == "fnb", every: 3, discounted: 1, percent: 100, limit: { max_amount: 10.00 } }
  - { id: d4, when: segment.lapsed, order_amount: 5.00, min_total: 10.00 }
  - { id: d5, for: item.kind == "x", amount: 0.50, group: g, min_quantity: 2 }
  - { id: d6, for: item.kind == "x", percent: 12.5, group: g }
  - { id: d7, for: item.kind == "ticket", reward: item.sku == "DRINK", every: 2, discounted: 1, price: 0.10 }
loyalty:
  member_when: customer.member
  earn:
    - { id: base, per: 1.00, points: 1 }
    - { id: bonus, when: segment.new, points: 10 }
    - { id: dbl, when: tier == "gold", multiply: 2, rules: [base] }
  on: price
  pending_days: 1
  expire_days: 30
  redeem: { point_value: 0.01, for: item.kind != "merch", max_percent: 50, min_points: 100, step: 10 }
refunds:
  allowed: 'not item.v and now <= item.s - hours(24)'
  fee: 1.00
  to: original_payment
  reprice: true
offers:
  - { id: o1, when: 'segment.new and not any(items, item.kind == "fnb")', message: "hi" }
""",
    "include-refused": MIN + "include: [other.yaml]\n",
    "include-self": MIN + "include: [fuzz.yaml, fuzz.yaml]\n",
    "flow-style": '{tessera: 1, ruleset: r, currency: EUR, categories: [{id: a, price: 1.00}]}\n',
    "json-style": '{"tessera": 1, "ruleset": "r", "currency": "JPY", "categories": [{"id": "a", "price": "100"}]}\n',
    "unknown-currency": "tessera: 1\nruleset: r\ncurrency: XYZ\nminor_units: 3\ncategories: [{id: a, price: 1.125}]\n",
    "zero-minor-units": "tessera: 1\nruleset: r\ncurrency: XYZ\nminor_units: 0\ncategories: [{id: a, price: 7}]\n",
    "comments-and-docstart": "%YAML 1.1\n---\n# c\n" + MIN + "...\n",
    "crlf": MIN.replace("\n", "\r\n"),
    "bom": "\ufeff" + MIN,
    "anchors-allowed": MIN + "tables:\n  a: &x [1, 2, 3]\n  b: *x\n",
    "merge-key": MIN + "tables:\n  a: &x {k: 1}\n  b: {<<: *x, j: 2}\n",
}
for k, v in valid.items():
    put("ruleset", "seed-" + k + ".yaml", v)


def deep(open_, close, n):
    return open_ * n + close * n


hostile = {
    # issue 15: paths out of the rule file's directory (the fuzz harness
    # refuses every include through its resolver; the CLI and the loader
    # refuse these by default)
    "include-outside-absolute": MIN + "include: [/proc/self/status]\n",
    "include-outside-parent": MIN + "include: [../../etc/hostname]\n",
    "deep-flow-seq": MIN + "tables:\n  t: " + deep("[", "]", 10000) + "\n",
    "deep-flow-map": MIN + "tables:\n  t: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "deep-block": MIN + "tables:\n" + "".join("  " * (i + 1) + "k%d:\n" % i for i in range(200)) + "  " * 201 + "1\n",
    "deep-unclosed": MIN + "tables:\n  t: " + "[" * 20000 + "\n",
    "alias-bomb": MIN + "tables:\n" + "  a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        "  %s: &%s [*%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s, *%s]\n" % ((chr(98 + i),) * 2 + (chr(97 + i),) * 9) for i in range(9)),
    "alias-undefined": MIN + "tables:\n  a: *nope\n",
    "alias-self": MIN + "tables:\n  a: &a [*a]\n",
    "huge-int": MIN + "tables:\n  n: {a: 99999999999999999999999999999999}\ncategories: [{id: a, price: 99999999999999999999.00}]\n",
    "int64-edges": MIN + "tables:\n  n: {a: 9223372036854775807, b: -9223372036854775808, c: 9223372036854775808}\n",
    "money-edges": MIN + "categories:\n  - {id: a, price: 92233720368547758.07}\n  - {id: b, price: -0.00}\n  - {id: c, price: 0.001}\n",
    "exp-1e400": MIN + "tables:\n  n: {a: 1e400, b: -1e400, c: .inf, d: .nan, e: 0x1F, f: 0o17, g: 1_000}\ncategories: [{id: a, price: 1e400}]\n",
    "minus-zero": MIN + "tables:\n  n: {a: -0, b: -0.0, c: +0}\ncategories: [{id: a, price: -0}]\n",
    "minus-zero-price": MIN + "categories: [{id: a, price: -0}, {id: b, price: -0.00}, {id: c, price: '-0.00 + 0'}]\n",
    "exp-price": MIN + "categories: [{id: a, price: 1e400}]\n",
    "int64-max-table": MIN + "tables:\n  n: {a: 9223372036854775807}\nsegments:\n  s: 'tables.n[\"a\"] + 1 > 0'\n",
    "nul-escape": MIN + 'version: "a\\u0000b"\ncategories: [{id: "x\\0y", price: 1.00, label: "\\u0000"}]\n',
    "raw-nul": (MIN + "version: a\x00b\n"),
    "invalid-utf8": (MIN + "version: ").encode() + b"\xc3\x28\xa0\xa1\xff\xfe\xed\xa0\x80\xf4\x90\x80\x80\n",
    "invalid-utf8-key": MIN.encode() + b"tables:\n  \xc0\xaf: 1\n",
    "overlong-utf8": MIN.encode() + b"version: \"\xe0\x80\xaf\"\n",
    "utf16le": ("\ufeff" + MIN).encode("utf-16-le"),
    "utf16be": ("\ufeff" + MIN).encode("utf-16-be"),
    "odd-scalars": MIN + "version: ~\ntables:\n  t: {a: yes, b: No, c: off, d: null, e: '', f: \"\", g: !!str 1, h: 2026-02-30, i: 2026-13-01, j: 12:30:00}\n",
    "tags": MIN + "tables:\n  t: !!map {a: !!binary aGVsbG8=}\n  u: !custom 1\n",
    "tabs": "tessera:\t1\nruleset:\tr\ncurrency: EUR\n\tcategories: []\n",
    "duplicate-keys": MIN + "currency: USD\ncategories: [{id: a, id: b, price: 1.00}]\n",
    "wrong-types": "tessera: [1]\nruleset: {a: b}\ncurrency: 3\ncategories: {id: a}\ndiscounts: 7\n",
    "empty": "",
    "only-comment": "# nothing\n",
    "scalar-doc": "tessera\n",
    "two-docs": MIN + "---\n" + MIN,
    "long-scalar": MIN + "version: \"" + "x" * 9000 + "\"\n",
    "long-expression": MIN + "segments:\n  s: '" + " or ".join(["true"] * 250) + "'\n",
    "deep-expression": MIN + "segments:\n  s: '" + "(" * 1000 + "true" + ")" * 1000 + "'\n",
    "deep-not": MIN + "segments:\n  s: '" + "not " * 500 + "true'\n",
    "deep-unary-minus": MIN + "categories: [{id: a, price: '" + "-" * 2000 + "1.00'}]\n",
    "many-nodes": MIN + "tables:\n  t: [" + ", ".join(["1"] * 21000) + "]\n",
    "regex-catastrophic": MIN + "promo_codes:\n  - {id: p, match: '(a+)+$'}\nsegments:\n  s: 'matches(customer.id, \"(a|aa)+$\")'\n",
    "regex-bad": MIN + "promo_codes:\n  - {id: p, match: '(['}\nsegments:\n  s: 'matches(customer.id, \"\\\\\")'\n",
    "many-ids": MIN + "categories:\n" + "".join("  - {id: c%d, price: %d.00}\n" % (i, i) for i in range(500)),
    "timezone-escape": MIN + "timezone: ../../../../etc/passwd\n",
    "timezone-abs": MIN + "timezone: /etc/localtime\n",
    "timezone-long": MIN + "timezone: " + "A/" * 200 + "B\n",
}
for k, v in hostile.items():
    put("ruleset", "hostile-" + k + ".yaml", v)

# -------------------------------------------------------------- expressions
exprs = [
    # literals and operators
    "true", "false", "1 + 2 * 3 - 4 / 2 % 3", "-(-1)", "--1", "1.5 * 2", "0.000001 + 0.1",
    "\"a\" == 'a'", "1 != 2 and 2 < 3 and 3 <= 3 and 4 > 3 and 4 >= 4",
    "not true or false", "item.kind in [\"ticket\", \"fnb\"]", "item.kind in tables.kinds",
    "1 if true else 2", "item.price * 2 if item.kind == \"ticket\" else item.price",
    "(1 + 2) * (3 - 4)", "9223372036854775807 + 1", "-9223372036854775808", "9223372036854775807 * 2",
    "-9223372036854775807 - 2", "1 / 0", "1 % 0", "5.5 % 2", "10.00", "10.00 * 0.125",
    # names
    "order.id == \"X-1\"", "order.channel == \"web\"", "customer.id", "customer.visits >= 3",
    "customer.member", "customer.spend_12m >= 500.00", "customer.ratio * 2 > 0.2",
    "\"vip\" in customer.tags", "customer.points_balance > 1000", "item.height_cm < 130",
    "item.zone == \"B\"", "item.validated", "not item.validated", "item.weight > 1",
    "item.deposit + item.price", "item.quantity * item.price", "item.sku == \"COLA-05\"",
    "item.category == \"adult\"", "item.subtotal > 1.00", "item.total < item.subtotal",
    "\"locker\" in item.extras", "now > datetime(\"2026-01-01T00:00:00Z\")",
    "segment.probe", "tier == \"gold\"", "tier", "promo.doctors", "promo.summer",
    "tables.zone_price[item.zone]", "tables.zone_rank[\"A\"]", "tables.zone_price[\"Z\"] > 1.00",
    "date(now) in tables.holidays", "items", "item",
    # functions
    "has(item.height_cm)", "has(customer.nick) and not has(item.zone)",
    "count(items, item.kind == \"ticket\") >= 1", "sum(items, item.quantity) > 2",
    "sum(items, item.price)", "any(items, item.kind == \"fnb\")", "all(items, item.quantity >= 1)",
    "count(items, any(items, item.kind == \"x\"))", "min(1, 2) + max(3, 4)",
    "min(item.price, 5.00)", "max(customer.visits, -1)", "abs(-3) == 3", "abs(-9223372036854775807 - 1)",
    "floor(2.7) == 2", "floor(item.price)", "floor(-0.5)", "len(customer.nick) > 3",
    "len(\"\")", "lower(item.sku) == \"park-day\"", "upper(customer.nick)",
    "starts_with(item.sku, \"PARK\")", "matches(item.sku, \"^PARK-[A-Z]+$\")",
    "matches(customer.nick, \"(?i)ü\")", "matches(item.sku, \"(a+)+$\")", "matches(item.sku, \"[\")",
    "matches(item.sku, item.zone)", "date(\"2026-12-31\")", "date(now) == date(\"2026-06-13\")",
    "date(\"2028-02-29\")", "date(\"2026-02-29\")", "date(\"2026-13-45\")", "datetime(\"2026-06-13T14:00:00+03:00\")",
    "datetime(\"2026-06-13T14:00:00Z\") - hours(1)", "datetime(\"garbage\")",
    "weekday(now) >= 6", "weekday(date(now)) <= 5", "hour(now) >= 14 and minute(now) < 30",
    "hour(item.event_start)", "days(3) > hours(24)", "minutes(30) < hours(1)",
    "now + days(1) > now", "date(now) - days(400)", "item.event_start - now > days(2)",
    "days_between(customer.last_visit, date(now)) > 180", "days_between(date(now), item.visit_on)",
    "age(customer.birthday, date(now)) < 12", "birthday_within(customer.birthday, date(now), 3)",
    "birthday_within(customer.birthday, date(\"2027-03-01\"), 0)", "days(9223372036854775807)",
    "hours(-9223372036854775807)", "customer.joined < now - days(365)",
    # type, name and syntax errors
    "item.heigth_cm < 130", "item.zone < 3", "unknown_fn(1)", "has()", "count(items)",
    "min(1)", "max(1, 2, 3)", "1 +", "(1", "1)", "\"unterminated", "'", "''", "1 if true",
    "a.b.c.d", "item.", ".", "[", "[1, 2", "[]", "tables.", "tables.nope", "segment.nope",
    "promo.nope", "item[0]", "items[0].kind", "1 == \"1\"", "true + 1", "date(1)", "days(\"x\")",
    "\"\\u0000\"", "\"\\x00\"", "\"a\\\"b\"", "1e400", "-0", "-0.0", "0.0000001",
    "99999999999999999999999", "1.", ".5", "1..2", "1__0", "0x10", "$", "@", "#comment",
    "and", "or or", "not", "if", "else", "in", "item.kind in", "in []", "\t true \t",
    "tru\u00e9", "\u00e9 == 1", "\xff", "\"\xc3\x28\"",
]
exprs = list(dict.fromkeys(exprs))
for i, e in enumerate(exprs):
    put("expr", "expr-%03d" % i, e.encode("utf-8", "surrogateescape") if isinstance(e, str) else e)
put("expr", "expr-deep-parens", "(" * 1500 + "1" + ")" * 1500)
put("expr", "expr-deep-not", "not " * 1500 + "true")
put("expr", "expr-deep-if", "1 if true else " * 500 + "2")
put("expr", "expr-deep-minus", "-" * 2000 + "1")
put("expr", "expr-deep-index", "tables.zone_rank" + "[\"A\"]" * 500)
put("expr", "expr-long-or", " or ".join(["item.validated"] * 300))
put("expr", "expr-invalid-utf8", b"item.sku == \"\xc3\x28\xa0\xa1\"")
put("expr", "expr-nul", b"item.sku == \"a\x00b\"")

# ------------------------------------------------------------------- orders
def lines(path, n):
    out = []
    with open(path, "rb") as f:
        for i, l in enumerate(f):
            if i >= n:
                break
            out.append(l.rstrip(b"\n"))
    return out

samples = lines(os.path.join(SHARED, "bench/park10/samples.jsonl"), 10)
bench = lines(os.path.join(SHARED, "bench/park10/orders.jsonl"), 12)
for i, l in enumerate(samples):
    put("order", "order-sample-%d.json" % i, l)
for i, l in enumerate(bench):
    put("order", "order-bench-%02d.json" % i, l)

base = json.loads(samples[0])
park_order = {
    "id": "A-1001", "datetime": "2026-06-13T14:30:00+03:00", "channel": "web",
    "customer": {"id": "C-77", "tags": ["season_pass"], "points_balance": 1200, "visits": 3,
                 "last_visit": "2025-06-01", "birthday": "2015-06-15", "member": True},
    "items": [{"id": "t1", "kind": "ticket", "sku": "PARK-DAY", "quantity": 1, "height_cm": 118},
              {"id": "t2", "kind": "ticket", "quantity": 2, "height_cm": 180},
              {"id": "t3", "kind": "ticket", "quantity": 2, "height_cm": 120},
              {"id": "f1", "kind": "fnb", "sku": "COLA-05", "quantity": 2, "price": "150.00"}],
    "promo_codes": [" doc-123456 ", "DOC-123456", "NOPE"],
    "promo_uses": {"doctors": 0}, "promo_total_uses": {"doctors": 17},
    "redeem_points": 300,
}
put("order", "order-park-full.json", json.dumps(park_order))
lots = dict(park_order)
lots["customer"] = dict(park_order["customer"])
del lots["customer"]["points_balance"]
lots["customer"]["points_lots"] = [{"id": "L1", "points": 500, "expires_on": "2026-07-01"},
                                  {"id": "L2", "points": 50, "expires_on": "2026-01-01"},
                                  {"id": "L3", "points": 200}]
put("order", "order-points-lots.json", json.dumps(lots))
put("order", "order-preset-category.json", json.dumps(dict(park_order, items=[
    {"id": "t1", "kind": "ticket", "category": "child"},
    {"id": "t2", "kind": "ticket", "category": "nope"}])))
put("order", "order-yaml.yaml", """id: Y-1
datetime: 2026-06-13T14:30:00+03:00
customer: { id: C-1, member: true, visits: 0, birthday: 2015-06-14 }
items:
  - { id: t1, kind: ticket, height_cm: 95 }
  - { id: t2, kind: ticket, height_cm: 125, quantity: 3 }
promo_codes: [DOC-000001]
""")
put("order", "order-yaml-flow.yaml", "--- {id: Y, datetime: '2026-01-01T00:00:00Z', items: [{id: a, kind: ticket}]}\n")

def mut(name, fn):
    o = json.loads(json.dumps(park_order))
    fn(o)
    put("order", "order-bad-" + name + ".json", json.dumps(o))

mut("neg-quantity", lambda o: o["items"][0].update(quantity=-1))
mut("zero-quantity", lambda o: o["items"][0].update(quantity=0))
mut("huge-quantity", lambda o: o["items"][0].update(quantity=9223372036854775807))
mut("dup-line", lambda o: o["items"].append(dict(o["items"][0])))
mut("price-precise", lambda o: o["items"][3].update(price="1.505"))
mut("price-neg", lambda o: o["items"][3].update(price="-1.00"))
mut("price-huge", lambda o: o["items"][3].update(price="92233720368547758.07", quantity=2))
mut("unknown-field", lambda o: o["items"][0].update(zone="A"))
mut("wrong-type", lambda o: o["items"][0].update(height_cm="tall"))
mut("no-items", lambda o: o.update(items=[]))
mut("no-datetime", lambda o: o.pop("datetime"))
mut("bad-datetime", lambda o: o.update(datetime="2026-02-30T25:61:00+14:01"))
mut("no-offset", lambda o: o.update(datetime="2026-06-13T14:30:00"))
mut("redeem-huge", lambda o: o.update(redeem_points=9223372036854775807))
mut("balance-neg", lambda o: o["customer"].update(points_balance=-5))
mut("promo-not-list", lambda o: o.update(promo_codes="DOC-123456"))
mut("promo-many", lambda o: o.update(promo_codes=["X%d" % i for i in range(100)]))
mut("customer-null", lambda o: o.update(customer=None))
mut("lapsed-leap", lambda o: o["customer"].update(last_visit="2024-02-29", birthday="2016-02-29"))

raw = {
    "empty": b"",
    "ws": b"  \n\t ",
    "null": b"null",
    "array": b"[1,2,3]",
    "truncated": json.dumps(park_order)[:120].encode(),
    "deep-json": b"{\"id\":" + b"[" * 50000 + b"]" * 50000 + b"}",
    "deep-json-unclosed": b"{\"a\":" + b"{\"a\":" * 20000,
    "deep-yaml": b"id: " + b"[" * 20000 + b"\n",
    "invalid-utf8": b"{\"id\":\"\xc3\x28\",\"datetime\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":\"a\",\"kind\":\"\xff\"}]}",
    "lone-surrogate": b"{\"id\":\"\\ud800\",\"datetime\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":\"\\udc00x\",\"kind\":\"ticket\"}]}",
    "nul-escape": b"{\"id\":\"a\\u0000b\",\"datetime\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":\"\\u0000\",\"kind\":\"ticket\"}]}",
    "raw-nul": b"{\"id\":\"a\x00b\",\"datetime\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\"}]}",
    "numbers": b"{\"id\":\"n\",\"datetime\":\"2026-01-01T00:00:00Z\",\"redeem_points\":1e400,\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"height_cm\":-0,\"quantity\":1.0,\"price\":1e2}],\"customer\":{\"id\":\"c\",\"points_balance\":99999999999999999999999}}",
    "minus-zero": b"{\"id\":\"n\",\"datetime\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":\"a\",\"kind\":\"fnb\",\"price\":\"-0.00\",\"quantity\":-0}]}",
    "dup-keys": b"{\"id\":\"a\",\"id\":\"b\",\"datetime\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"kind\":\"fnb\"}]}",
    "bom": b"\xef\xbb\xbf{\"id\":\"b\",\"datetime\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\",\"height_cm\":120}]}",
    "trailing": b"{\"id\":\"b\",\"datetime\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\"}]} {}",
    "comments": b"{/*c*/\"id\":\"b\",\"datetime\":\"2026-01-01T00:00:00Z\",\"items\":[{\"id\":\"a\",\"kind\":\"ticket\"}]}",
    "yaml-alias-bomb": b"a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\nitems: [*d]\n",
    "yaml-odd-scalars": b"id: ~\ndatetime: 2026-06-13 14:30:00\nitems:\n  - {id: 1, kind: yes, quantity: 0x10, price: .inf}\n",
    "yaml-tags": b"id: !!binary aGk=\ndatetime: !!timestamp 2026-01-01\nitems: !!seq [!!map {id: a, kind: ticket}]\n",
    "many-lines": json.dumps(dict(park_order, items=[{"id": "i%d" % i, "kind": "fnb", "price": "1.00"} for i in range(300)])).encode(),
    "long-string": json.dumps(dict(park_order, id="x" * 5000)).encode(),
}


def fnv1a(s):
    h = 2166136261
    for c in s.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def colliding_ids(n, bits):
    """n line ids equal in their `bits` low FNV-1a bits: one bucket of any
    table of up to 2**bits slots under unseeded FNV-1a (issue 15)."""
    out, u = [], 0
    while len(out) < n:
        s = "c%d" % u
        u += 1
        if fnv1a(s) & ((1 << bits) - 1) == 0:
            out.append(s)
    return out


# Issue 15: text that must reach no terminal raw and no message half cut.
raw.update({
    "escape-ids": json.dumps(dict(park_order, id="A\x1b]0;owned\x07",
                                  items=[{"id": "t1\x1b[2J\n\u009b1;1H", "kind": "ticket",
                                          "height_cm": 118}],
                                  promo_codes=["\x1b[31mRED", "DOC-\x1b[0m"])).encode(),
    "long-multibyte-promo": json.dumps(dict(park_order, promo_codes=[
        "A" + "\u0416" * 40 + "!", "DOC-" + "\u6587" * 30])).encode(),
    "colliding-ids": json.dumps(dict(park_order, items=[
        {"id": i, "kind": "fnb", "price": "1.00"} for i in colliding_ids(300, 12)])).encode(),
})
for k, v in raw.items():
    put("order", "order-hostile-" + k + (".yaml" if k.startswith("yaml") else ".json"), v)

total = 0
for root, _, files in os.walk(CORPUS):
    for f in files:
        total += os.path.getsize(os.path.join(root, f))
print("corpus: %d bytes" % total)
