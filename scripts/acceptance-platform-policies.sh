#!/usr/bin/env bash
# Acceptance check of the platform-policy loader (issue 31) against real-world policies and
# Google's own decoder:
#  1. every platform policy of ../shared/corpus/policies/ (type "platform" in SOURCES.md)
#     loads (`evaluate` exits 0 or 1) when SOURCES.md lists no issue, or is refused with a
#     located message (`--> FILE:LINE:COLUMN`, exit 2) when it lists one;
#  2. gcloud's client-side decoder for `policy create --platform=gke` (the SDK's own
#     `DictToMessageWithErrorCheck(…, PlatformPolicy)`, offline) runs over those files and
#     testdata/platform/invalid/: every file gcloud refuses must be refused by binauthz-lint
#     with "gcloud refuses this file"; a file gcloud accepts must never be blamed on gcloud;
#     every file of testdata/platform/invalid/ must be refused.
# Without the shared folder or gcloud, the parts that need them are skipped.
# usage: scripts/acceptance-platform-policies.sh [BINARY]   (or BINAUTHZ_LINT=BINARY)
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS="$ROOT/../shared/corpus/policies"
INVALID="$ROOT/testdata/platform/invalid"

BIN=${1:-${BINAUTHZ_LINT:-}}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --quiet --bin binauthz-lint) || { echo "build failed"; exit 1; }
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/binauthz-lint"
fi

passed=0
failed=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
printf 'apiVersion: v1\nkind: Pod\nmetadata: {name: probe}\nspec: {containers: [{name: c, image: gcr.io/p/app:1}]}\n' >"$TMP/pod.yaml"

ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }

# load FILE -> sets $code and writes the diagnostics to $TMP/out
load() {
    "$BIN" evaluate --color never --platform-policy "$1" "$TMP/pod.yaml" >/dev/null 2>"$TMP/out"
    code=$?
}

files=()
if [ -f "$CORPUS/SOURCES.md" ]; then
    while IFS='|' read -r _ file _ _ type _ issues _; do
        file=$(echo "$file" | sed 's/^ *`//; s/` *$//')
        issues=$(echo "$issues" | sed 's/^ *//; s/ *$//')
        path="$CORPUS/$file"
        [ -f "$path" ] || continue
        echo "$type" | grep -q platform || continue
        files+=("$path")
        load "$path"
        if [ "$issues" = "—" ] || [ "$issues" = "-" ] || [ -z "$issues" ] ||
            echo "$issues" | grep -q '^warning only'; then
            if [ "$code" = 0 ] || [ "$code" = 1 ]; then ok; else
                ko "$file: expected to load, got exit $code"; sed 's/^/    /' "$TMP/out"; fi
        else
            if [ "$code" = 2 ] && grep -Eq -- "--> .+:[0-9]+:[0-9]+" "$TMP/out"; then ok; else
                ko "$file: expected a located refusal (exit 2), got $code"; fi
        fi
    done < <(grep '^| `' "$CORPUS/SOURCES.md")
else
    echo "acceptance-platform-policies: no corpus at $CORPUS; classification skipped"
fi
for f in "$INVALID"/*.yaml; do
    [ -f "$f" ] || continue
    files+=("$f")
    load "$f"
    if [ "$code" = 2 ] && grep -Eq -- "--> .+:[0-9]+:[0-9]+|error\[policy-invalid\]" "$TMP/out"; then ok; else
        ko "${f#"$ROOT/"}: invalid fixture not refused (exit $code)"; fi
done

GCLOUD=$(command -v gcloud || true)
if [ -z "$GCLOUD" ]; then
    echo "acceptance-platform-policies: gcloud not available; decoder comparison skipped"
else
    SDK=$(dirname "$(dirname "$(readlink -f "$GCLOUD")")")
    PY="$SDK/platform/bundledpythonunix/bin/python3"
    [ -x "$PY" ] || PY=python3
    "$PY" - "$SDK" "${files[@]}" >"$TMP/decoded" 2>/dev/null <<'PYEOF'
import sys
sdk = sys.argv[1]
sys.path[:0] = [sdk + "/lib", sdk + "/lib/third_party"]
from googlecloudsdk.api_lib.container.binauthz import apis
from googlecloudsdk.command_lib.container.binauthz import parsing
from googlecloudsdk.api_lib.util import messages as messages_util
PlatformPolicy = apis.GetMessagesModule("v1").PlatformPolicy
for f in sys.argv[2:]:
    try:
        messages_util.DictToMessageWithErrorCheck(parsing.LoadResourceFile(f) or {}, PlatformPolicy)
        print(f"OK {f}")
    except Exception as e:
        print(f"ERR {f}")
PYEOF
    if [ "$(wc -l <"$TMP/decoded")" -ne "${#files[@]}" ]; then
        echo "acceptance-platform-policies: gcloud's decoder did not run; comparison skipped"
    else
        while read -r status path; do
            load "$path"
            name=${path#"$ROOT/"}
            if [ "$status" = ERR ]; then
                if [ "$code" = 2 ] && grep -q "gcloud refuses this file" "$TMP/out"; then ok; else
                    ko "$name: gcloud refuses it; binauthz-lint: exit $code without blaming gcloud"; fi
            elif grep -q "gcloud refuses this file" "$TMP/out"; then
                ko "$name: gcloud accepts it, but binauthz-lint says gcloud refuses it"
            else ok; fi
        done <"$TMP/decoded"
    fi
fi

echo "acceptance-platform-policies: $passed passed, $failed failed"
[ "$failed" = 0 ]
