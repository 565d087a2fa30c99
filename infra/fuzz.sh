#!/usr/bin/env bash
# Fuzzes the parsers that read what others send (docs/RELIABILITY.md, *Fuzzing*).
#
# Usage: infra/fuzz.sh [seconds per target, default 60] [target ...]   (default: every target)
#   FUZZ_PARALLEL=1 runs the targets at once instead of one after the other.
#
# Installs cargo-fuzz if missing, seeds the corpora (infra/fuzz-seed.py), builds every target in
# one cargo invocation, runs each for the given time, prints per target executions, edges
# covered, corpus size and peak RSS, and fails on any crash, leak of time (a 10 s input) or
# memory (2 GiB), naming the input that did it (fuzz/artifacts/<target>/). Non-interactive.
#
# Only stable Rust is installed here: libFuzzer's instrumentation flags are taken from the stable
# compiler with RUSTC_BOOTSTRAP=1, without AddressSanitizer (memory safety is Rust's; the targets
# look for panics, aborts, unbounded allocation and hangs).
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
all=(signature_header stripe_event kentico_order_x13 kentico_order_xbyk minor_units kentico_response)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
for target in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $target "* ]] || { echo "unknown fuzz target $target (targets: ${all[*]})" >&2; exit 2; }
done
case $seconds in '' | *[!0-9]*) echo "seconds per target must be a whole number, not $seconds" >&2; exit 2 ;; esac

max_len() {
  case $1 in
    minor_units) echo 128 ;;
    signature_header) echo 1024 ;;
    stripe_event) echo 8192 ;;
    *) echo 4096 ;;
  esac
}

command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz --version 0.13.2
python3 infra/fuzz-seed.py
export RUSTC_BOOTSTRAP=1
started=$(date +%s)
cargo fuzz build --sanitizer none --release
echo "fuzz build: $(($(date +%s) - started)) s"

bin=fuzz/target/x86_64-unknown-linux-gnu/release
mkdir -p fuzz/logs
run() { # target
  local target=$1
  mkdir -p "fuzz/artifacts/$target"
  "$bin/$target" "fuzz/corpus/$target" \
    -max_total_time="$seconds" -rss_limit_mb=2048 -max_len="$(max_len "$target")" -timeout=10 \
    -artifact_prefix="fuzz/artifacts/$target/" -print_final_stats=1 >"fuzz/logs/$target.log" 2>&1
}

declare -A status
if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
  declare -A pids
  for target in "${targets[@]}"; do run "$target" & pids[$target]=$!; done
  for target in "${targets[@]}"; do
    if wait "${pids[$target]}"; then status[$target]=0; else status[$target]=$?; fi
  done
else
  for target in "${targets[@]}"; do
    if run "$target"; then status[$target]=0; else status[$target]=$?; fi
  done
fi

failed=0
printf '%-18s %6s %12s %7s %7s %8s %s\n' target seconds execs edges corpus rss_mb result
for target in "${targets[@]}"; do
  log=fuzz/logs/$target.log
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rss=$(sed -n 's/^stat::peak_rss_mb: *//p' "$log" | tail -1)
  edges=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  corpus=$(find "fuzz/corpus/$target" -type f 2>/dev/null | wc -l)
  if [ "${status[$target]}" = 0 ]; then
    result=clean
  else
    result="FAILED (exit ${status[$target]}; log $log)"
    failed=1
  fi
  printf '%-18s %6s %12s %7s %7s %8s %s\n' "$target" "$seconds" "${execs:-?}" "${edges:-?}" "$corpus" "${rss:-?}" "$result"
done
if [ "$failed" = 1 ]; then
  echo
  grep -h -A3 -E '^==[0-9]+== ERROR|panicked at|Test unit written to' fuzz/logs/*.log || true
  echo "a target failed: reproduce with fuzz/target/x86_64-unknown-linux-gnu/release/<target> <artifact>" >&2
  exit 1
fi
