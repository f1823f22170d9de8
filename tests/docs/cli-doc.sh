#!/usr/bin/env bash
# docs/cli.md is the help text of every command.  Writes it (--write) or
# checks that it is current (the ctest `docs.cli`), so the page cannot drift
# from the program.
# Usage: cli-doc.sh TESSERA DOCS/cli.md [--write]
set -euo pipefail
tessera=$1 page=$2
gen() {
  echo '# The `tessera` command'
  echo
  echo 'For rule authors, integrators and batch jobs.  Every command is a thin layer over'
  echo 'the library (`include/tessera.h`), so the command line, C, Python and PHP give the'
  echo 'same answers.  `tessera --help` lists the commands; `tessera help COMMAND` (or'
  echo '`tessera COMMAND --help`) prints the text below, which this page reproduces'
  echo '(`tests/docs/cli-doc.sh` keeps it current).'
  echo
  echo '```'
  "$tessera" --help
  echo '```'
  for c in check eval test refund segments diff serve schema; do
    echo
    echo "## tessera $c"
    echo
    echo '```'
    "$tessera" help "$c"
    echo '```'
  done
}
if [ "${3:-}" = --write ]; then
  gen > "$page"
  exit 0
fi
if ! diff -u "$page" <(gen); then
  echo "docs/cli.md is out of date: run tests/docs/cli-doc.sh build/tessera docs/cli.md --write" >&2
  exit 1
fi
