#!/usr/bin/env bash
# Acceptance check of `binauthz-lint policy show` (contract §13, §17): the policy of
# testdata/policy-sources/same/, written as gcloud YAML, Terraform configuration, plan JSON
# and Config Connector, is printed in the export shape (YAML and JSON) and
#  1. every printed policy is accepted by gcloud's own client-side decoder
#     (../shared/tools/gcloud-decode-policy, offline), with the same rules;
#  2. the four sources print byte-identical policies.
# Without ../shared or the Google Cloud CLI the script says so and exits 0.
# usage: scripts/acceptance-policy-sources.sh [BINARY]   (or BINAUTHZ_LINT=BINARY; else cargo build)
set -u

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DECODER="$ROOT/../shared/tools/gcloud-decode-policy"
SAME="$ROOT/testdata/policy-sources/same"

if [ ! -x "$DECODER" ]; then
    echo "acceptance-policy-sources: SKIPPED: $DECODER is absent"
    exit 0
fi
if ! command -v gcloud >/dev/null 2>&1; then
    echo "acceptance-policy-sources: SKIPPED: the Google Cloud CLI (gcloud) is not installed"
    exit 0
fi

BIN=${1:-${BINAUTHZ_LINT:-}}
if [ -z "$BIN" ]; then
    (cd "$ROOT" && cargo build --quiet --bin binauthz-lint) || { echo "build failed"; exit 1; }
    BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/binauthz-lint"
fi
case "$BIN" in /*) ;; *) BIN="$ROOT/$BIN" ;; esac

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failed=0
for source in gcloud.yaml terraform plan.json kcc.yaml; do
    name=$(echo "$source" | tr '/.' '__')
    for format in yaml json; do
        out="$TMP/$name.$format"
        if ! (cd "$SAME" && "$BIN" policy show "$source" --format "$format") >"$out"; then
            echo "FAIL: policy show $source --format $format exited non-zero"
            failed=$((failed + 1))
        fi
    done
done
decoded=$("$DECODER" "$TMP"/*.yaml "$TMP"/*.json)
echo "$decoded"
if echo "$decoded" | grep -q '^ERR'; then
    echo "FAIL: gcloud's decoder refuses a policy printed by policy show"
    failed=$((failed + 1))
fi
# The same rules whatever the source (the decoder's summary after the file name).
if [ "$(echo "$decoded" | sed 's/^[A-Z]* *[^:]*: //' | sort -u | wc -l)" -ne 1 ]; then
    echo "FAIL: the sources decode to different rules"
    failed=$((failed + 1))
fi
for format in yaml json; do
    for name in terraform plan_json kcc_yaml; do
        if ! cmp -s "$TMP/gcloud_yaml.$format" "$TMP/$name.$format"; then
            echo "FAIL: policy show of $name differs from the gcloud export ($format)"
            diff "$TMP/gcloud_yaml.$format" "$TMP/$name.$format" | head -20
            failed=$((failed + 1))
        fi
    done
done
if [ "$failed" -ne 0 ]; then
    echo "acceptance-policy-sources: $failed failure(s)"
    exit 1
fi
echo "acceptance-policy-sources: ok: 8 printed policies accepted by gcloud's decoder, identical across the four sources"
