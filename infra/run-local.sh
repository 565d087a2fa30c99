#!/usr/bin/env bash
# Runs both webhook functions locally, unchanged, under `cargo lambda watch` (a Lambda Runtime
# API emulator) against moto's SQS. Webhooks go to
#   http://127.0.0.1:${PORT:-9000}/lambda-url/stripe-webhook/   and   …/kentico-webhook/
# and `cargo lambda invoke <function> --data-file events/….json` feeds the sample events.
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/lib.sh
require_pip cargo-lambda cargo-lambda
start_moto

read -r STRIPE_EVENTS_QUEUE_URL KENTICO_EVENTS_QUEUE_URL < <(python3 infra/sqs.py create paybridge-local-stripe-events paybridge-local-kentico-events | paste -sd' ')
export STRIPE_EVENTS_QUEUE_URL KENTICO_EVENTS_QUEUE_URL
# The sample events in events/ are signed with these development-only secrets.
export STRIPE_WEBHOOK_SECRETS="${STRIPE_WEBHOOK_SECRETS:-whsec_paybridge_local_dev_only}"
export KENTICO_WEBHOOK_SECRETS="${KENTICO_WEBHOOK_SECRETS:-kentico_local_dev_only_secret}"
export AWS_LAMBDA_LOG_FORMAT="${AWS_LAMBDA_LOG_FORMAT:-JSON}"
cat >&2 <<INFO
queues:  $STRIPE_EVENTS_QUEUE_URL
         $KENTICO_EVENTS_QUEUE_URL
read:    AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL python3 infra/sqs.py drain <queue url>
INFO
cargo lambda watch --invoke-port "${PORT:-9000}" "$@"
