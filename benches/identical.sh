#!/usr/bin/env bash
# Byte-identical outputs of two builds (issue 33, acceptance 4): every report format of the
# bench corpus, the demo, the monorepo fixture and, when present, ../shared/corpus.
#
#   benches/identical.sh BEFORE_BINARY AFTER_BINARY [BENCH_CORPUS]
#
# The only bytes allowed to differ are the build's own commit hash (SARIF
# `tool.driver.properties.commit`, `--version`), which is removed before comparing.
set -euo pipefail
before=$1
after=$2
corpus=${3:-target/bench-corpus}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

scrub() { sed -E 's/"commit": "[0-9a-f]+"/"commit": "X"/; s/\(commit [0-9a-f]+\)/(commit X)/' "$1"; }

cases=()
[ -d "$corpus" ] && cases+=("$corpus|")
cases+=("testdata/demo|--policy testdata/demo/policy.yaml")
cases+=("testdata/demo|")
cases+=("testdata/monorepo|")
cases+=("testdata|--no-config")
if [ -d ../shared/corpus/manifests ]; then
  for d in ../shared/corpus/manifests/*/; do
    cases+=("${d%/}|--no-config")
    cases+=("${d%/}|--no-config --policy testdata/demo/policy.yaml")
  done
fi

differ=0
n=0
for case in "${cases[@]}"; do
  dir=${case%%|*}
  flags=${case#*|}
  for format in json sarif concise github human; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    "$before" scan "$dir" $flags --format "$format" --fail-on never --color never >"$work/b" 2>"$work/be" || true
    # shellcheck disable=SC2086
    "$after" scan "$dir" $flags --format "$format" --fail-on never --color never >"$work/a" 2>"$work/ae" || true
    if ! cmp -s <(scrub "$work/b") <(scrub "$work/a") || ! cmp -s "$work/be" "$work/ae"; then
      echo "DIFFERENT: scan $dir $flags --format $format"
      diff <(scrub "$work/b") <(scrub "$work/a") | head -10 || true
      diff "$work/be" "$work/ae" | head -5 || true
      differ=$((differ + 1))
    fi
  done
done
for j in 1 2 7; do
  n=$((n + 1))
  "$after" scan testdata --no-config -j"$j" --format json --fail-on never >"$work/j$j" 2>/dev/null || true
  if [ "$j" != 1 ] && ! cmp -s "$work/j1" "$work/j$j"; then
    echo "DIFFERENT: -j1 and -j$j"
    differ=$((differ + 1))
  fi
done
if [ "$differ" -eq 0 ]; then
  echo "identical: $n comparisons"
else
  echo "$differ of $n comparisons differ"
  exit 1
fi
