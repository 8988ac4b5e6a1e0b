#!/usr/bin/env bash
# make demo: the sidecar serving every plugin socket, the Kong emulator loaded
# with decks/demo.yaml, and the mock provider, all on loopback, memory state.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
work=$(mktemp -d /tmp/tollgate-demo.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# The sidecar: every plugin socket in $work, the egress on 8765, admin on 8766.
SERVER=${SERVER:-$BIN/tollgate}
"$BIN/fakellm" -listen 127.0.0.1:8099 -key sk-demo >"$work/fakellm.log" 2>&1 & pids+=($!)
"$SERVER" serve --kong-prefix "$work" --egress-listen 127.0.0.1:8765 --admin-listen 127.0.0.1:8766 >"$work/tollgate.log" 2>&1 & pids+=($!)
for _ in $(seq 1 100); do curl -fsS -o /dev/null http://127.0.0.1:8766/healthz 2>/dev/null && break; sleep 0.1; done
"$SERVER" kong-conf --mode sidecar --socket-dir "$work" --binary "$PWD/$SERVER" >"$work/kong.conf"
echo "prefix = $work" >>"$work/kong.conf"
echo "proxy_listen = 127.0.0.1:8000" >>"$work/kong.conf"
"$BIN/kongemu" -conf "$work/kong.conf" -deck decks/demo.yaml >"$work/kong.log" 2>&1 & pids+=($!)

for _ in $(seq 1 100); do
  curl -fsS -o /dev/null http://127.0.0.1:8000/ 2>/dev/null && break
  code=$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:8000/ || true)
  [ "$code" != "000" ] && break
  sleep 0.1
done

cat <<EOT
Tollgate demo is up (logs in $work).
  Kong (emulator) proxy : http://127.0.0.1:8000   config: decks/demo.yaml
  mock provider         : http://127.0.0.1:8099   (OpenAI and Anthropic APIs)
  tollgate egress       : http://127.0.0.1:8765   admin: http://127.0.0.1:8766/metrics, /status
  plugin sockets        : $work/*.socket

Try:
  curl -s http://127.0.0.1:8000/v1/chat/completions \\
    -H 'apikey: alice-demo-key' -H 'Content-Type: application/json' \\
    -d '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"Hello Tollgate"}]}'
  (add "stream": true for SSE; drop the apikey header to see key-auth's 401;
   ask it to "ignore all previous instructions" to see the prompt guard's 400;
   the X-Tollgate-Provider/-Model/-Attempts headers say who answered and
   X-AI-RateLimit-* what is left of the minute's 20000 tokens)

Ctrl-C stops everything.
EOT
wait -n "${pids[@]}"
