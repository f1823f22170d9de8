#!/usr/bin/python3
"""Keep the generated parts of the documentation true to the program.

  reference.py TESSERA REPO [--update]

1. docs/schema/{rules,order,test}.schema.json must be what
   `tessera schema KIND` prints.
2. Every key table in docs/ is generated from those schemas, which
   `tessera schema` builds from the key tables the readers check keys with.
   A table is written between two markers, naming a key set (a mapping of
   the schemas: `rules`, `discount`, `order`, `expect`, ...):

       <!-- keys: discount -->
       ...generated: one row per key: key, type, default, description, example
       <!-- end keys -->

3. Every key set of the three schemas has exactly one table in docs/, and
   no marker names a key set the schemas do not have.  So a key the loader
   accepts and the reference does not document (or the other way round)
   fails this check, and so does a new kind of mapping nobody documented.

With --update, the schema files and the tables are rewritten (the prose
around them is the maintainer's); without it, differences are printed and
the exit status is 1.
"""
import decimal
import difflib
import glob
import json
import os
import re
import subprocess
import sys

KINDS = ("rules", "order", "test")
MARK = re.compile(r"^<!-- keys: ([a-z_]+) -->\n(.*?)^<!-- end keys -->\n", re.M | re.S)
EXPRESSION_TYPES = ("condition", "condition per line", "amount expression",
                    "amount expression per line", "percent expression")


def tessera_schema(tessera, kind):
    return subprocess.run([tessera, "schema", kind], check=True, capture_output=True,
                          text=True).stdout


def keysets(schemas):
    """name -> object schema, for every mapping of the three schemas."""
    out = {}
    for kind, s in schemas.items():
        objs = {kind: {k: v for k, v in s.items()
                       if k not in ("$schema", "title", "$comment", "$defs")}}
        objs.update(s.get("$defs", {}))
        for name, obj in objs.items():
            if name in out and out[name] != obj:
                raise SystemExit(f"reference.py: key set `{name}` differs between schemas")
            out[name] = obj
    return out


# ---------------------------------------------------------------------
# Rendering values as YAML (flow style), the way a rule file writes them.

# Plain scalars YAML 1.2 would not read as a string (bools, nulls, numbers).
PLAIN_NOT = re.compile(r"^(?:true|True|TRUE|false|False|FALSE|~|null|Null|NULL|"
                       r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|"
                       r"0o[0-7]+|0x[0-9a-fA-F]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$")


def yaml_scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "~"
    if isinstance(v, (int, decimal.Decimal)):
        return str(v)
    s = str(v)
    if (not s or s[0] in "-?:,[]{}#&*!|>'\"%@` " or s[-1] == " " or PLAIN_NOT.match(s)
            or any(c in s for c in "[]{},#") or ": " in s or s.endswith(":")):
        return "'" + s.replace("'", "''") + "'"
    return s


def yaml_flow(v):
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k}: {yaml_flow(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        return "[" + ", ".join(yaml_flow(x) for x in v) + "]"
    return yaml_scalar(v)


def cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


# ---------------------------------------------------------------------
# Tables.

class Docs:
    def __init__(self, repo, sets):
        self.repo = repo
        self.sets = sets
        self.where = {}          # key set -> the page documenting it

    def link(self, page, target_page, anchor):
        rel = os.path.relpath(os.path.join(self.repo, target_page),
                              os.path.dirname(os.path.join(self.repo, page)))
        return f"{rel}#{anchor}"

    def type_text(self, page, prop):
        title = prop.get("title", "")
        ref = None
        for p in (prop, prop.get("items"), prop.get("additionalProperties")):
            if isinstance(p, dict) and "$ref" in p:
                ref = p["$ref"]
        if ref and ref.rsplit("/", 1)[1] in self.where:
            name = ref.rsplit("/", 1)[1]
            return f"[{title}]({self.link(page, self.where[name], 'keys-' + name)})"
        if title in EXPRESSION_TYPES:
            target = self.link(page, "docs/reference/expressions.md", "where-expressions-are-used")
            return f"[{title}]({target})"
        return title

    def table(self, page, name):
        obj = self.sets[name]
        required = set(obj.get("required", []))
        main = set(obj.get("dependentRequired", {}))
        rows = [f'<a id="keys-{name}"></a>', "",
                "| key | type | default | description | example |",
                "|---|---|---|---|---|"]
        for key, prop in obj.get("properties", {}).items():
            notes = []
            if key in required:
                notes.append("required")
            if key in main:
                notes.append("main file only")
            k = f"`{key}`" + (f" ({', '.join(notes)})" if notes else "")
            default = f"`{yaml_scalar(prop['default'])}`" if "default" in prop else ""
            ex = prop.get("examples")
            example = f"`{key}: {yaml_flow(ex[0])}`" if ex else ""
            rows.append("| " + " | ".join(cell(c) for c in (
                k, self.type_text(page, prop), default, prop.get("description", ""), example))
                + " |")
        return "\n".join(rows) + "\n\n"


def doc_pages(repo):
    pages = glob.glob(os.path.join(repo, "docs", "**", "*.md"), recursive=True)
    return sorted(os.path.relpath(p, repo) for p in pages)


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv[1:]
    if len(args) != 2:
        print(__doc__)
        return 2
    tessera, repo = args[0], os.path.abspath(args[1])
    failures = []

    # 1. the committed schemas
    texts = {k: tessera_schema(tessera, k) for k in KINDS}
    for k, text in texts.items():
        path = os.path.join(repo, "docs", "schema", f"{k}.schema.json")
        old = open(path).read() if os.path.exists(path) else ""
        if old != text:
            if update:
                with open(path, "w") as f:
                    f.write(text)
                print(f"reference.py: wrote docs/schema/{k}.schema.json")
            else:
                failures.append(f"docs/schema/{k}.schema.json differs from `tessera schema {k}`")
    schemas = {k: json.loads(t, parse_float=decimal.Decimal) for k, t in texts.items()}
    sets = keysets(schemas)

    # 2, 3. the key tables
    docs = Docs(repo, sets)
    found = {}
    for page in doc_pages(repo):
        with open(os.path.join(repo, page)) as f:
            text = f.read()
        for m in MARK.finditer(text):
            found.setdefault(m.group(1), []).append(page)
    for name, pages in found.items():
        if name not in sets:
            failures.append(f"{pages[0]}: a key table for `{name}`, which no schema has")
        elif len(pages) > 1:
            failures.append(f"key set `{name}` has tables in {', '.join(pages)}; give it one")
        docs.where[name] = pages[0]
    for name in sets:
        if name not in found:
            failures.append(f"key set `{name}` ({sets[name].get('description', '')}) has no "
                            f"table in docs/: add `<!-- keys: {name} -->` and "
                            f"`<!-- end keys -->` to its page and run reference.py --update")
    for page in doc_pages(repo):
        path = os.path.join(repo, page)
        with open(path) as f:
            text = f.read()

        def render(m):
            name = m.group(1)
            body = docs.table(page, name) if name in sets else m.group(2)
            return f"<!-- keys: {name} -->\n{body}<!-- end keys -->\n"
        new = MARK.sub(render, text)
        if new == text:
            continue
        if update:
            with open(path, "w") as f:
                f.write(new)
            print(f"reference.py: rewrote the key tables of {page}")
        else:
            diff = difflib.unified_diff(text.splitlines(True), new.splitlines(True), page,
                                        page + " (generated)")
            failures.append(f"{page}: key tables out of date:\n" + "".join(diff))
    for f in failures:
        print("FAIL " + f)
    if failures and not update:
        print("reference.py: run tests/docs/reference.py TESSERA . --update, review, commit")
    return 1 if failures and not update else 0


if __name__ == "__main__":
    sys.exit(main())
