#!/usr/bin/env bash
# Measure wall time and peak memory (GNU time's "Maximum resident set size") of scanning
# each hostile input alone, plus the whole hostile folder. Prints a Markdown table; the
# recorded results live in docs/robustness.md.
# Usage: scripts/measure-hostile.sh [BINARY]   (default: target/release/binauthz-lint)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/binauthz-lint}
[ -x "$BIN" ] || cargo build --release --quiet
BIN=$(realpath "$BIN")
if [ ! -x /usr/bin/time ]; then echo "SKIP: /usr/bin/time (GNU time) is not installed"; exit 0; fi
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp testdata/hostile/* "$work/"
python3 - "$work" <<'PY'
import sys, os
root = sys.argv[1]
line = "# " + "x" * 1023 + "\n"
open(os.path.join(root, "sixty-mb.yaml"), "w").write(line * 60 * 1024)
open(os.path.join(root, "twenty-mb-line.yaml"), "w").write(
    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: huge}\ndata: {blob: \"" + "y" * (20 << 20) + "\"}\n")
open(os.path.join(root, "deep-mappings.yaml"), "w").write("".join(" " * i + "a:\n" for i in range(3000)))
PY
echo "| input | exit | wall (s) | peak RSS (MiB) |"
echo "|---|---|---|---|"
measure() {
  local label=$1; shift
  local out; out=$( { /usr/bin/time -v "$BIN" scan --format json -o /dev/null "$@" ; } 2>&1 >/dev/null || true)
  local rss wall code
  rss=$(echo "$out" | awk -F: '/Maximum resident set size/ {gsub(/ /,"",$2); print $2}')
  wall=$(echo "$out" | awk '/Elapsed \(wall clock\)/ {print $NF}')
  code=$(echo "$out" | awk -F: '/Exit status/ {gsub(/ /,"",$2); print $2}')
  printf '| %s | %s | %s | %.1f |\n' "$label" "${code:-0}" "$wall" "$(echo "$rss / 1024" | bc -l)"
}
for f in "$work"/*; do measure "$(basename "$f")" "$f"; done
measure "whole folder" "$work"
