# lib.sh — shared helpers of the CLI tests (sourced): run a command keeping
# its stdout, stderr and exit status, and assertions that say what differed.
# Usage of a test script: test_X.sh TESSERA FIXTURES_DIR
set -u
TESSERA=$1
FIX=$2
TMP=$(mktemp -d "${TMPDIR:-/tmp}/tsr-cli-XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0
what=""

# run DESCRIPTION CMD... : sets $status, $TMP/out, $TMP/err
run() {
  what=$1; shift
  "$@" >"$TMP/out" 2>"$TMP/err"
  status=$?
}

bad() {
  echo "FAIL: $what: $*"
  echo "  stdout: $(head -c 2000 "$TMP/out")"
  echo "  stderr: $(head -c 2000 "$TMP/err")"
  failures=$((failures + 1))
}

expect_status() { [ "$status" -eq "$1" ] || bad "exit status $status, expected $1"; }
# expect_grep FILE(out|err) FIXED-STRING
expect_grep() { grep -qF -- "$2" "$TMP/$1" || bad "$1 lacks: $2"; }
expect_no_grep() { ! grep -qF -- "$2" "$TMP/$1" || bad "$1 should not contain: $2"; }
# expect_regex FILE(out|err) EXTENDED-REGEX
expect_regex() { grep -qE -- "$2" "$TMP/$1" || bad "$1 does not match /$2/"; }
expect_lines() {
  local n
  n=$(wc -l <"$TMP/$1")
  [ "$n" -eq "$2" ] || bad "$1 has $n lines, expected $2"
}
expect_empty() { [ ! -s "$TMP/$1" ] || bad "$1 should be empty"; }
# expect_line FILE N TEXT: line N is exactly TEXT
expect_line() {
  local got
  got=$(sed -n "$2p" "$TMP/$1")
  [ "$got" = "$3" ] || bad "$1 line $2 is '$got', expected '$3'"
}

finish() {
  if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
  fi
  echo "all checks passed"
}
