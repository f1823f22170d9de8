#!/usr/bin/env bash
# `tessera check`: warnings alone exit 0 (1 with --strict), errors exit 1.
. "$(dirname "$0")/lib.sh"

run "a clean rule file" "$TESSERA" check "$FIX/shop.yaml"
expect_status 0
expect_empty err

run "warnings only" "$TESSERA" check "$FIX/warn.yaml"
expect_status 0
expect_regex err 'warn\.yaml:5:3: warning: segment `idle` is never used'

run "warnings with --strict" "$TESSERA" check --strict "$FIX/warn.yaml"
expect_status 1

run "an error" "$TESSERA" check "$FIX/broken.yaml" "$FIX/warn.yaml"
expect_status 1
expect_regex err 'broken\.yaml:7:[0-9]+: error: '
expect_grep err "warning:"

finish
