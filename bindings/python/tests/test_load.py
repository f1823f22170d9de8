"""Loading rule sets, and every load failure as a RuleError with its place."""
from __future__ import annotations

from pathlib import Path

import pytest

import tessera
from tessera import _native

from conftest import PARK_RULES, run_cli

GOOD = """\
tessera: 1
ruleset: tiny
version: "7"
currency: EUR
categories:
  - id: adult
    for: item.kind == "ticket"
    price: 25.00
"""


def test_from_file_loads_and_reports_identity() -> None:
    rs = tessera.RuleSet.from_file(PARK_RULES)
    assert (rs.id, rs.currency) == ("island-park", "RUB")
    assert rs.version and rs.version in PARK_RULES.read_text()
    assert "island-park" in repr(rs)


def test_from_file_accepts_a_path_object() -> None:
    assert tessera.RuleSet.from_file(Path(PARK_RULES)).id == "island-park"


def test_from_string_loads() -> None:
    rs = tessera.RuleSet.from_string(GOOD, "tiny.yaml")
    assert (rs.id, rs.version, rs.currency) == ("tiny", "7", "EUR")
    assert tessera.RuleSet.from_string(GOOD).id == "tiny"


def test_version_is_the_c_library_version() -> None:
    assert tessera.__version__ == tessera.library_version()
    assert tessera.__version__.count(".") == 2


def test_dir_shows_the_api_and_nothing_the_package_imports() -> None:
    assert dir(tessera) == sorted(tessera.__all__)
    for name in ("Any", "Union", "Mapping", "os", "annotations", "StrPath"):
        assert name not in dir(tessera)
    assert {"RuleSet", "RuleError", "OrderError", "library_version"} <= set(dir(tessera))
    for name in tessera.__all__:
        assert hasattr(tessera, name), name
    namespace: dict[str, object] = {}
    exec("from tessera import *", namespace)
    assert set(namespace) - {"__builtins__"} == set(tessera.__all__)


def test_ruleset_is_not_constructible_directly() -> None:
    with pytest.raises(TypeError):
        tessera.RuleSet()
    with pytest.raises(tessera.Error) as e:       # the native handle refuses too
        _native.NativeRuleSet()
    assert e.value.code == -10                    # TSR_EINVAL


def test_broken_yaml_is_a_rule_error_with_file_line_and_column() -> None:
    text = GOOD.replace("    price: 25.00\n", "    price: [25.00\n")
    with pytest.raises(tessera.RuleError) as e:
        tessera.RuleSet.from_string(text, "broken.yaml")
    err = e.value
    assert err.file == "broken.yaml"
    assert err.line is not None and err.line >= 8
    assert err.column is not None and err.column >= 1
    assert err.path is None
    assert err.code == -3                          # TSR_EPARSE
    assert str(err).startswith(f"broken.yaml:{err.line}:{err.column}: ")
    assert err.message and err.message in str(err)
    assert isinstance(err, tessera.Error)


def test_type_error_in_an_expression_points_at_it(tmp_path: Path) -> None:
    path = tmp_path / "typo.yaml"
    path.write_text(GOOD.replace('for: item.kind == "ticket"', 'for: item.kind == 3'))
    with pytest.raises(tessera.RuleError) as e:
        tessera.RuleSet.from_file(path)
    assert e.value.file == str(path)
    assert (e.value.line, e.value.column) == (7, 20)
    assert e.value.code == -5                      # TSR_ETYPE
    # The same place and words as the compiler-style line `tessera check` prints.
    check = run_cli("check", str(path))
    assert check.status == 1
    assert check.stderr.splitlines()[0] == str(e.value).replace(
        f"{path}:7:20: ", f"{path}:7:20: error: ", 1)


def test_unknown_field_is_a_rule_error() -> None:
    text = GOOD.replace('for: item.kind == "ticket"', 'for: item.heigth_cm > 3')
    with pytest.raises(tessera.RuleError) as e:
        tessera.RuleSet.from_string(text, "name.yaml")
    assert (e.value.file, e.value.line) == ("name.yaml", 7)
    assert "heigth_cm" in e.value.message


def test_missing_file_is_a_rule_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(tessera.RuleError) as e:
        tessera.RuleSet.from_file(missing)
    assert e.value.code == -2                      # TSR_EIO
    assert str(missing) in str(e.value)


def test_failed_include_is_a_rule_error(tmp_path: Path) -> None:
    main = tmp_path / "main.yaml"
    main.write_text("include: [missing-part.yaml]\n" + GOOD)
    with pytest.raises(tessera.RuleError) as e:
        tessera.RuleSet.from_file(main)
    assert e.value.file is not None and e.value.line == 1
    assert "missing-part.yaml" in str(e.value)


def test_rule_errors_are_not_order_errors() -> None:
    assert not issubclass(tessera.RuleError, tessera.OrderError)
    assert issubclass(tessera.ReceiptError, tessera.OrderError)
    for cls in (tessera.RuleError, tessera.OrderError, tessera.EvaluationError,
                tessera.ReceiptError):
        assert issubclass(cls, tessera.Error)
        assert cls.__module__ == "tessera" and cls.__doc__


def test_include_outside_the_rule_files_tree_needs_allow_paths(tmp_path: Path) -> None:
    rules, shared = tmp_path / "rules", tmp_path / "shared"
    rules.mkdir()
    shared.mkdir()
    (shared / "prices.yaml").write_text(
        'categories:\n  - { id: adult, for: item.kind == "ticket", price: 25.00 }\n')
    main = rules / "main.yaml"
    main.write_text("tessera: 1\nruleset: shared-prices\ncurrency: EUR\n"
                    "include: [../shared/prices.yaml]\n")
    with pytest.raises(tessera.RuleError) as e:
        tessera.RuleSet.from_file(main)
    assert "outside the directory" in str(e.value)
    rs = tessera.RuleSet.from_file(main, allow_paths=[shared])
    assert rs.id == "shared-prices"
    assert rs.evaluate({"datetime": "2026-06-13T10:00:00+02:00",
                        "items": [{"id": "t1", "kind": "ticket"}]})["totals"]["due"] == "25.00"
    # the same through from_string, relative to the name's directory
    text = main.read_text()
    with pytest.raises(tessera.RuleError):
        tessera.RuleSet.from_string(text, str(main))
    assert tessera.RuleSet.from_string(text, str(main), allow_paths=[str(shared)]).id \
        == "shared-prices"
    # a single path is a mistake, not a list of its characters
    with pytest.raises(TypeError):
        tessera.RuleSet.from_file(main, allow_paths=str(shared))      # type: ignore[arg-type]
    with pytest.raises(ValueError):
        tessera.RuleSet.from_file(main, allow_paths=["a\0b"])
