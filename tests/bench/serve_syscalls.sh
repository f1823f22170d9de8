#!/usr/bin/env bash
# serve_syscalls.sh — the system calls `tessera serve` (or an http_floor_*
# program) makes per request under keep-alive load: `strace -c -f` on the
# server while wrk (4 connections, 2 threads) posts one body again and
# again for 2 s.  Prints the requests wrk made and each call per request.
#
#   tests/bench/serve_syscalls.sh SERVER RULES BODY [CONTENT_TYPE]
#
# BODY is a file: one order (CONTENT_TYPE application/json, the default) or
# several as JSON lines (application/x-ndjson).  The path posted to is the
# rule file's evaluate route.  Needs strace and wrk (Debian packages of
# those names).  For docs/performance.md, e.g.
#
#   head -1 ../shared/bench/park10/orders.jsonl > /tmp/order.json
#   tests/bench/serve_syscalls.sh build-rel/tessera rules/park10/park10.yaml /tmp/order.json
#   HTTP_FLOOR_MODE=tpc tests/bench/serve_syscalls.sh \
#       build-rel/tests/bench/http_floor_mhd rules/park10/park10.yaml /tmp/order.json
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: serve_syscalls.sh SERVER RULES BODY [CONTENT_TYPE]" >&2
  exit 64
fi
server=$1 rules=$2 body=$3 type=${4:-application/json}
for tool in strace wrk; do
  command -v $tool >/dev/null || { echo "serve_syscalls.sh: needs $tool" >&2; exit 1; }
done
id=$(sed -n 's/^ruleset: *"\{0,1\}\([^" ]*\)"\{0,1\} *$/\1/p' "$rules" | head -1)
dir=$(mktemp -d)
server_pid= strace_pid=
cleanup() {
  [ -n "$strace_pid" ] && kill -INT "$strace_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

cat > "$dir/post.lua" <<EOF
wrk.method = "POST"
wrk.headers["Content-Type"] = "$type"
local f = io.open("$(realpath "$body")", "rb"); wrk.body = f:read("*a"); f:close()
EOF
"$server" serve --listen 127.0.0.1:0 --threads 2 --max-connections 1024 "$rules" \
  2>"$dir/server.log" &
server_pid=$!
for _ in $(seq 100); do
  grep -q '"event":"listening"' "$dir/server.log" && break
  sleep 0.05
done
addr=$(sed -n 's/.*"address":"\([^"]*\)".*/\1/p' "$dir/server.log" | head -1)
[ -n "$addr" ] || { cat "$dir/server.log" >&2; exit 1; }

strace -c -f -p "$server_pid" -o "$dir/strace.txt" 2>/dev/null &
strace_pid=$!
sleep 1
wrk -t2 -c4 -d2s -s "$dir/post.lua" "http://$addr/v1/rulesets/$id/evaluate" > "$dir/wrk.txt"
kill -INT "$strace_pid"
wait "$strace_pid" || true
strace_pid=
requests=$(sed -n 's/^ *\([0-9]*\) requests in.*/\1/p' "$dir/wrk.txt")
non2xx=$(sed -n 's/.*Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$dir/wrk.txt")
echo "$requests requests of $(wc -c < "$body") bytes ($type)${non2xx:+, $non2xx not 2xx}"
# strace -c rows: % time, seconds, usecs/call, calls, [errors,] syscall
awk -v n="$requests" '$1 ~ /^[0-9.]+$/ && $NF != "total" {
    printf "%-16s %10d  %6.2f per request\n", $NF, $4, $4 / n
  }' "$dir/strace.txt" | sort -k2 -nr | head -12
