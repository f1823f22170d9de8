"""Evaluate and compare orders in JSON Lines partitions, for batch engines.

Dask, Spark, multiprocessing, a Hadoop Streaming mapper: each splits a large
input into partitions (lists of lines) and runs a function on each, in
worker processes, possibly on other machines.  The functions here are those
functions.  Each worker process loads a rule set once, the first time a
partition needs it, and keeps it for every later partition; loading per
order would cost milliseconds each (docs/scale-out.md).

Evaluating::

    results = evaluate_partition("rules/park/park.yaml", lines)   # result JSON lines

Comparing two rule versions, what ``tessera diff`` reports, beyond one
machine: every partition gives the state of its comparison, a short JSON
line, and the states merged in the input's order report exactly what
``tessera diff OLD NEW ALL-THE-LINES`` prints::

    states = [diff_partition(old, new, part) for part in partitions]   # on the workers
    print(diff_report(old, new, states), end="")                       # on the driver

Everything a comparison decides (pricing, what changed, which orders moved
most, the report's text) is the C library's ``tsr_diff``, the code behind
``tessera diff``: this module only passes lines and states along.

Rule sets are named by path (read by each worker: the same path on every
machine) or given as :class:`RuleSource` (the text, read once by the driver
and shipped to the workers with the task).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from typing import Iterable, Union

from . import RuleSet
from ._native import NativeDiff as _NativeDiff
from ._tessera import OrderError, EvaluationError

__all__ = [
    "RuleSource",
    "ruleset",
    "evaluate_partition",
    "Diff",
    "diff_partition",
    "merge_states",
    "diff_report",
]

#: How many orders that moved most a report lists (``tessera diff --top``).
TOP = 10


@dataclass(frozen=True)
class RuleSource:
    """A rule file's text and its name, to ship to workers that may not
    share the driver's file system.  Small and picklable; workers load it
    once per process (see :func:`ruleset`).  ``name`` is what errors and
    reports call the file (the path as given, like ``tessera diff``).  Its
    ``include:`` files, if any, are still read on the worker, relative to
    ``name``."""

    name: str
    text: str
    digest: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", hashlib.sha256(self.text.encode("utf-8")).hexdigest())

    @classmethod
    def from_file(cls, path: Union[str, "os.PathLike[str]"]) -> "RuleSource":
        with open(path, encoding="utf-8") as f:
            return cls(os.fspath(path), f.read())


Rules = Union[str, "os.PathLike[str]", RuleSource, RuleSet]

# One rule set per worker process: by (name, digest) for a RuleSource, by
# (absolute path, mtime, size) for a path, so that a rule file changed on
# disk is loaded again.  A handful of entries: a job uses one or two.
_loaded: dict[tuple[str, str], RuleSet] = {}
_MAX_LOADED = 8


def ruleset(rules: Rules) -> RuleSet:
    """The rule set of ``rules`` for this process, loaded on first use."""
    if isinstance(rules, RuleSet):
        return rules
    if isinstance(rules, RuleSource):
        key = (rules.name, rules.digest)
    else:
        path = os.path.abspath(os.fspath(rules))
        st = os.stat(path)
        key = (path, f"{st.st_mtime_ns}:{st.st_size}")
    rs = _loaded.get(key)
    if rs is None:
        if isinstance(rules, RuleSource):
            rs = RuleSet.from_string(rules.text, name=rules.name)
        else:
            rs = RuleSet.from_file(key[0])
        if len(_loaded) >= _MAX_LOADED:
            _loaded.pop(next(iter(_loaded)))
        _loaded[key] = rs
    return rs


def _name(rules: Rules) -> str:
    if isinstance(rules, RuleSource):
        return rules.name
    if isinstance(rules, RuleSet):
        return rules.id
    return os.fspath(rules)


def _line(line: str | bytes) -> str | bytes:
    """A line as a batch engine hands it over, without its newline."""
    if isinstance(line, bytes):
        return line[:-1] if line.endswith(b"\n") else line
    return line[:-1] if line.endswith("\n") else line


def _blank(line: str | bytes) -> bool:
    return not line.strip(b" \t\r" if isinstance(line, bytes) else " \t\r")


# -- evaluating ---------------------------------------------------------------

def evaluate_partition(rules: Rules, lines: Iterable[str | bytes], *, first_line: int = 1,
                       customer_safe: bool = False, trace: bool = False) -> list[str]:
    """Evaluate one order per line, like ``tessera eval --jsonl``: for every
    line that is not blank, the result JSON (without a newline), or for an
    order that is invalid or cannot be evaluated
    ``{"error": {"line": N, "path": ..., "message": ...}}``.  Lines are
    numbered from ``first_line``.  ``trace`` is off by default here (batch
    jobs rarely read it, and it is most of a result's size)."""
    rs = ruleset(rules)
    out: list[str] = []
    for n, raw in enumerate(lines, start=first_line):
        line = _line(raw)
        if _blank(line):
            continue
        try:
            out.append(rs.evaluate_json(line, customer_safe=customer_safe, trace=trace))
        except (OrderError, EvaluationError) as e:
            out.append(json.dumps({"error": {"line": n, "path": e.path, "message": e.message}},
                                  ensure_ascii=False, separators=(",", ":")))
    return out


# -- comparing ----------------------------------------------------------------

class Diff:
    """A comparison of two rule sets over many orders: the library's
    ``tsr_diff``.  Feed it lines (:meth:`add_lines`), or merge states of
    other parts of the input (:meth:`merge`), in the input's order; then
    :meth:`report`."""

    __slots__ = ("_native", "_rulesets", "old_name", "new_name")

    def __init__(self, old: Rules, new: Rules, *, top: int = TOP) -> None:
        old_rs, new_rs = ruleset(old), ruleset(new)
        if isinstance(top, bool) or not isinstance(top, int) or top < 0:
            raise TypeError("top must be a whole number >= 0")
        # The native comparison borrows the rule sets: keep them referenced.
        self._rulesets = (old_rs, new_rs)
        self._native = _NativeDiff(old_rs._native, new_rs._native, top)
        self.old_name, self.new_name = _name(old), _name(new)

    def add_lines(self, lines: Iterable[str | bytes]) -> "Diff":
        """The next lines of the input (with or without their newlines)."""
        add = self._native.add_line
        for line in lines:
            add(_line(line))
        return self

    def state(self) -> str:
        """The comparison so far, as the library's state (one JSON line)."""
        return self._native.state_json()

    def merge(self, state: str | bytes) -> "Diff":
        """Add the state of the part of the input that follows what this
        comparison has seen.  :class:`tessera.Error` when it is the state of
        another comparison (other rule sets or versions, another ``top``)."""
        self._native.merge_json(state)
        return self

    def report(self, *, json: bool = False, old_name: str | None = None,
               new_name: str | None = None) -> str:
        """What ``tessera diff`` prints (``json``: ``tessera diff --json``),
        naming the rule files ``old_name`` and ``new_name`` (default: the
        paths or names they were given by)."""
        return self._native.report(1 if json else 0, old_name or self.old_name,
                                   new_name or self.new_name)


def diff_partition(old: Rules, new: Rules, lines: Iterable[str | bytes], *, top: int = TOP) -> str:
    """Compare one partition: its state, for :func:`merge_states`."""
    return Diff(old, new, top=top).add_lines(lines).state()


def merge_states(old: Rules, new: Rules, states: Iterable[str | bytes], *, top: int = TOP) -> Diff:
    """One comparison of the partitions whose states are given, in the
    input's order."""
    d = Diff(old, new, top=top)
    for state in states:
        d.merge(state)
    return d


def diff_report(old: Rules, new: Rules, states: Iterable[str | bytes], *, top: int = TOP,
                json: bool = False) -> str:
    """The report of the partitions whose states are given (in the input's
    order): byte for byte what ``tessera diff [--json] OLD NEW ORDERS``
    prints for all their lines."""
    return merge_states(old, new, states, top=top).report(json=json)
