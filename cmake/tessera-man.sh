#!/usr/bin/env bash
# Writes the man page tessera(1) from the program's own help, so the page
# cannot drift from it (like docs/cli.md, tests/docs/cli-doc.sh): help2man
# turns `tessera --help` and `--version` into NAME, SYNOPSIS and DESCRIPTION,
# and a COMMANDS section holds `tessera help COMMAND` for every command that
# `tessera --help` lists.  The page is written gzip'd (-9n: no name or time
# stamp, so the same program gives the same bytes).
# Usage: tessera-man.sh TESSERA OUT.1.gz
set -euo pipefail
tessera=$1 out=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# roff: a backslash is \e; a line starting with . or ' would be a request.
roff_text() {
  sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"
}

commands=$("$tessera" --help | awk '/^commands:/ { on = 1; next }
                                    on && /^  [a-z]+ / { print $1; next }
                                    on && /^$/ { on = 0 }')
[ -n "$commands" ] || { echo "tessera-man.sh: no commands in \`$tessera --help\`" >&2; exit 1; }
{
  echo '[COMMANDS]'
  for c in $commands; do
    echo ".SS tessera $c"
    echo '.nf'
    "$tessera" help "$c" | roff_text
    echo '.fi'
  done
  echo '[FILES]'
  echo 'Rule files are YAML; orders are JSON (or YAML), one per line for the batch commands.'
  echo 'Time zones come from the system tz database (/usr/share/zoneinfo, or $TZDIR).'
  echo '[SEE ALSO]'
  echo 'The rule language, the C API and the bindings are described in the project'"'"'s docs/.'
} > "$tmp/extra.h2m"

# help2man reads the first line of --help as the name line; the short
# description is given here so NAME is the usual one-liner.
help2man --no-info --section=1 --source="tessera" \
  --name="prices tickets and runs loyalty programs from YAML rule files" \
  --include="$tmp/extra.h2m" --output="$tmp/tessera.1" "$tessera"
gzip -9n < "$tmp/tessera.1" > "$out"
