"""Print the cases of a rule-test file (SPEC §7) as JSON for the PHPUnit
suite, which has no YAML reader: {"rules": path, "cases": [{name, order,
error}]}.  Dates YAML reads as dates are written back as ISO strings.

    /usr/bin/python3 scenario_orders.py ../shared/scenarios/park/park.test.yaml
"""
import datetime
import json
import os
import sys

import yaml


def main(path: str) -> None:
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    cases = [{"name": c["name"], "order": c["order"],
              "error": (c.get("expect") or {}).get("error")} for c in doc["cases"]]
    rules = os.path.join(os.path.dirname(os.path.abspath(path)), doc["rules"])
    json.dump({"rules": rules, "cases": cases}, sys.stdout,
              default=lambda v: v.isoformat() if isinstance(v, (datetime.date, datetime.datetime))
              else str(v))


if __name__ == "__main__":
    main(sys.argv[1])
