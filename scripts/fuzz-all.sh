#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 600) each, one after the other, with a seed
# corpus from testdata/. Appends "target, seconds, executions, result" lines to fuzz/RUNS.log.
set -uo pipefail
cd "$(dirname "$0")/../fuzz"
SECONDS_EACH=${1:-600}
for target in $(cargo +nightly fuzz list); do
  mkdir -p "corpus/$target"
  case $target in
    attestation_parsers) seeds=$(find ../testdata/attest -type f 2>/dev/null) ;;
    policy_loader) seeds=$(find ../testdata/policies ../testdata/demo/policy.yaml -type f 2>/dev/null) ;;
    platform_policy_loader) seeds=$(find ../testdata/platform -type f 2>/dev/null) ;;
    *) seeds=$(find ../testdata -name '*.yaml' -o -name '*.yml' -o -name '*.json' | grep -v hostile/deep) ;;
  esac
  for f in $seeds; do cp "$f" "corpus/$target/$(echo "$f" | tr '/ ' '__')" 2>/dev/null; done
  log=$(mktemp)
  nice -n 5 cargo +nightly fuzz run -O "$target" -- -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1
  rc=$?
  execs=$(grep -E '^stat::number_of_executed_units' "$log" | awk '{print $2}')
  echo "$(date -u +%FT%TZ) target=$target seconds=$SECONDS_EACH executions=${execs:-?} exit=$rc" | tee -a RUNS.log
  [ $rc -eq 0 ] || tail -40 "$log"
done
