#!/usr/bin/env bash
# `pip install ./bindings/python` works offline: into a fresh virtual
# environment (with Debian's site packages for setuptools and wheel), with
# --no-index so that nothing could be fetched, build files outside the
# source tree; then the installed package prices an order.
# Usage: pip_install.sh PYTHON SOURCE_DIR WORK_DIR
set -euo pipefail
python=$1 src=$2 work=$3
rm -rf "$work"
mkdir -p "$work"
"$python" -m venv --system-site-packages "$work/venv"
TESSERA_BUILD_BASE="$work/build" "$work/venv/bin/pip" install --quiet --no-index \
  --no-build-isolation --no-cache-dir "$src/bindings/python"
cd "$work"
"$work/venv/bin/python" - "$src/rules/park/park.yaml" <<'PY'
import sys
import tessera
assert tessera.__file__.startswith(sys.prefix), tessera.__file__
rs = tessera.RuleSet.from_file(sys.argv[1])
result = rs.evaluate({"datetime": "2026-06-10T11:00:00+03:00",
                      "items": [{"id": "f1", "kind": "fnb", "price": "150.00", "quantity": 2}]})
assert result["totals"]["due"] == "300.00", result["totals"]
print("pip install: tessera", tessera.__version__, "from", tessera.__file__)
PY
