#!/usr/bin/python3
"""Run the commands shown in the documentation and compare their output
with the text (like Python's doctest, mdBook's test or Mercurial's cram).

  doctest.py TESSERA REPO [--update] [PAGE.md ...]

Without pages, every Markdown file under docs/ and the top-level README.md.

The convention, in a page:

  A fenced block whose info string is `console` is a session.  A line
  starting with `$ ` is a command (continued on lines starting with `> `);
  the lines after it, up to the next command, are its expected output,
  standard output and standard error together.  A line that is just `...`
  stands for any number of lines.  When the command exits with a status
  other than 0, its output ends with the status in brackets, `[1]`.

      ```console
      $ tessera test rules/park/park.test.yaml
      coverage of park.yaml: 20 of 20 rules applied (100%)
      48 passed, 0 failed
      ```

  Commands run with bash in a scratch directory holding a copy of the
  repository's rules/, examples/ and docs/ directories, with the `tessera`
  under test first on PATH.  All sessions of one page share the scratch
  directory, in page order, so a session may edit a file and a later one
  see the change; each page starts from a fresh copy.  Within a session,
  the shell's state (cd, variables) carries from command to command.

  An HTML comment right before a fenced block (any info string) says more:
      <!-- doctest: file NAME -->   write the block's text to NAME in the
                                    scratch directory (it is not run)
      <!-- doctest: skip REASON --> do not run this session; it is counted
                                    and listed as skipped, with the reason

  Before a Markdown table with the columns `example` and `value`:
      <!-- doctest: examples RULES ORDER -->
  checks that every row's example expression has that value: each row
  becomes an offer of a copy of RULES (a file written earlier on the
  page), `when: (EXAMPLE) == (VALUE)` (or `not has(EXAMPLE)` for the value
  `missing`), and ORDER must list them all.

With --update, the expected output of every command whose output differs
is replaced with what it printed now (keeping `...` where the lines around
it are still there): for a maintainer after an intended change, who then
reviews the diff.  Exit status 0 when every session matches (or was
updated), 1 otherwise.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

FENCE = re.compile(r"^(\s*)(```+|~~~+)\s*([\w+-]*)\s*$")
DIRECTIVE = re.compile(r"^<!--\s*doctest:\s*(\w+)\s*(.*?)\s*-->\s*$")
END = re.compile(r"@@DOCTEST-END-(\d+)-(\d+)@@\n")
COPIED = ("rules", "examples", "docs")
TIMEOUT = 120


class Block:
    def __init__(self, page, start, info, lines, directive, indent):
        self.page, self.start, self.info, self.indent = page, start, info, indent
        self.lines = lines                 # the text lines between the fences
        self.directive = directive         # (name, argument) or None


def parse(page, text):
    """The fenced blocks of a page, with the directive right before each."""
    lines = text.split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, fence, info = m.groups()
        j = i + 1
        while j < len(lines) and not (lines[j].strip().startswith(fence[0] * len(fence))
                                      and lines[j].strip().strip(fence[0]) == ""):
            j += 1
        directive = None
        k = i - 1
        while k >= 0 and lines[k].strip() == "":
            k -= 1
        if k >= 0:
            d = DIRECTIVE.match(lines[k].strip())
            if d:
                directive = (d.group(1), d.group(2))
        body = [ln[len(indent):] if ln.startswith(indent) else ln for ln in lines[i + 1:j]]
        blocks.append(Block(page, i + 1, info, body, directive, indent))
        i = j + 1
    # example tables: a directive line followed by a table
    for n, ln in enumerate(lines):
        d = DIRECTIVE.match(ln.strip())
        if not d or d.group(1) != "examples":
            continue
        k = n + 1
        while k < len(lines) and lines[k].strip() == "":
            k += 1
        rows = []
        while k < len(lines) and lines[k].lstrip().startswith("|"):
            rows.append(lines[k])
            k += 1
        blocks.append(Block(page, n + 1, "examples-table", rows, (d.group(1), d.group(2)), ""))
    blocks.sort(key=lambda b: b.start)
    return blocks


class Command:
    def __init__(self, line, text):
        self.line = line                   # 0-based index within the block
        self.text = text                   # the command, continuation lines joined by \n
        self.expected = []                 # expected output lines
        self.status = 0


def commands(block):
    out = []
    for n, ln in enumerate(block.lines):
        if ln.startswith("$ ") or ln == "$":
            out.append(Command(n, ln[2:]))
        elif ln.startswith("> ") and out and not out[-1].expected:
            out[-1].text += "\n" + ln[2:]
        elif out:
            out[-1].expected.append(ln)
    for c in out:
        while c.expected and c.expected[-1].strip() == "":
            c.expected.pop()
        m = re.match(r"^\[(\d+)\]$", c.expected[-1]) if c.expected else None
        if m:
            c.status = int(m.group(1))
            c.expected.pop()
    return out


def run_session(cmds, cwd, bindir):
    script = ["exec 2>&1", "set +e"]
    for i, c in enumerate(cmds):
        script.append(c.text)
        script.append(f"printf '@@DOCTEST-END-{i}-%d@@\\n' $?")
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""),
               LC_ALL="C.UTF-8", TZ="UTC", COLUMNS="80")
    env.pop("TERM", None)
    try:
        r = subprocess.run(["bash", "--noprofile", "--norc", "-c", "\n".join(script)],
                           cwd=cwd, env=env, capture_output=True, timeout=TIMEOUT,
                           stdin=subprocess.DEVNULL)
        text = r.stdout.decode("utf-8", "replace")
    except subprocess.TimeoutExpired as e:
        text = (e.stdout or b"").decode("utf-8", "replace") + "\n[timed out]\n"
    text = text.replace(cwd + "/", "").replace(cwd, ".")
    results, pos = [], 0
    for m in END.finditer(text):
        results.append((text[pos:m.start()], int(m.group(2))))
        pos = m.end()
    while len(results) < len(cmds):       # the session ended early
        results.append((text[pos:], -1))
        pos = len(text)
    return results


def actual_lines(output, status):
    lines = [ln.rstrip() for ln in output.split("\n")]
    while lines and lines[-1] == "":
        lines.pop()
    if status != 0:
        lines.append(f"[{status}]")
    return lines


def is_ellipsis(line):
    """`...` alone on a line (indented or not) stands for any lines."""
    return line.strip() == "..."


def matches(expected, actual):
    """Line-wise match with `...` standing for any lines."""
    exp = [e.rstrip() for e in expected]
    memo = {}

    def m(i, j):
        if (i, j) in memo:
            return memo[(i, j)]
        if i == len(exp):
            r = j == len(actual)
        elif is_ellipsis(exp[i]):
            r = any(m(i + 1, k) for k in range(j, len(actual) + 1))
        else:
            r = j < len(actual) and exp[i] == actual[j] and m(i + 1, j + 1)
        memo[(i, j)] = r
        return r
    return m(0, 0)


def refresh(expected, actual):
    """The new expected output: the actual one, with each `...` kept where
    the lines around it are still there."""
    expected = [e.rstrip() for e in expected]
    if not any(is_ellipsis(e) for e in expected):
        return actual
    out, ai = [], 0
    for idx, e in enumerate(expected):
        if is_ellipsis(e):
            nxt = next((x for x in expected[idx + 1:] if not is_ellipsis(x)), None)
            if nxt is None:
                out.append(e)
                ai = len(actual)
                break
            if nxt in actual[ai:]:
                out.append(e)
                ai = actual.index(nxt, ai)
        elif e in actual[ai:]:
            j = actual.index(e, ai)
            out.extend(actual[ai:j + 1])
            ai = j + 1
        elif ai < len(actual):
            # a line that changed in place: take the line now at its place,
            # unless that is where the next expected line already is
            nxt = next((x for x in expected[idx + 1:] if not is_ellipsis(x)), None)
            if actual[ai] != nxt:
                out.append(actual[ai])
                ai += 1
    out.extend(actual[ai:])
    return out


CODE = re.compile(r"`([^`]+)`")


def table_cells(row):
    """The cells of a Markdown table row (`\\|` is a | inside a cell)."""
    cells = re.split(r"(?<!\\)\|", row.strip().strip("|"))
    return [c.strip().replace("\\|", "|") for c in cells]


def check_examples(block, cwd, bindir):
    """Every row's example has its value: None, or what is wrong."""
    args = block.directive[1].split()
    if len(args) != 2 or len(block.lines) < 3:
        return "`examples` needs RULES ORDER and a table after it"
    rules, order = args
    head = [c.lower() for c in table_cells(block.lines[0])]
    if "example" not in head or "value" not in head:
        return "an examples table needs the columns `example` and `value`"
    ex_col, val_col = head.index("example"), head.index("value")
    rows = []
    for row in block.lines[2:]:
        cells = table_cells(row)
        ex = CODE.search(cells[ex_col]) if ex_col < len(cells) else None
        val = CODE.search(cells[val_col]) if val_col < len(cells) else None
        if ex and val:
            rows.append((ex.group(1), val.group(1)))
    with open(os.path.join(cwd, rules)) as f:
        text = f.read().rstrip("\n") + "\noffers:\n"
    for i, (ex, val) in enumerate(rows):
        cond = f"not has({ex})" if val == "missing" else f"({ex}) == ({val})"
        text += f"  - id: ex{i}\n    when: '{cond.replace(chr(39), chr(39) * 2)}'\n" \
                f"    message: x\n"
    path = os.path.join(cwd, ".examples.yaml")
    with open(path, "w") as f:
        f.write(text)
    env = dict(os.environ, PATH=bindir + os.pathsep + os.environ.get("PATH", ""), TZ="UTC")
    r = subprocess.run(["tessera", "eval", ".examples.yaml", order], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=TIMEOUT)
    if r.returncode != 0:
        return "the examples do not load: " + (r.stderr + r.stdout).strip()
    listed = {o["id"] for o in json.loads(r.stdout).get("offers", [])}
    wrong = [f"`{ex}` is not `{val}`" for i, (ex, val) in enumerate(rows)
             if f"ex{i}" not in listed]
    return "; ".join(wrong) if wrong else None


def scratch_copy(repo):
    d = tempfile.mkdtemp(prefix="tessera-doctest-")
    for name in COPIED:
        src = os.path.join(repo, name)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(d, name), symlinks=True)
    return d


def check_page(repo, page, bindir, update, report):
    path = os.path.join(repo, page)
    with open(path) as f:
        text = f.read()
    blocks = parse(page, text)
    if not any(b.info == "console" or (b.directive and b.directive[0] == "file") for b in blocks):
        return True
    cwd = scratch_copy(repo)
    ok = True
    edits = {}                              # block start -> new body lines
    try:
        for b in blocks:
            name, arg = b.directive or (None, None)
            if name == "file":
                target = os.path.join(cwd, arg)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, "w") as f:
                    f.write("\n".join(b.lines) + "\n")
                continue
            if b.info == "examples-table":
                report["commands"] += 1
                err = check_examples(b, cwd, bindir)
                if err:
                    ok = False
                    report["failed"].append(f"{page}:{b.start}: {err}")
                continue
            if b.info != "console":
                continue
            if name == "skip":
                report["skipped"].append(f"{page}:{b.start}: {arg}")
                continue
            if name is not None:
                report["failed"].append(f"{page}:{b.start}: unknown doctest directive `{name}`")
                ok = False
                continue
            cmds = commands(b)
            if not cmds:
                continue
            report["sessions"] += 1
            results = run_session(cmds, cwd, bindir)
            body = list(b.lines)
            changed = False
            # from the last command backwards, so line numbers stay valid
            for c, (out, status) in reversed(list(zip(cmds, results))):
                actual = actual_lines(out, status)
                expected = c.expected + ([f"[{c.status}]"] if c.status else [])
                report["commands"] += 1
                if matches(expected, actual):
                    continue
                if update:
                    end = c.line + 1 + c.text.count("\n")
                    stop = end
                    while stop < len(body) and not body[stop].startswith("$ "):
                        stop += 1
                    body[end:stop] = refresh(expected, actual)
                    changed = True
                    report["updated"].append(f"{page}:{b.start + c.line + 1}: $ {c.text}")
                    continue
                ok = False
                report["failed"].append(
                    f"{page}:{b.start + c.line + 1}: $ {c.text}\n"
                    + "  expected:\n" + "".join(f"    {ln}\n" for ln in expected)
                    + "  got:\n" + "".join(f"    {ln}\n" for ln in actual))
            if changed:
                edits[b.start] = body
    finally:
        shutil.rmtree(cwd, ignore_errors=True)
    if edits:
        lines = text.split("\n")
        for start in sorted(edits, reverse=True):
            b = next(x for x in blocks if x.start == start)
            lines[start:start + len(b.lines)] = [(b.indent + ln) if ln else ln
                                                 for ln in edits[start]]
        with open(path, "w") as f:
            f.write("\n".join(lines))
    return ok


def main():
    args = [a for a in sys.argv[1:] if a != "--update"]
    update = "--update" in sys.argv[1:]
    if len(args) < 2:
        print(__doc__)
        return 2
    tessera, repo = os.path.abspath(args[0]), os.path.abspath(args[1])
    pages = args[2:]
    if not pages:
        pages = ["README.md"] + sorted(
            os.path.relpath(os.path.join(d, f), repo)
            for d, _, fs in os.walk(os.path.join(repo, "docs")) for f in fs if f.endswith(".md"))
    bindir = tempfile.mkdtemp(prefix="tessera-doctest-bin-")
    os.symlink(tessera, os.path.join(bindir, "tessera"))
    report = {"sessions": 0, "commands": 0, "failed": [], "skipped": [], "updated": []}
    ok = True
    try:
        for page in pages:
            if os.path.exists(os.path.join(repo, page)):
                ok = check_page(repo, page, bindir, update, report) and ok
    finally:
        shutil.rmtree(bindir, ignore_errors=True)
    for f in report["failed"]:
        print("FAIL " + f)
    for s in report["skipped"]:
        print("skipped " + s)
    for u in report["updated"]:
        print("updated " + u)
    print(f"doctest.py: {report['sessions']} sessions, {report['commands']} commands, "
          f"{len(report['failed'])} failed, {len(report['skipped'])} skipped"
          + (f", {len(report['updated'])} updated" if update else ""))
    if report["failed"] and not update:
        print("doctest.py: after an intended change, run tests/docs/doctest.py TESSERA . --update "
              "and review the diff")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
