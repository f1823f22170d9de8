#!/usr/bin/python3
"""Validate the repository's rule files, rule-test files and example orders
against the JSON Schemas `tessera schema` prints (python3-jsonschema), and
check that a misspelt key is refused: by the schema, and by Tessera itself.

  validate.py TESSERA REPO [SHARED]

Every file must be valid.  Then every key of every mapping of the rule
files, test files and orders is misspelt in turn (a letter doubled), and
the schema must refuse each such file, unless the key sits where names are
free (table, segment and field names, line ids, codes, promo ids).  For
rule and test files, `tessera check` / `tessera test` must refuse the same
misspelt file: the schema and the loader agree on which keys exist.

Exit 0 when all holds, 1 otherwise, 77 (skipped) without jsonschema.
"""
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import jsonschema
except ImportError:
    print("validate.py: python3-jsonschema is not installed; skipped")
    sys.exit(77)
import yaml  # noqa: E402
import yaml12  # noqa: E402

# Where a mapping's keys are names the author chooses, not keys of Tessera:
# a path (keys joined with '.', list indexes as '[]') matching one of these.
FREE = [re.compile(p) for p in (
    r"^tables$", r"^tables\.[^.]+$", r"^segments$", r"^schema\.(item|customer|order)$",
    r"^cases\[\]\.expect\.lines$", r"^cases\[\]\.expect\.promo_codes$",
    r"^cases\[\]\.expect\.lines\.[^.]+\.discounts$", r"^cases\[\]\.expect\.refund\.lines$",
    r"^cases\[\]\.expect\.taxes$",
    r"(^|\.)promo_uses$", r"(^|\.)promo_total_uses$",
)]


def schema(tessera, kind, rules=None):
    out = subprocess.run([tessera, "schema", kind] + ([rules] if rules else []),
                         check=True, capture_output=True, text=True).stdout
    s = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(s)
    return jsonschema.Draft202012Validator(s)


def errors(validator, doc):
    return sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))


def where(e):
    return ".".join(str(p) for p in e.absolute_path) or "(top)"


def mutations(node, path=()):
    """(path of the mapping as a tuple of keys and indexes, key) for every
    key of every mapping."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k
            yield from mutations(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from mutations(v, path + (i,))


def generic(path):
    """('cases', 3, 'order') -> 'cases[].order'."""
    out = ""
    for p in path:
        out += "[]" if isinstance(p, int) else (("." if out else "") + str(p))
    return out


def expects_error(doc, path):
    """Whether path lies in the order of a test case that expects the order
    to be refused: such an order is wrong on purpose."""
    if len(path) < 3 or path[0] != "cases" or path[2] != "order":
        return False
    expect = doc["cases"][path[1]].get("expect") or {}
    return isinstance(expect.get("error"), str)


def misspell(node, path, key):
    """A copy of node with `key` of the mapping at `path` misspelt."""
    if not path:
        return {(k + k[-1] if k == key else k): v for k, v in node.items()}
    out = list(node) if isinstance(node, list) else dict(node)
    out[path[0]] = misspell(node[path[0]], path[1:], key)
    return out


def misspell_text(text, root, path, key):
    """The YAML text with `key` of the mapping at `path` misspelt, found
    through the positions the YAML parser gave (root: the text composed);
    None for a quoted key."""
    node = root
    for p in path:
        if isinstance(p, int):
            node = node.value[p]
        else:
            node = next(v for k, v in node.value if k.value == p)
    k = next(k for k, _ in node.value if k.value == key)
    if k.style is not None:
        return None
    return text[:k.end_mark.index] + key[-1] + text[k.end_mark.index:]


class Run:
    def __init__(self, tessera, repo, shared):
        self.tessera, self.repo, self.shared = tessera, repo, shared
        self.failures = 0
        self.composed = {}
        self.scratch = {}
        self.checked = 0
        self.refused = 0
        self.rules = schema(tessera, "rules")
        self.test = schema(tessera, "test")
        self.order = schema(tessera, "order")

    def fail(self, msg):
        print("FAIL " + msg)
        self.failures += 1

    def valid(self, path, validator, doc):
        self.checked += 1
        for e in errors(validator, doc)[:5]:
            self.fail(f"{os.path.relpath(path, self.repo)}: {where(e)}: {e.message[:300]}")

    def refuses_misspellings(self, path, validator, doc, kind):
        """Every misspelt key is refused by the schema (and by Tessera)."""
        done = set()
        for mpath, key in mutations(doc):
            place = generic(mpath)
            if any(rx.search(place) for rx in FREE) or not isinstance(key, str) or not key:
                continue
            # one misspelling per key per place (`discounts[].for`) is enough
            if (place, key) in done or expects_error(doc, mpath):
                continue
            done.add((place, key))
            bad = misspell(doc, mpath, key)
            if not list(validator.iter_errors(bad)):
                self.fail(f"{os.path.relpath(path, self.repo)}: the schema accepts "
                          f"`{key}` misspelt as `{key + key[-1]}` in {place or '(top)'}")
                continue
            self.refused += 1
            if kind in ("rules", "test"):
                self.tessera_refuses(path, mpath, key, kind)

    def examples_fit(self, kind):
        s = json.loads(subprocess.run([self.tessera, "schema", kind], check=True,
                                      capture_output=True, text=True).stdout)
        objs = [("(top)", s)] + list(s.get("$defs", {}).items())
        for name, obj in objs:
            for key, prop in obj.get("properties", {}).items():
                sub = dict(prop, **{"$defs": s.get("$defs", {})})
                v = jsonschema.Draft202012Validator(sub)
                for what, value in [("example", x) for x in prop.get("examples", [])] + \
                        ([("default", prop["default"])] if "default" in prop else []):
                    self.checked += 1
                    for e in v.iter_errors(value):
                        self.fail(f"{kind} schema, {name}.{key}: the {what} {value!r} does not "
                                  f"fit: {e.message[:200]}")

    def tessera_refuses(self, path, mpath, key, kind):
        if path not in self.composed:
            with open(path) as f:
                text = f.read()
            self.composed[path] = (text, yaml.compose(text, Loader=yaml12.Loader))
        text = misspell_text(*self.composed[path], mpath, key)
        if text is None:          # a key the text search cannot place (quoted, ...)
            return
        # in a copy of the file's directory (a test file's `rules:` is
        # relative to it): the source tree is never written to
        d = os.path.dirname(path)
        if d not in self.scratch:
            self.scratch[d] = os.path.join(tempfile.mkdtemp(prefix="tessera-validate-"), "d")
            shutil.copytree(d, self.scratch[d])
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", dir=self.scratch[d],
                                         delete=False) as t:
            t.write(text)
        try:
            cmd = [self.tessera, "check" if kind == "rules" else "test", t.name]
            r = subprocess.run(cmd, capture_output=True, text=True)
            said = r.stderr + r.stdout
            if r.returncode == 0 or "unknown" not in said or key + key[-1] not in said:
                self.fail(f"{os.path.relpath(path, self.repo)}: `{key}` misspelt is refused "
                          f"by the schema but `tessera {cmd[1]}` says: {said.strip()[:200]!r}")
        finally:
            os.unlink(t.name)


def load(path):
    with open(path) as f:
        text = f.read()
    return json.loads(text) if path.endswith(".json") else yaml12.load(text)


def rule_files(repo, shared):
    pats = ["rules/*/*.yaml", "docs/**/*.yaml", "tests/rules/refunds/*.yaml",
            "tests/rules/lint/*/*.yaml"]
    files = [f for p in pats for f in glob.glob(os.path.join(repo, p), recursive=True)]
    if shared:
        files += glob.glob(os.path.join(shared, "scenarios", "*", "*.yaml"))
    return sorted(set(files))


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    tessera, repo = sys.argv[1], os.path.abspath(sys.argv[2])
    shared = os.path.abspath(sys.argv[3]) if len(sys.argv) > 3 and os.path.isdir(sys.argv[3]) \
        else None
    run = Run(tessera, repo, shared)

    for path in rule_files(repo, shared):
        doc = load(path)
        if path.endswith(".test.yaml"):
            rules = os.path.join(os.path.dirname(path), doc["rules"])
            run.valid(path, run.test, doc)
            strict = schema(tessera, "test", rules)
            run.valid(path, strict, doc)
            run.refuses_misspellings(path, strict, doc, "test")
        else:
            run.valid(path, run.rules, doc)
            run.refuses_misspellings(path, run.rules, doc, "rules")

    # Example orders, against the schema of the rule set they are for.
    for path in sorted(glob.glob(os.path.join(repo, "examples", "orders", "*.json"))):
        venue = os.path.basename(path).split("-")[0]
        rules = os.path.join(repo, "rules", venue, venue + ".yaml")
        doc = load(path)
        run.valid(path, run.order, doc)
        strict = schema(tessera, "order", rules)
        run.valid(path, strict, doc)
        run.refuses_misspellings(path, strict, doc, "order")

    # The examples and defaults the schemas give (and the reference shows)
    # fit their own keys.
    for kind in ("rules", "order", "test"):
        run.examples_fit(kind)

    # The schemas refuse what the golden unknown-key cases hold.
    for case in sorted(glob.glob(os.path.join(repo, "tests", "rules", "invalid", "unknown-*-key"))):
        path = os.path.join(case, "rules.yaml")
        if not list(run.rules.iter_errors(load(path))):
            run.fail(f"{os.path.relpath(path, repo)}: the rules schema accepts it")

    for d in run.scratch.values():
        shutil.rmtree(os.path.dirname(d), ignore_errors=True)
    print(f"validate.py: {run.checked} validations, {run.refused} misspelt keys refused, "
          f"{run.failures} failures")
    return 1 if run.failures else 0


if __name__ == "__main__":
    sys.exit(main())
