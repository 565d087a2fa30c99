#!/usr/bin/env bash
# Writes target/stripe-params.json: the request parameters Stripe publishes for the API version
# paybridge pins, taken from the stripe-python release generated for it (installed into
# target/stripe-python, nowhere else). The Stripe fake of the tests refuses any request these
# definitions refuse. Safe to run from several test processes at once.
set -euo pipefail
cd "$(dirname "$0")/.."
# stripe-python 15.6.2 is generated from Stripe's OpenAPI spec for 2026-08-26.dahlia.
STRIPE_PYTHON='stripe==15.6.2'
out=target/stripe-params.json
fresh() { [ -s "$out" ] && [ "$out" -nt tests/stripe-params/dump.py ] && [ "$out" -nt "$0" ]; }
fresh && exit 0
mkdir -p target
exec 9>target/stripe-params.lock
flock 9
fresh && exit 0
if [ ! -d target/stripe-python/stripe ]; then
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-conflicts \
    --root-user-action=ignore --target target/stripe-python "$STRIPE_PYTHON"
fi
PYTHONPATH=target/stripe-python python3 tests/stripe-params/dump.py "$out.tmp"
mv "$out.tmp" "$out"
echo "Stripe's request parameters ($STRIPE_PYTHON) in $out" >&2
