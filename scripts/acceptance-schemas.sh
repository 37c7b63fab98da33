#!/usr/bin/env bash
# Acceptance: action.yml against the GitHub Actions metadata schema and
# .pre-commit-hooks.yaml against the pre-commit hooks schema, with check-jsonschema.
#
#   scripts/acceptance-schemas.sh [BINARY]   (BINARY is not used)
#
# action.yml: check-jsonschema's vendored schema (`--builtin-schema vendor.github-actions`,
# works offline) and the copy in ../shared/schemas when present. .pre-commit-hooks.yaml:
# check-jsonschema has no builtin for it; ../shared/schemas/pre-commit-hooks.json when
# present (pre-commit's own validate-manifest runs in acceptance-precommit.sh). The README's
# workflow snippet and .github/workflows/*.yml: `--builtin-schema vendor.github-workflows`.
# Skips loudly (exit 0) when check-jsonschema is not installed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SCHEMAS="$ROOT/../shared/schemas"

if ! command -v check-jsonschema >/dev/null; then
  echo "SKIPPED acceptance-schemas: check-jsonschema is not installed (pip install check-jsonschema); action.yml and .pre-commit-hooks.yaml were NOT validated"
  exit 0
fi

checked=0
code=0
check-jsonschema --builtin-schema vendor.github-actions "$ROOT/action.yml" || code=$?
case "$code" in
  0) checked=$((checked + 1)) ;;
  1) echo "FAIL acceptance-schemas: action.yml does not match the GitHub Actions metadata schema" >&2; exit 1 ;;
  *) echo "NOTE: this check-jsonschema has no builtin vendor.github-actions schema (exit $code)" ;;
esac
if [ -f "$SCHEMAS/github-action.json" ]; then
  check-jsonschema --schemafile "$SCHEMAS/github-action.json" "$ROOT/action.yml"
  checked=$((checked + 1))
else
  echo "NOTE: $SCHEMAS/github-action.json is absent; skipped that copy"
fi
if [ -f "$SCHEMAS/pre-commit-hooks.json" ]; then
  check-jsonschema --schemafile "$SCHEMAS/pre-commit-hooks.json" "$ROOT/.pre-commit-hooks.yaml"
  checked=$((checked + 1))
else
  echo "SKIPPED: $SCHEMAS/pre-commit-hooks.json is absent; .pre-commit-hooks.yaml was NOT validated against a JSON schema"
fi
# The README's pull-request workflow, as a user would copy it.
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
awk '/^## GitHub Action/ { f = 1 } f && /^```yaml$/ { c = 1; next } c && /^```$/ { exit } c { print }' \
  "$ROOT/README.md" >"$tmp/workflow.yml"
grep -q "security-events: write" "$tmp/workflow.yml" \
  || { echo "FAIL acceptance-schemas: no workflow snippet in README's GitHub Action section" >&2; exit 1; }
code=0
check-jsonschema --builtin-schema vendor.github-workflows "$tmp/workflow.yml" || code=$?
case "$code" in
  0) checked=$((checked + 1)) ;;
  1) echo "FAIL acceptance-schemas: the README's workflow does not match the GitHub workflow schema" >&2; exit 1 ;;
  *) echo "NOTE: this check-jsonschema has no builtin vendor.github-workflows schema (exit $code)" ;;
esac

# The project's own workflows (.github/workflows), against the same workflow schema.
for workflow in "$ROOT"/.github/workflows/*.yml; do
  [ -e "$workflow" ] || continue
  code=0
  check-jsonschema --builtin-schema vendor.github-workflows "$workflow" || code=$?
  case "$code" in
    0) checked=$((checked + 1)) ;;
    1) echo "FAIL acceptance-schemas: $workflow does not match the GitHub workflow schema" >&2; exit 1 ;;
    *) echo "NOTE: this check-jsonschema has no builtin vendor.github-workflows schema (exit $code)" ;;
  esac
done

if [ "$checked" -eq 0 ]; then
  echo "FAIL acceptance-schemas: no schema was available to validate action.yml" >&2
  exit 1
fi
echo "acceptance-schemas: $checked validations passed"
