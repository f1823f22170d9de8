"""tessera.batch: partitions of JSON Lines evaluated and compared in worker
processes, against the CLI on the same lines (`tessera eval --jsonl`,
`tessera diff`).  The comparison itself is the C library's tsr_diff
(tests/unit/test_diff.c); here: the plumbing around it, the per-process rule
sets, and the states crossing real process boundaries."""
from __future__ import annotations

import gc
import multiprocessing
import os
import shutil
from pathlib import Path

import pytest

import tessera
from tessera import batch

from conftest import CLI, SOURCE, run_cli

OLD = SOURCE / "tests" / "rules" / "refunds" / "park.yaml"
NEW = SOURCE / "tests" / "cli" / "refund" / "fixtures" / "park-next.yaml"
ORDERS = SOURCE / "tests" / "cli" / "refund" / "fixtures" / "orders.jsonl"

# The fixture orders and more: unchanged, changed, rejected by one side or
# both, blank lines, a line with a CR, equal moves.
LINES = ORDERS.read_text().splitlines(keepends=True) + [
    "\n",
    "not json\n",
    '{"datetime":"2026-07-01T10:00:00+03:00","items":[{"id":"a1","kind":"ticket","height_cm":180},'
    '{"id":"a2","kind":"ticket","height_cm":180},{"id":"c1","kind":"ticket","height_cm":120},'
    '{"id":"c2","kind":"ticket","height_cm":110}]}\r\n',
    " \t\n",
    '{"id":"D-9","datetime":"2026-07-01T10:00:00+03:00","items":[{"id":"s1","kind":"souvenir","quantity":3}]}',
]


@pytest.fixture
def orders_file(tmp_path: Path) -> Path:
    p = tmp_path / "orders.jsonl"
    p.write_text("".join(LINES))
    return p


def cuts(n: int):
    for a in range(n + 1):
        for b in range(a, n + 1):
            yield [LINES[:a], LINES[a:b], LINES[b:]]


@pytest.mark.parametrize("json_", [False, True])
def test_merged_partitions_print_what_tessera_diff_prints(orders_file: Path, json_: bool) -> None:
    args = ["diff", "--top", "3", *(["--json"] if json_ else []), str(OLD), str(NEW), str(orders_file)]
    want = run_cli(*args)
    assert want.status == 0, want.stderr
    for parts in cuts(len(LINES)):
        states = [batch.diff_partition(str(OLD), str(NEW), part, top=3) for part in parts]
        assert batch.diff_report(str(OLD), str(NEW), states, top=3, json=json_) == want.stdout


def test_evaluate_partition_gives_the_lines_of_tessera_eval_jsonl(orders_file: Path) -> None:
    want = run_cli("eval", "--jsonl", "--no-trace", str(OLD), str(orders_file))
    assert want.status == 2                        # some orders are invalid
    first = batch.evaluate_partition(str(OLD), LINES[:4])
    rest = batch.evaluate_partition(str(OLD), LINES[4:], first_line=5)
    assert first + rest == want.stdout.splitlines()
    assert '"line":5,' in rest[0] and rest[0].startswith('{"error":')


def _state_in_another_process(args: tuple[str, str, list[str]]) -> str:
    old, new, lines = args
    return batch.diff_partition(batch.RuleSource(old, Path(old).read_text()),
                                batch.RuleSource(new, Path(new).read_text()), lines)


def test_states_cross_process_boundaries(orders_file: Path) -> None:
    parts = [LINES[:3], LINES[3:8], LINES[8:]]
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        states = pool.map(_state_in_another_process, [(str(OLD), str(NEW), p) for p in parts])
    want = run_cli("diff", str(OLD), str(NEW), str(orders_file))
    assert batch.diff_report(batch.RuleSource.from_file(OLD), batch.RuleSource.from_file(NEW),
                             states) == want.stdout


def test_a_worker_loads_each_rule_set_once(tmp_path: Path) -> None:
    src = batch.RuleSource.from_file(OLD)
    assert batch.ruleset(src) is batch.ruleset(batch.RuleSource(str(OLD), OLD.read_text()))
    copy = tmp_path / "rules.yaml"
    shutil.copy(OLD, copy)
    first = batch.ruleset(str(copy))
    assert batch.ruleset(copy) is first
    text = copy.read_text().replace('version: "2026-11"', 'version: "2026-11-b"')
    copy.write_text(text)
    os.utime(copy, ns=(1, 1))                      # a new mtime, whatever the clock
    assert batch.ruleset(copy) is not first
    assert batch.ruleset(copy).version == "2026-11-b"


def test_reports_name_the_rule_files_as_given() -> None:
    report = batch.Diff(batch.RuleSource("old.yaml", OLD.read_text()),
                        batch.RuleSource("new.yaml", NEW.read_text())).add_lines(LINES).report()
    assert report.startswith("tessera diff: old.yaml (park-refunds, version 2026-11) -> new.yaml ")
    assert batch.Diff(str(OLD), str(NEW)).report(old_name="a", new_name="b").startswith("tessera diff: a (")


def test_a_state_of_another_comparison_is_refused() -> None:
    other = batch.diff_partition(str(NEW), str(OLD), LINES)      # the other way round
    d = batch.Diff(str(OLD), str(NEW)).add_lines(LINES[:2])
    before = d.report(json=True)
    with pytest.raises(tessera.Error, match="not a state of this comparison"):
        d.merge(other)
    with pytest.raises(tessera.Error):
        d.merge(batch.diff_partition(str(OLD), str(NEW), LINES, top=3))   # another top
    with pytest.raises(tessera.OrderError):
        d.merge("{not json")
    assert d.report(json=True) == before


def test_a_comparison_keeps_its_rule_sets_alive() -> None:
    old, new = tessera.RuleSet.from_file(OLD), tessera.RuleSet.from_file(NEW)
    d = batch.Diff(old, new)
    del old, new
    gc.collect()
    assert "4 priced under both" in d.add_lines(ORDERS.read_text().splitlines()).report()


def test_bad_arguments() -> None:
    with pytest.raises(TypeError):
        batch.Diff(str(OLD), str(NEW), top=-1)
    with pytest.raises(tessera.Error):
        batch.Diff(str(OLD), str(NEW), top=1001)
    with pytest.raises(tessera.RuleError):
        batch.Diff(batch.RuleSource("broken.yaml", "tessera: 1\n"), str(NEW))
