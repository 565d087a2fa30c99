#!/usr/bin/env bash
# The Metrics port's adapters against the `metrics` facade and its exporters (one worker
# message's metrics), as ratios measured in one process: see docs/ARCHITECTURE.md#metrics.
# Both write EMF to stdout, which is thrown away; the figures go to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench --quiet -p paybridge --bench metrics > /dev/null
