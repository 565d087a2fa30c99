#!/usr/bin/env bash
# The test command: starts moto, runs every test of the workspace with cargo-nextest, stops moto,
# then the Kentico modules' Kentico-free C# tests with Mono. Extra arguments go to nextest
# (e.g. infra/test.sh ingress_sqs), and then the C# tests are left out.
set -euo pipefail
cd "$(dirname "$0")/.."
source infra/lib.sh

require_stripe_node
[ "$#" -gt 0 ] || require_mono
# The ledger export test has Beancount itself check the Beancount file.
require_pip bean-check beancount
# The Stripe fake checks every request against Stripe's published parameters (stripe-python).
infra/stripe-params.sh
start_moto
export PAYBRIDGE_TEST_AWS_ENDPOINT="$AWS_ENDPOINT_URL"
# The serve end-to-end tests run the real `paybridge` binary; the crash-recovery test runs the
# worker Lambda binaries under a loopback Runtime API.
cargo build -p paybridge-cli -p order-worker -p payment-worker
cargo nextest run --workspace --no-fail-fast "$@"
if [ "$#" -eq 0 ]; then
  infra/kentico/mono-test.sh
fi
