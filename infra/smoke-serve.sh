#!/usr/bin/env bash
# Smoke check of the README's first command on this checkout: `cargo run -p paybridge-cli -- serve`
# with nothing configured starts, answers /healthz, refuses webhooks with 503 (senders retry),
# and stops cleanly on SIGTERM. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
data=$(mktemp -d)
cargo build -q -p paybridge-cli
env -i PATH="$PATH" HOME="$HOME" target/debug/paybridge serve --port "$port" --data-dir "$data" >"$data/serve.log" 2>&1 &
pid=$!
cleanup() { kill "$pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
health=$(curl -fs "http://127.0.0.1:$port/healthz")
echo "healthz: $health"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$port/webhooks/stripe" -d '{}')
[ "$status" = 503 ] || { echo "expected 503 from an unconfigured source, got $status" >&2; cat "$data/serve.log" >&2; exit 1; }
kill -TERM "$pid"
wait "$pid" || { echo "serve did not exit 0 on SIGTERM" >&2; cat "$data/serve.log" >&2; exit 1; }
echo "paybridge serve smoke: started unconfigured, answered /healthz and 503, stopped on SIGTERM: ok"
