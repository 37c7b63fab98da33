#!/usr/bin/env bash
# Acceptance check of `binauthz-lint policy validate` against real-world policies and Google's
# own decoder (issue 9):
#  1. every file of ../shared/corpus/policies/ is classified as SOURCES.md says: no issue or
#     "warning only" -> exit 0; any other issue -> exit 2 with a located message
#     (`--> FILE:LINE:COLUMN`); platform policies -> exit 2 with the "different format" message;
#  2. ../shared/tools/gcloud-decode-policy (gcloud's client-side decoder, offline) runs over the
#     corpus and over testdata/policies/invalid/: every file gcloud refuses must be refused by
#     binauthz-lint too, and its message must say that gcloud refuses it; a file gcloud accepts
#     must never be blamed on gcloud.
# The shared folder is optional: without it the script says so and exits 0.
# usage: scripts/acceptance-policies.sh [BINARY]   (or BINAUTHZ_LINT=BINARY; else cargo build)
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED="$ROOT/../shared"
CORPUS="$SHARED/corpus/policies"
DECODER="$SHARED/tools/gcloud-decode-policy"
INVALID="$ROOT/testdata/policies/invalid"

if [ ! -d "$SHARED" ]; then
    echo "acceptance-policies: skipped: $SHARED is absent"
    exit 0
fi

BIN=${1:-${BINAUTHZ_LINT:-}}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --quiet --bin binauthz-lint) || { echo "build failed"; exit 1; }
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/binauthz-lint"
fi

passed=0
failed=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

ok() { passed=$((passed + 1)); }
ko() { failed=$((failed + 1)); echo "FAIL: $*"; }

# validate FILE -> sets $code and writes the output to $TMP/out
validate() {
    "$BIN" policy validate --color never "$1" >"$TMP/out" 2>&1
    code=$?
}

# ---- 1. classification from SOURCES.md ----------------------------------------------------
if [ -d "$CORPUS" ] && [ -f "$CORPUS/SOURCES.md" ]; then
    # Table rows: | `file` | source | commit | type | features | issues |
    while IFS='|' read -r _ file _ _ type _ issues _; do
        file=$(echo "$file" | sed 's/^ *`//; s/` *$//')
        issues=$(echo "$issues" | sed 's/^ *//; s/ *$//')
        path="$CORPUS/$file"
        [ -f "$path" ] || continue
        validate "$path"
        if echo "$type" | grep -q platform; then
            if [ "$code" = 2 ] && grep -q "different format" "$TMP/out"; then ok; else
                ko "$file: platform policy: exit $code, want 2 and 'different format'"; fi
        elif [ "$issues" = "—" ] || [ "$issues" = "-" ] || [ -z "$issues" ] ||
            echo "$issues" | grep -q '^warning only'; then
            if [ "$code" = 0 ]; then ok; else
                ko "$file: expected valid (exit 0), got $code"; sed 's/^/    /' "$TMP/out"; fi
        else
            if [ "$code" = 2 ] && grep -Eq -- "--> .+:[0-9]+:[0-9]+" "$TMP/out"; then ok; else
                ko "$file: expected invalid with a located message (exit 2), got $code"; fi
        fi
    done < <(grep '^| `' "$CORPUS/SOURCES.md")
else
    echo "acceptance-policies: no corpus at $CORPUS; classification skipped"
fi

# ---- 2. gcloud's decoder ------------------------------------------------------------------
files=()
[ -d "$CORPUS" ] && for f in "$CORPUS"/*.yaml "$CORPUS"/*.yml "$CORPUS"/*.json; do [ -f "$f" ] && files+=("$f"); done
for f in "$INVALID"/*.yaml "$INVALID"/*.yml "$INVALID"/*.json; do [ -f "$f" ] && files+=("$f"); done

if [ ! -x "$DECODER" ] || ! command -v gcloud >/dev/null 2>&1; then
    echo "acceptance-policies: gcloud or $DECODER not available; decoder comparison skipped"
else
    "$DECODER" "${files[@]}" 2>/dev/null | grep -E '^(OK|ERR) ' >"$TMP/decoded"
    while read -r status rest; do
        path=${rest%%: *}
        name=${path#"$ROOT/"}
        validate "$path"
        if [ "$status" = ERR ]; then
            if [ "$code" = 2 ] && grep -q "gcloud refuses this file" "$TMP/out"; then ok; else
                ko "$name: gcloud refuses it ($(echo "$rest" | cut -c1-120)); binauthz-lint: exit $code"
            fi
        else
            if grep -q "gcloud refuses this file" "$TMP/out"; then
                ko "$name: gcloud accepts it, but binauthz-lint says gcloud refuses it"
            else ok; fi
        fi
        case "$path" in
        "$INVALID"/*) [ "$code" = 2 ] && ok || ko "$name: invalid fixture accepted (exit $code)" ;;
        esac
    done <"$TMP/decoded"
    decoded=$(wc -l <"$TMP/decoded")
    if [ "$decoded" -ne "${#files[@]}" ]; then
        ko "the decoder reported $decoded of ${#files[@]} files"
    fi
fi

echo "acceptance-policies: $passed passed, $failed failed"
[ "$failed" = 0 ]
