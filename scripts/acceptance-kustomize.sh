#!/usr/bin/env bash
# Acceptance test of `--render kustomize` (issue 17) on ../shared/corpus/manifests.
#
# For every corpus repository that holds a kustomization: renders every root with the
# machine's `kubectl kustomize` and checks that
#   1. every rendered workload (`renderedFrom` set) is located in a repository file that
#      exists and is not a kustomization file (the origin annotation was mapped back),
#      at a line inside that file, and every rendered image sits on a line naming `image`;
#   2. `-j1` and `-j4` give identical bytes;
#   3. the scanned tree is unchanged and no wrapper folder is left in $TMPDIR;
# and prints the wall time of the plain scan next to the rendered one (benches/RESULTS.md).
#
# Skips (exit 0, loudly) when ../shared or kubectl is missing; ACCEPTANCE_REQUIRE_TOOLS=1
# makes that a failure. The binary is the first argument or $BIN; without either, the
# script builds it.
set -euo pipefail

BIN="${1:-${BIN:-}}"
if [ -n "$BIN" ] && [ "${BIN#/}" = "$BIN" ]; then
    BIN="$PWD/$BIN"
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
corpus="$root/../shared/corpus/manifests"
skip() {
    echo "*** SKIPPED: $1 ***" >&2
    [ "${ACCEPTANCE_REQUIRE_TOOLS:-0}" = 1 ] && exit 1
    exit 0
}
[ -d "$corpus" ] || skip "no $corpus"
command -v kubectl >/dev/null || skip "kubectl is not on PATH"
if [ -z "$BIN" ]; then
    (cd "$root" && cargo build --release --locked --quiet)
    BIN="$root/target/release/binauthz-lint"
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR"
cd "$corpus"
before="$(find . -type f -printf '%p %s %T@\n' | sort | sha256sum)"
failures=0
for repo in */; do
    repo="${repo%/}"
    if [ -z "$(find "$repo" -name kustomization.yaml -o -name kustomization.yml -o -name Kustomization | head -1)" ]; then
        continue
    fi
    t0=$(date +%s.%N)
    "$BIN" scan "$repo" --format json --fail-on never >"$work/raw.json"
    t1=$(date +%s.%N)
    "$BIN" scan "$repo" --format json --fail-on never --render kustomize -j1 >"$work/j1.json"
    t2=$(date +%s.%N)
    "$BIN" scan "$repo" --format json --fail-on never --render kustomize -j4 >"$work/j4.json"
    if ! cmp -s "$work/j1.json" "$work/j4.json"; then
        echo "FAIL $repo: -j1 and -j4 differ"
        failures=$((failures + 1))
    fi
    if ! python3 - "$work/j1.json" "$repo" <<'PY'
import json, os, sys
report = json.load(open(sys.argv[1]))
bad = 0
rendered = [w for w in report["workloads"] if w.get("renderedFrom")]
for w in rendered:
    loc = w["location"]
    name = os.path.basename(loc["file"])
    lines = open(loc["file"]).read().split("\n") if os.path.isfile(loc["file"]) else None
    if lines is None or name in ("kustomization.yaml", "kustomization.yml", "Kustomization") \
            or not 1 <= loc["line"] <= len(lines):
        print(f"  unmapped workload {w['kind']} {w['name']} at {loc}")
        bad += 1
        continue
    for image in w["images"]:
        il = image["location"]
        text = open(il["file"]).read().split("\n")[il["line"] - 1] if os.path.isfile(il["file"]) else ""
        if "image" not in text:
            print(f"  image {image['image']} of {w['name']} not at an image line: {il}")
            bad += 1
s = report["summary"]
failed = sum(1 for f in report["findings"] if f["ruleId"] == "render-failed")
print(f"{sys.argv[2]}: {s.get('kustomizeRoots')} roots, {s.get('renderedRoots')} rendered, "
      f"{failed} render-failed, {len(rendered)} rendered workloads, {bad} problems")
sys.exit(1 if bad else 0)
PY
    then
        failures=$((failures + 1))
    fi
    printf '  plain scan %.2f s, --render kustomize -j1 %.2f s\n' \
        "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
done
after="$(find . -type f -printf '%p %s %T@\n' | sort | sha256sum)"
if [ "$before" != "$after" ]; then
    echo "FAIL: the corpus changed"
    failures=$((failures + 1))
fi
if [ -n "$(ls -A "$TMPDIR")" ]; then
    echo "FAIL: wrapper folders left in TMPDIR: $(ls "$TMPDIR")"
    failures=$((failures + 1))
fi
[ "$failures" = 0 ] && echo "acceptance-kustomize: OK" || { echo "acceptance-kustomize: $failures failure(s)"; exit 1; }
