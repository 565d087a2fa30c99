#!/usr/bin/env bash
# The template's security gate: checkov over template.yaml must find nothing. A finding that does
# not apply is skipped in the resource's Metadata (checkov: skip) with the reason beside it.
# checkov pins its own boto3, which conflicts with aws-sam-cli's: it lives in its own venv.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/checkov-venv
if [ ! -x "$venv/bin/checkov" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check checkov
fi
exec "$venv/bin/checkov" -f template.yaml --framework cloudformation --compact --quiet --skip-download
