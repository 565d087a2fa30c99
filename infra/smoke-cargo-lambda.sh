#!/usr/bin/env bash
# Smoke check of the real binaries on a Lambda Runtime API: `cargo lambda watch` runs both
# functions against moto; `cargo lambda invoke` feeds them freshly signed events/ samples;
# the queues must then hold exactly the genuine events. Used by .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/lib.sh
require_pip cargo-lambda cargo-lambda
start_moto
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
work=$(mktemp -d)

read -r STRIPE_EVENTS_QUEUE_URL KENTICO_EVENTS_QUEUE_URL < <(python3 infra/sqs.py create smoke-stripe smoke-kentico | paste -sd' ')
export STRIPE_EVENTS_QUEUE_URL KENTICO_EVENTS_QUEUE_URL
export STRIPE_WEBHOOK_SECRETS=whsec_paybridge_local_dev_only KENTICO_WEBHOOK_SECRETS=kentico_local_dev_only_secret

cargo lambda watch --invoke-port "$port" >"$work/watch.log" 2>&1 &
watch_pid=$!
cleanup() { # every step may find its process gone already: never fail the script here
  kill "$watch_pid" 2>/dev/null || true
  pkill -f "target/debug/(stripe|kentico)-webhook" 2>/dev/null || true
  kill "$MOTO_PID" 2>/dev/null || true
  wait "$MOTO_PID" 2>/dev/null || true
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null && break
  sleep 0.2
done

cp events/stripe-webhook-valid.json events/stripe-webhook-tampered.json events/kentico-webhook-valid-base64.json "$work/"
cargo run -q -p paybridge-cli -- events sign --secret "$STRIPE_WEBHOOK_SECRETS" "$work/stripe-webhook-valid.json"
cargo run -q -p paybridge-cli -- events sign --secret "$STRIPE_WEBHOOK_SECRETS" --tamper "$work/stripe-webhook-tampered.json"
cargo run -q -p paybridge-cli -- events sign --secret "$KENTICO_WEBHOOK_SECRETS" "$work/kentico-webhook-valid-base64.json"

invoke() { # function file expected-status
  local out
  out=$(cargo lambda invoke "$1" --invoke-port "$port" --data-file "$2")
  echo "$1 $(basename "$2"): $out"
  python3 -c "import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r['statusCode']==$3 else 1)" "$out" \
    || { echo "expected status $3" >&2; cat "$work/watch.log" >&2; exit 1; }
}
invoke stripe-webhook "$work/stripe-webhook-valid.json" 202
invoke stripe-webhook "$work/stripe-webhook-tampered.json" 401
invoke kentico-webhook "$work/kentico-webhook-valid-base64.json" 202

stripe_count=$(python3 infra/sqs.py drain "$STRIPE_EVENTS_QUEUE_URL" | wc -l)
kentico_count=$(python3 infra/sqs.py drain "$KENTICO_EVENTS_QUEUE_URL" | wc -l)
[ "$stripe_count" = 1 ] && [ "$kentico_count" = 1 ] || { echo "queues hold stripe=$stripe_count kentico=$kentico_count, expected 1 and 1" >&2; exit 1; }
# Each invocation flushed its counts as CloudWatch Embedded Metric Format documents on stdout.
python3 - "$work/watch.log" <<'PY' || { cat "$work/watch.log" >&2; exit 1; }
import json, sys
seen = set()
for line in open(sys.argv[1], errors="replace"):
    start = line.find('{"_aws"')
    if start < 0:
        continue
    doc = json.loads(line[start:])
    assert doc["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Paybridge", doc
    if "WebhookRequests" in doc:
        seen.add((doc["Source"], doc["Outcome"], doc["WebhookRequests"]))
want = {("stripe", "accepted", 1), ("stripe", "signature_mismatch", 1), ("kentico", "accepted", 1)}
assert want <= seen, f"EMF documents seen: {sorted(seen)}"
PY
echo "cargo lambda smoke: 3 invokes, 2 events enqueued, 1 forged refused, 3 EMF documents: ok"
