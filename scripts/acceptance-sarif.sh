#!/usr/bin/env bash
# Acceptance test of the SARIF output (issue 5).
#
# Scans ../shared/corpus/manifests/kubernetes__examples from inside that folder (so the
# policy, testdata/policies/always-deny.yaml, is OUTSIDE the scanned root), the same scan
# without a policy, the testdata/report-fixture folder under its policy (inside the root), the
# same folder under a copy of that policy in a temporary directory (outside the root: the
# `--policy ../policy.yaml` / exported-to-/tmp layout), and a standard-input scan, and checks
# every SARIF log
#   1. against the OASIS SARIF 2.1.0 schema (and SchemaStore's copy) with check-jsonschema,
#   2. with Microsoft's SARIF multitool `validate`, SARIF rules plus the GitHub rules
#      (GH1001-GH1007, which the multitool ships disabled, and the GHAS rules GH1011-GH1018;
#      scripts/sarif-multitool-github.xml turns them on): zero errors and warnings (its exit
#      code is always 0, so they are counted in its output log),
#   3. for our own promises: unique fingerprints, every result URI repository-relative
#      (never `file://`, never `stdin`) and naming an existing file, image-denied regions on
#      the line that holds the image, findings outside the root as tool execution
#      notifications.
#
# Skips (exit 0, loudly) when ../shared or a tool is missing; set ACCEPTANCE_REQUIRE_TOOLS=1
# to make that a failure (CI). Tools are found on PATH or under $TOOLS_DIR
# (default ~/.cache/binauthz-lint-tools), as installed by:
#   python3 -m venv "$TOOLS_DIR/venv" && "$TOOLS_DIR/venv/bin/pip" install check-jsonschema==0.39.0
#   npm install --prefix "$TOOLS_DIR/npm" @microsoft/sarif-multitool@5.7.0
# Override with CHECK_JSONSCHEMA=/path and SARIF_MULTITOOL=/path (the native Sarif.Multitool
# binary). The binary to test is the first argument (as .ci/run passes it) or $BIN; without
# either, the script builds it.
set -euo pipefail

BIN="${1:-${BIN:-}}"
if [ -n "$BIN" ] && [ "${BIN#/}" = "$BIN" ]; then
    BIN="$PWD/$BIN"
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
shared="$root/../shared"
corpus="../shared/corpus/manifests/kubernetes__examples"
schema="$shared/schemas/sarif-schema-2.1.0.json"
schemastore="$shared/schemas/schemastore-sarif-2.1.0.json"
tools_dir="${TOOLS_DIR:-$HOME/.cache/binauthz-lint-tools}"

skip() {
    echo "=================================================================" >&2
    echo "SKIPPED: scripts/acceptance-sarif.sh: $*" >&2
    echo "=================================================================" >&2
    if [ "${ACCEPTANCE_REQUIRE_TOOLS:-0}" = 1 ]; then
        exit 1
    fi
    exit 0
}

[ -d "$shared/corpus/manifests/kubernetes__examples" ] && [ -f "$schema" ] ||
    skip "$shared (corpus and schemas) not found"
command -v python3 >/dev/null || skip "python3 not found"

check_jsonschema="${CHECK_JSONSCHEMA:-}"
if [ -z "$check_jsonschema" ]; then
    if command -v check-jsonschema >/dev/null; then
        check_jsonschema="$(command -v check-jsonschema)"
    elif [ -x "$tools_dir/venv/bin/check-jsonschema" ]; then
        check_jsonschema="$tools_dir/venv/bin/check-jsonschema"
    else
        skip "check-jsonschema not found (pip install check-jsonschema)"
    fi
fi

multitool="${SARIF_MULTITOOL:-}"
if [ -z "$multitool" ] && command -v node >/dev/null; then
    # The npm package's bin.js runs the native tool through a shell, which splits
    # `--level "Error;Warning"`; resolve and run the native binary instead.
    node_path="$tools_dir/npm/node_modules"
    if command -v npm >/dev/null; then
        node_path="$node_path:$(npm root -g 2>/dev/null || true)"
    fi
    multitool="$(NODE_PATH="$node_path" node -p "require('@microsoft/sarif-multitool')" 2>/dev/null || true)"
fi
[ -n "$multitool" ] && [ -x "$multitool" ] ||
    skip "SARIF multitool not found (npm install @microsoft/sarif-multitool)"
# The multitool is a self-contained .NET program: do not require ICU.
export DOTNET_SYSTEM_GLOBALIZATION_INVARIANT=1 DOTNET_CLI_TELEMETRY_OPTOUT=1

if [ -z "$BIN" ]; then
    cargo build --quiet --bin binauthz-lint
    BIN="${CARGO_TARGET_DIR:-$root/target}/debug/binauthz-lint"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

# scan NAME ARGS...: write $work/NAME.sarif; exit codes 0 and 1 are both a finished scan.
scan() {
    local name="$1"
    shift
    local rc=0
    "$BIN" scan --format sarif -o "$work/$name.sarif" "$@" 2>"$work/$name.stderr" || rc=$?
    if [ "$rc" -gt 1 ]; then
        return "$rc"
    fi
}

logs=()
policy_used=0
# From inside the corpus: it is not a git work tree, so the current directory is the root
# and the policy (in this repository) lies outside it.
if (cd "$corpus" && scan corpus-always-deny --policy "$root/testdata/policies/always-deny.yaml" .); then
    policy_used=1
    logs+=(corpus-always-deny)
elif grep -q "not supported yet" "$work/corpus-always-deny.stderr"; then
    echo "NOTE: --policy is not implemented in this build; validating the scans without a policy only." >&2
else
    cat "$work/corpus-always-deny.stderr" >&2
    echo "FAIL: scan with --policy testdata/policies/always-deny.yaml failed" >&2
    exit 1
fi
(cd "$corpus" && scan corpus-no-policy .)
logs+=(corpus-no-policy)
if [ "$policy_used" = 1 ]; then
    scan fixture --policy testdata/policies/report-fixture.yaml testdata/report-fixture
    logs+=(fixture)
    # The same policy outside the repository (its policy-unused-pattern note is located in
    # the policy file itself).
    mkdir -p "$work/exported"
    cp testdata/policies/report-fixture.yaml "$work/exported/policy.yaml"
    scan fixture-policy-outside --policy "$work/exported/policy.yaml" testdata/report-fixture
    logs+=(fixture-policy-outside)
else
    scan fixture testdata/report-fixture
    logs+=(fixture)
fi
"$BIN" scan --format sarif - <testdata/report-fixture/apps/breakglass.yaml >"$work/stdin.sarif" || [ $? -eq 1 ]
logs+=(stdin)
# Approved exceptions (contract §7): suppressed results omitted, and included with
# `suppressions`; both must satisfy the schema and GitHub's rules.
review=(--config testdata/breakglass-review/.binauthz-lint.yaml --today 2026-12-03 testdata/breakglass-review)
scan exceptions-omitted "${review[@]}"
scan exceptions-included --sarif-suppressed include "${review[@]}"
logs+=(exceptions-omitted exceptions-included)
if ! grep -q '"suppressions"' "$work/exceptions-included.sarif" || grep -q '"suppressions"' "$work/exceptions-omitted.sarif"; then
    echo "FAIL: --sarif-suppressed include must write suppressions, and only then" >&2
    failures=$((failures + 1))
fi

for name in "${logs[@]}"; do
    log="$work/$name.sarif"
    echo "--- $name: $(wc -c <"$log") bytes"
    for s in "$schema" "$schemastore"; do
        if ! "$check_jsonschema" --schemafile "$s" "$log"; then
            echo "FAIL: $name does not validate against $(basename "$s")" >&2
            failures=$((failures + 1))
        fi
    done
    "$multitool" validate "$log" -o "$work/$name.validation.sarif" --log ForceOverwrite \
        --rule-kind "Sarif;Ghas" -c "$root/scripts/sarif-multitool-github.xml" \
        --level "Error;Warning" --max-file-size-in-kb 1000000 \
        >"$work/$name.validation.txt" 2>&1 || true
    # A tool-level problem (a skipped file, no analysis target) leaves an empty but valid
    # output log: do not count that as a pass.
    if [ ! -s "$work/$name.validation.sarif" ] ||
        grep -Eq "(ERR|WRN)[0-9]{3}" "$work/$name.validation.txt"; then
        cat "$work/$name.validation.txt" >&2
        echo "FAIL: the multitool did not analyse $name" >&2
        failures=$((failures + 1))
        continue
    fi
    if ! python3 - "$work/$name.validation.sarif" "$log" "$name" "$policy_used" "$root" <<'PY'
import json, os, sys, urllib.parse

validation, path, name, policy_used, root = sys.argv[1:]
results = json.load(open(validation))["runs"][0].get("results", [])
errors = [r for r in results if r.get("level", "warning") == "error"]
warnings = [r for r in results if r.get("level", "warning") == "warning"]
for r in errors + warnings:
    print(f"  multitool {r.get('level', 'warning')} {r['ruleId']}: {r['message']}")
print(f"  multitool: {len(errors)} errors, {len(warnings)} warnings")
ok = not errors

log = json.load(open(path))
run = log["runs"][0]
base = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
base_dir = urllib.parse.unquote(urllib.parse.urlparse(base).path)
prints = [r["partialFingerprints"]["binauthzLint/v1"] for r in run["results"]]
if len(set(prints)) != len(prints):
    print("  FAIL: duplicate partialFingerprints"); ok = False
notes = run["invocations"][0].get("toolExecutionNotifications", [])

def every_uri(node, where="$"):
    """Every artifactLocation.uri in the log, except the root's own base URI."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "originalUriBaseIds":
                continue
            if key == "uri" and isinstance(value, str):
                yield where, value
            else:
                yield from every_uri(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from every_uri(value, f"{where}[{i}]")

for where, uri in every_uri(run):
    if uri == "stdin" or urllib.parse.urlparse(uri).scheme:
        print(f"  FAIL: {where}: {uri} is not a repository-relative URI"); ok = False

denied = 0
for r in run["results"]:
    for loc in r["locations"] + r.get("relatedLocations", []):
        art = loc["physicalLocation"]["artifactLocation"]
        uri = art["uri"]
        if art.get("uriBaseId") != "%SRCROOT%":
            print(f"  FAIL: {uri} has no %SRCROOT% base"); ok = False
            continue
        file = os.path.join(base_dir, urllib.parse.unquote(uri))
        if not os.path.isfile(file):
            print(f"  FAIL: {uri} names no file"); ok = False
    if r["ruleId"] == "image-denied":
        denied += 1
        phys = r["locations"][0]["physicalLocation"]
        file = os.path.join(base_dir, urllib.parse.unquote(phys["artifactLocation"]["uri"]))
        lines = open(file, encoding="utf-8").read().split("\n")
        image = r["properties"]["image"]["image"]
        if image not in lines[phys["region"]["startLine"] - 1]:
            print(f"  FAIL: image-denied for {image} starts on another line"); ok = False
for n in notes:
    place = n["properties"]["location"]
    if not n["message"]["text"].startswith(f"{place['file']}:{place['line']}:"):
        print(f"  FAIL: notification message does not start with its place: {n['message']['text']}"); ok = False
print(f"  {len(run['results'])} results, {denied} image-denied, {len(notes)} notifications, {len(run['tool']['driver']['rules'])} rules")
if name == "corpus-always-deny":
    if denied == 0:
        print("  FAIL: always-deny produced no image-denied result"); ok = False
    if not any("always-deny.yaml:" in r["message"]["text"] for r in run["results"]):
        print("  FAIL: no result names the outside policy's rule in its message"); ok = False
if name == "fixture-policy-outside":
    if not any(n["associatedRule"]["id"] == "policy-unused-pattern" for n in notes):
        print("  FAIL: the outside policy's own finding is not a notification"); ok = False
if name == "stdin" and (run["results"] or not notes):
    print("  FAIL: standard-input findings must be notifications, not results"); ok = False
sys.exit(0 if ok else 1)
PY
    then
        failures=$((failures + 1))
    fi
done

# The GitHub rules really run: the fixture log with one absolute file:// URI put back (what
# this tool wrote for files outside the root before) must be reported as GH1006.
python3 - "$work/fixture.sarif" "$work/absolute.sarif" <<'PY'
import json, sys
log = json.load(open(sys.argv[1]))
art = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
art["uri"] = "file:///tmp/policy.yaml"
art.pop("uriBaseId", None)
json.dump(log, open(sys.argv[2], "w"))
PY
"$multitool" validate "$work/absolute.sarif" -o "$work/absolute.validation.sarif" --log ForceOverwrite \
    --rule-kind "Sarif;Ghas" -c "$root/scripts/sarif-multitool-github.xml" \
    --level "Error;Warning" >"$work/absolute.validation.txt" 2>&1 || true
if grep -q "error GH1006" "$work/absolute.validation.txt"; then
    echo "--- control: an absolute file:// URI is reported as GH1006 (the GitHub rules are on)"
else
    cat "$work/absolute.validation.txt" >&2
    echo "FAIL: the multitool did not report GH1006 for an absolute URI; the GitHub rules are not running" >&2
    failures=$((failures + 1))
fi

if [ "$failures" -ne 0 ]; then
    echo "FAIL: $failures SARIF check(s) failed" >&2
    exit 1
fi
echo "OK: ${#logs[@]} SARIF logs valid (schema, SchemaStore schema, multitool, own checks)"
