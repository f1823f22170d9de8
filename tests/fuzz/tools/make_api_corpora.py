#!/usr/bin/env python3
"""make_api_corpora.py — generated seeds for fuzz_refund, fuzz_ruletest and
fuzz_builder (corpus/refund, corpus/ruletest, corpus/builder).

Usage: python3 tests/fuzz/tools/make_api_corpora.py [TESSERA_CLI]
(default build/tessera).  Refund seeds are real requests: each order of
tests/cli/refund/fixtures/ and of the `refund:` cases in
tests/rules/refunds/*.test.yaml is priced with `tessera eval`, and the receipt
is wrapped into {order, receipt, lines, datetime, previous?}; tampered
variants change one thing each.  fuzz_refund picks the rule set by the low
bit of the input's size (even: park.yaml, odd: opera.yaml), so each seed is
padded with one trailing space where needed.  steps-* seeds are fuzz_refund's
other kind of input, choices (see the harness).  Writes only seed-*/tamper-*/
hostile-*/steps-* files; never touches reproducers (crash-*, leak-*, timeout-*,
ubsan-*) nor grown-* (small inputs a fuzzing session found new coverage
with, kept so the replay reaches further than the seeds)."""
import copy
import datetime
import json
import os
import random
import struct
import subprocess
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
FUZZ = os.path.dirname(HERE)
TESTS = os.path.dirname(FUZZ)
REPO = os.path.dirname(TESTS)
CLI = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "build", "tessera")
CORPUS = os.path.join(FUZZ, "corpus")
RULES = {"park": os.path.join(TESTS, "rules", "refunds", "park.yaml"),
         "opera": os.path.join(TESTS, "rules", "refunds", "opera.yaml")}


def put(kind, name, data):
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(CORPUS, kind, name), "wb") as f:
        f.write(data)


def jsonable(o):
    if isinstance(o, (datetime.date, datetime.datetime)):
        return o.isoformat()
    raise TypeError(type(o))


def receipt(rules, order):
    p = subprocess.run([CLI, "eval", RULES[rules], "-"], input=json.dumps(order, default=jsonable),
                       capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout)


def request_text(rules, req):
    text = json.dumps(req, default=jsonable, separators=(",", ":"), ensure_ascii=False)
    data = text.encode("utf-8")
    want = 1 if rules == "opera" else 0
    if len(data) % 2 != want:
        data += b" "
    return data


# --- refund ---------------------------------------------------------------
requests = []   # (rules, name, request)
fx = os.path.join(TESTS, "cli", "refund", "fixtures")
park_order = json.load(open(os.path.join(fx, "park-order.json")))
opera_order = json.load(open(os.path.join(fx, "opera-order.json")))
for rules, order, lines, at in [
        ("park", park_order, ["c2"], "2026-07-05T12:00:00+03:00"),
        ("park", park_order, ["a1", "a2", "c1", "c2", "f1"], "2026-07-05T12:00:00+03:00"),
        ("park", park_order, ["f1"], "2026-07-11T12:00:00+03:00"),
        ("opera", opera_order, ["t1"], "2026-11-20T10:00:00+03:00"),
        ("opera", opera_order, ["t1", "t2", "f1"], "2026-11-20T10:00:00+03:00"),
        ("opera", opera_order, ["f1"], "2026-11-25T10:00:00+03:00")]:
    requests.append((rules, "fixture", {"order": order, "lines": lines, "datetime": at}))

for rules in ("park", "opera"):
    t = yaml.safe_load(open(os.path.join(TESTS, "rules", "refunds", rules + ".test.yaml")))
    for i, case in enumerate(t["cases"]):
        if "refund" not in case or "order" not in case:
            continue
        req = {"order": case["order"], "lines": case["refund"].get("lines", []),
               "datetime": case["refund"].get("datetime")}
        if "previous" in case["refund"]:
            req["previous"] = case["refund"]["previous"]
        requests.append((rules, "case%02d" % i, req))

n = 0
tampered = set()
for rules, tag, req in requests:
    r = receipt(rules, req["order"])
    if r is None:
        continue
    req = dict(req)
    req["receipt"] = r
    req = {k: req[k] for k in ("order", "receipt", "lines", "datetime", "previous") if k in req}
    base = "%s-%02d-%s" % (rules, n, tag)
    n += 1
    # without the trace (smaller, faster for the fuzzer), but a receipt with
    # its trace once per rule set
    slim = copy.deepcopy(req)
    slim["receipt"].pop("trace", None)
    put("refund", "seed-" + base + ".json", request_text(rules, slim))
    if rules not in tampered:
        put("refund", "seed-" + base + "-trace.json", request_text(rules, req))

    def tamper(what, fn):
        t = copy.deepcopy(slim)
        fn(t)
        put("refund", "tamper-%s-%s.json" % (base, what), request_text(rules, t))

    if rules in tampered:
        continue   # tampered variants of the first request per rule set are enough
    tampered.add(rules)
    tamper("version", lambda t: t["receipt"]["ruleset"].__setitem__("version", "1999"))
    tamper("total", lambda t: t["receipt"]["lines"][0].__setitem__("total", "1.00"))
    tamper("line-id", lambda t: t["receipt"]["lines"][0].__setitem__("id", "zz"))
    tamper("dup-line", lambda t: t.__setitem__("lines", t["lines"] + t["lines"][:1]))
    tamper("unknown-line", lambda t: t.__setitem__("lines", ["nope"]))
    tamper("no-lines", lambda t: t.__setitem__("lines", []))
    tamper("bad-datetime", lambda t: t.__setitem__("datetime", "2026-13-40T99:00:00"))
    tamper("previous-all", lambda t: t.__setitem__(
        "previous", {"lines": [l["id"] for l in t["receipt"]["lines"]], "clawback": "0.00"}))
    tamper("previous-huge-clawback", lambda t: t.__setitem__(
        "previous", {"lines": t["lines"][:1], "clawback": "92233720368547758.07"}))
    tamper("previous-neg-clawback", lambda t: t.__setitem__(
        "previous", {"lines": [], "clawback": "-5.00"}))
    tamper("points-earned", lambda t: t["receipt"]["lines"][0].__setitem__("points_earned", 999999))
    tamper("receipt-array", lambda t: t.__setitem__("receipt", [t["receipt"]]))
    tamper("extra-key", lambda t: t.__setitem__("extra", 1))
    tamper("receipt-lines-dropped", lambda t: t["receipt"].__setitem__("lines", t["receipt"]["lines"][:1]))
    tamper("order-changed", lambda t: t["order"]["items"][0].__setitem__("id", "zz"))
    tamper("totals-due", lambda t: t["receipt"]["totals"].__setitem__("due", "0.00"))

for i, (k, v) in enumerate({
        "empty": b"", "null": b"null", "array": b"[]", "object": b"{}",
        "truncated": b'{"order":{"items":[{"id":"a","kind":"ticket"', "nul": b'{"order"\x00:1}',
        "deep": b'{"order":' + b"[" * 1000 + b"]" * 1000 + b"}",
        "lines-number": b'{"order":{},"receipt":{},"lines":7,"datetime":"x"}'}.items()):
    put("refund", "hostile-%s.json" % k, v)

# --- refund, as choices --------------------------------------------------
# An input whose first byte is 0x80 or above is read by fuzz_refund as
# choices (that byte mod 3 picks park, opera or the harness's shop; the rest
# build an order, which is priced, and refunds of it in steps), so that the
# fuzzer starts where the refund arithmetic is.  Fixed pseudo-random bytes:
rng = random.Random(15)
for r, name in enumerate(("park", "opera", "shop")):
    for k in range(8):
        first = rng.choice([b for b in range(0x80, 0x100) if b % 3 == r])
        put("refund", "steps-%s-%02d" % (name, k),
            bytes([first] + [rng.randrange(256) for _ in range(24 + 12 * k)]))

# --- ruletest -------------------------------------------------------------
for rules in ("park", "opera"):
    text = open(os.path.join(TESTS, "rules", "refunds", rules + ".test.yaml"), encoding="utf-8").read()
    put("ruletest", "seed-refunds-%s.test.yaml" % rules, text)
text = open(os.path.join(REPO, "rules", "opera", "opera.test.yaml"), encoding="utf-8").read()
# rules/opera's own test file, pointed at the refund opera (failing cases
# exercise the diffs)
put("ruletest", "seed-opera-repo.test.yaml", text)
island = """tessera_test: 1
rules: island.yaml
cases:
  - name: a family on a weekday
    order:
      datetime: "2026-06-10T11:00:00+03:00"
      customer: { id: C-1, visits: 3 }
      items:
        - { id: a1, kind: ticket, height_cm: 180 }
        - { id: c1, kind: ticket, height_cm: 120 }
      promo_codes: ["DOC-123456", " summer "]
    expect:
      lines: { a1: { total: "1.00" }, c1: { category: child } }
      totals: { due: "0.00", discount: "1.00" }
      points: { earned: 0, entries: [ { points: 1 } ] }
      promo_codes: { "DOC-123456": rejected/expired, "SUMMER": accepted }
      applied: [ categories.child ]
      not_applied: [ discounts.family-pack ]
      segments: [ first_timer ]
      offers: []
      tier: ~
  - name: a bad order
    order: { items: [ { id: x } ] }
    expect: { error: "datetime" }
  - name: an error that does not come
    order: { datetime: "2026-06-10T11:00:00+03:00", items: [ { id: a1, kind: ticket, height_cm: 90 } ] }
    expect: { error: "nope", tier: gold }
"""
put("ruletest", "seed-island.test.yaml", island)
for k, v in {
        "empty": "", "not-a-map": "- 1\n", "version-2": "tessera_test: 2\nrules: park.yaml\ncases: []\n",
        "no-rules": "tessera_test: 1\ncases: []\n",
        "missing-rules": "tessera_test: 1\nrules: missing.yaml\ncases: []\n",
        "rules-dir": "tessera_test: 1\nrules: .\ncases: []\n",
        "no-cases": "tessera_test: 1\nrules: park.yaml\n",
        "cases-map": "tessera_test: 1\nrules: park.yaml\ncases: {a: 1}\n",
        "unknown-key": "tessera_test: 1\nrules: park.yaml\ncases:\n  - name: x\n    order: {}\n    expekt: {}\n",
        "unknown-rule": "tessera_test: 1\nrules: park.yaml\ncases:\n  - name: x\n    order: {datetime: \"2026-07-01T10:00:00+03:00\", items: []}\n    expect: {applied: [discounts.nope]}\n",
        "refund-no-lines": "tessera_test: 1\nrules: park.yaml\ncases:\n  - name: x\n    order: {datetime: \"2026-07-01T10:00:00+03:00\", items: [{id: a1, kind: ticket, height_cm: 180, event_start: \"2026-07-10T10:00:00+03:00\"}]}\n    refund: {datetime: \"2026-07-02T10:00:00+03:00\"}\n    expect: {refund: {totals: {amount: \"1.00\"}}}\n",
        "refund-previous": "tessera_test: 1\nrules: park.yaml\ncases:\n  - name: x\n    order: {datetime: \"2026-07-01T10:00:00+03:00\", items: [{id: a1, kind: ticket, height_cm: 180, event_start: \"2026-07-10T10:00:00+03:00\"}]}\n    refund: {lines: [a1, a1], datetime: \"2026-07-02T10:00:00+03:00\", previous: {lines: [a1], clawback: \"x\"}}\n    expect: {refund: {lines: {a1: {status: refunded}}}}\n",
        "aliases": "tessera_test: 1\nrules: park.yaml\ncases:\n  - &c {name: x, order: {datetime: \"2026-07-01T10:00:00+03:00\", items: []}, expect: {}}\n  - *c\n  - *c\n  - *c\n",
        # issue 15: a test file's rules: outside its directory is refused
        "rules-outside": "tessera_test: 1\nrules: ../../../../../../../etc/hostname\ncases: []\n",
        "rules-absolute": "tessera_test: 1\nrules: /etc/hostname\ncases: []\n",
}.items():
    put("ruletest", "hostile-%s.test.yaml" % k, v)

# --- builder --------------------------------------------------------------
# Opcodes and argument encoding: see fuzz_builder.c.
def s(b):
    b = b.encode() if isinstance(b, str) else b
    return bytes([len(b)]) + b


def i(v):
    if -32 <= v < 0xE0 - 32:
        return bytes([v + 32])
    return b"\xff" + struct.pack("<q", v)


ORDER, CUSTOMER, ITEM = 0, 1, 2
prog_common = (
    b"\x0f" + bytes([ORDER]) + s("datetime")            # field lookups by name
    + b"\x00" + s("a1") + s("ticket") + i(1)             # add_line a1
    + b"\x00" + s("c1") + s("ticket") + i(2)             # add_line c1 ×2
    + b"\x00" + s("f1") + s("fnb") + i(3)                # add_line f1 ×3
)
def setf(op, rec, line, field, arg):
    return bytes([op, rec, line, field]) + arg


progs = {}
# order.datetime via set_text on every small handle: one of them is right
p = prog_common
for f in range(0, 8):
    p += setf(6, ORDER, 0, f, s("2026-06-10T11:00:00+03:00"))
for f in range(0, 12):
    p += setf(2, ITEM, 0, f, i(180)) + setf(2, ITEM, 1, f, i(120))
for f in range(0, 12):
    p += setf(6, ITEM, 2, f, s("150.00"))
progs["lines-and-fields"] = p
p2 = p + b"\x08" + s("DOC-123456") + b"\x08" + s(" summer ") + b"\x09" + s("doctors") + i(0) + i(5)
for f in range(0, 12):
    p2 += setf(6, CUSTOMER, 0, f, s("C-1")) + setf(2, CUSTOMER, 0, f, i(3))
    p2 += setf(7, CUSTOMER, 0, f, s("season_pass")) + setf(3, CUSTOMER, 0, f, i(1))
p2 += b"\x0a" + i(100) + b"\x0b" + s("lot1") + i(150) + s("2027-01-01") + b"\x0b" + s("lot2") + i(50) + b"\xff"
progs["promo-points"] = p2 + b"\x0d\x00" + b"\x0c" + p + b"\x0d\x01"
progs["parse-then-build"] = (b"\x0e" + s(json.dumps({"datetime": "2026-06-10T11:00:00+03:00",
                                                    "items": [{"id": "a1", "kind": "ticket", "height_cm": 150}]}))
                             + b"\x00" + s("a2") + s("ticket") + i(1) + setf(2, ITEM, 1, 5, i(90)) + b"\x0d\x02")
progs["bad-handles"] = (prog_common + setf(2, 3, 0, 0, i(1)) + setf(2, 4, 0, 0, i(1))
                        + setf(2, ITEM, 0xF0, 0, i(1)) + setf(2, ITEM, 0xF2, 3, i(1))
                        + setf(2, ITEM, 0xF3, 3, i(1)) + setf(1, ITEM, 0, 0xFF, s("x"))
                        + setf(1, ITEM, 0, 0xFE, s("x")) + setf(1, ORDER, 0, 0xE5, b"\xff")
                        + setf(4, ITEM, 0, 4, b"\xe0") + setf(5, ITEM, 0, 4, b"\xe1")
                        + b"\x00\xff\xff" + i(1) + b"\x00" + s("a1") + s("ticket") + i(1)
                        + b"\x00" + s("z") + s("ticket") + b"\xe0"
                        + b"\x00" + s("y") + s("ticket") + i(0)
                        + b"\x0a\xe1" + b"\x0b\xff\xe0\xff" + b"\x09\xff\xe0\xe1"
                        + b"\x08\xff" + b"\x07\x01\x00\x03\xff")
progs["reset-loop"] = (prog_common + b"\x0c") * 4 + b"\x0d\x03"
progs["empty"] = b""
for k, v in progs.items():
    put("builder", "seed-%s.bin" % k, v)
print("refund: %d, ruletest: %d, builder: %d" % tuple(
    len(os.listdir(os.path.join(CORPUS, k))) for k in ("refund", "ruletest", "builder")))
