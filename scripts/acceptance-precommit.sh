#!/usr/bin/env bash
# Acceptance: the pre-commit hooks of .pre-commit-hooks.yaml, run by the real pre-commit.
#
#   scripts/acceptance-precommit.sh BINARY
#
# - `pre-commit validate-manifest` accepts .pre-commit-hooks.yaml;
# - `pre-commit try-repo <this checkout> binauthz-lint-system --files ...` (the built BINARY
#   on PATH) fails on a break-glass manifest and passes on a clean manifest plus a YAML file
#   that is not a manifest;
# - a .pre-commit-config.yaml like the README's (`repo:` this checkout, `rev:` HEAD, `args:`)
#   passes the changed files only and honours `args`;
# - the whole-repository hook (`binauthz-lint-repo-system`, pass_filenames: false) fails a
#   commit that changes only the policy when the new policy denies a manifest;
# - the policy-test hook (`binauthz-lint-test-system`) fails a commit that changes only the
#   policy when the new policy breaks a suite case;
# - with BINAUTHZ_ACCEPT_PRECOMMIT_RUST=1 also the `language: rust` hook, which pre-commit
#   builds with `cargo install --path .` (a release build: 237 s measured on 2 cores).
#
# try-repo and `rev:` use committed files: commit the hook manifest before running this.
# Skips loudly (exit 0) when pre-commit or git is not installed.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"

if [ $# -ne 1 ]; then
  echo "usage: $0 BINARY" >&2
  exit 2
fi
BIN="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
if [ ! -x "$BIN" ]; then
  echo "acceptance-precommit: $1 is not an executable" >&2
  exit 2
fi
for tool in pre-commit git; do
  if ! command -v "$tool" >/dev/null; then
    echo "SKIPPED acceptance-precommit: '$tool' is not installed (pip install pre-commit); the pre-commit hooks were NOT checked"
    exit 0
  fi
done
echo "pre-commit $(pre-commit --version | cut -d ' ' -f 2)"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# A private pre-commit cache, and the built binary first on PATH for the system hook.
export PRE_COMMIT_HOME="$tmp/cache"
export PATH="$(dirname "$BIN"):$PATH"
export NO_COLOR=1
git_id=(-c user.name=acceptance -c user.email=acceptance@invalid -c commit.gpgsign=false)

fail() {
  echo "FAIL acceptance-precommit: $*" >&2
  exit 1
}

# The hook manifest as pre-commit itself reads it.
pre-commit validate-manifest "$ROOT/.pre-commit-hooks.yaml" || fail "validate-manifest rejects .pre-commit-hooks.yaml"

# The README's .pre-commit-config.yaml snippet, as a user would copy it.
awk '/^## pre-commit/ { f = 1 } f && /^```yaml$/ { c = 1; next } c && /^```$/ { exit } c { print }' \
  "$ROOT/README.md" >"$tmp/readme-config.yaml"
grep -q "id: binauthz-lint" "$tmp/readme-config.yaml" || fail "no .pre-commit-config.yaml snippet in README's pre-commit section"
pre-commit validate-config "$tmp/readme-config.yaml" || fail "validate-config rejects the README's snippet"

# A user's repository: a break-glass Deployment, a clean one, a values file.
project="$tmp/project"
mkdir -p "$project/deploy"
cp "$ROOT/testdata/demo/apps/hotfix.yaml" "$project/deploy/bad.yaml"
cp "$ROOT/testdata/dist/clean.yaml" "$project/deploy/good.yaml"
cp "$ROOT/testdata/dist/values.yaml" "$project/values.yaml"
git -C "$project" init -q
git -C "$project" add .
git -C "$project" "${git_id[@]}" commit -qm fixtures

# expect CODE HOOK ARGS...: run `pre-commit try-repo ROOT HOOK ARGS...` in the project.
expect() {
  local want="$1"
  shift
  local code=0
  (cd "$project" && pre-commit try-repo "$ROOT" "$@") >"$tmp/out" 2>&1 || code=$?
  if [ "$code" != "$want" ]; then
    cat "$tmp/out" >&2
    fail "try-repo $* exited $code, expected $want"
  fi
}

expect 1 binauthz-lint-system --files deploy/bad.yaml
grep -q "breakglass-used" "$tmp/out" || { cat "$tmp/out"; fail "no breakglass-used finding in the hook output"; }
grep -q "deploy/bad.yaml:14:9" "$tmp/out" || { cat "$tmp/out"; fail "the finding does not point at deploy/bad.yaml:14:9"; }
echo "ok: binauthz-lint-system fails on a break-glass manifest"

expect 0 binauthz-lint-system --files deploy/good.yaml values.yaml
echo "ok: binauthz-lint-system passes a clean manifest and a non-manifest YAML file"

# The README's .pre-commit-config.yaml, pinned to this checkout's HEAD: only the files of
# the commit are passed, and `args` reach the binary.
rev="$(git -C "$ROOT" rev-parse HEAD)"
cat >"$project/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $ROOT
    rev: $rev
    hooks:
      - id: binauthz-lint-system
EOF
git -C "$project" add .pre-commit-config.yaml
run_config() {
  local code=0
  (cd "$project" && pre-commit run "$@") >"$tmp/out" 2>&1 || code=$?
  echo "$code"
}
[ "$(run_config --files values.yaml deploy/good.yaml)" = 0 ] || { cat "$tmp/out"; fail "config run on clean files failed"; }
[ "$(run_config --files deploy/bad.yaml)" = 1 ] || { cat "$tmp/out"; fail "config run on bad.yaml did not fail"; }
# Changed files only: a staged change to good.yaml passes although bad.yaml is in the repo.
echo "# touched" >>"$project/deploy/good.yaml"
git -C "$project" add deploy/good.yaml
[ "$(run_config)" = 0 ] || { cat "$tmp/out"; fail "staged clean change failed (were unchanged files scanned?)"; }
grep -q "Passed" "$tmp/out" || { cat "$tmp/out"; fail "the hook did not run on the staged file"; }
cat >"$project/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $ROOT
    rev: $rev
    hooks:
      - id: binauthz-lint-system
        args: [--fail-on, error]
EOF
[ "$(run_config --files deploy/bad.yaml)" = 0 ] || { cat "$tmp/out"; fail "args: [--fail-on, error] was not honoured"; }
echo "ok: .pre-commit-config.yaml with rev and args; only changed files are scanned"

# The whole-repository hook: a commit that changes only the policy is checked against every
# manifest. The per-file hook sees just the policy file (not a manifest) and passes; the
# repository hook scans `deploy` whole and fails on the denial the new policy causes.
repo_project="$tmp/repo-project"
mkdir -p "$repo_project/deploy"
cp "$ROOT/testdata/dist/clean.yaml" "$repo_project/deploy/app.yaml"
printf '%s\n' \
  "globalPolicyEvaluationMode: ENABLE" \
  "defaultAdmissionRule:" \
  "  evaluationMode: ALWAYS_ALLOW" \
  "  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG" >"$repo_project/policy.yaml"
cat >"$repo_project/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $ROOT
    rev: $rev
    hooks:
      - id: binauthz-lint-system
        args: [--policy, policy.yaml]
      - id: binauthz-lint-repo-system
        args: [deploy, --policy, policy.yaml]
EOF
git -C "$repo_project" init -q
git -C "$repo_project" add .
git -C "$repo_project" "${git_id[@]}" commit -qm fixtures
run_repo() {
  local code=0
  (cd "$repo_project" && pre-commit run "$@") >"$tmp/out" 2>&1 || code=$?
  echo "$code"
}
[ "$(run_repo --all-files)" = 0 ] || { cat "$tmp/out"; fail "the repository hook fails with the allowing policy"; }
sed 's/ALWAYS_ALLOW/ALWAYS_DENY/' "$repo_project/policy.yaml" >"$tmp/policy.yaml"
cp "$tmp/policy.yaml" "$repo_project/policy.yaml"
git -C "$repo_project" add policy.yaml
[ "$(run_repo)" = 1 ] || { cat "$tmp/out"; fail "a policy-only commit that denies deploy/app.yaml passed the repository hook"; }
grep -q "image-denied" "$tmp/out" || { cat "$tmp/out"; fail "no image-denied finding from the repository hook"; }
grep -q "deploy/app.yaml" "$tmp/out" || { cat "$tmp/out"; fail "the repository hook did not scan deploy/app.yaml"; }
grep -Eq '^binauthz-lint \(installed binary\)\.+Passed' "$tmp/out" || { cat "$tmp/out"; fail "the per-file hook should pass a policy-only commit (it only sees policy.yaml)"; }
echo "ok: binauthz-lint-repo-system fails a policy-only commit that newly denies a manifest"

# The policy test suites hook: a commit that changes only the policy runs every suite; one
# whose policy breaks a case fails, naming the case.
suite_project="$tmp/suite-project"
mkdir -p "$suite_project/policy"
printf '%s\n' \
  "globalPolicyEvaluationMode: DISABLE" \
  "defaultAdmissionRule:" \
  "  evaluationMode: ALWAYS_DENY" \
  "  enforcementMode: ENFORCED_BLOCK_AND_AUDIT_LOG" >"$suite_project/policy/binauthz.yaml"
printf '%s\n' \
  "version: 1" \
  "policy: binauthz.yaml" \
  "cases:" \
  "  - name: unknown images are refused" \
  "    image: docker.io/library/nginx:1.27" \
  "    expect: deny" >"$suite_project/policy/binauthz.binauthz-test.yaml"
cat >"$suite_project/.pre-commit-config.yaml" <<EOF
repos:
  - repo: $ROOT
    rev: $rev
    hooks:
      - id: binauthz-lint-test-system
EOF
git -C "$suite_project" init -q
git -C "$suite_project" add .
git -C "$suite_project" "${git_id[@]}" commit -qm fixtures
run_suite() {
  local code=0
  (cd "$suite_project" && pre-commit run "$@") >"$tmp/out" 2>&1 || code=$?
  echo "$code"
}
[ "$(run_suite --all-files)" = 0 ] || { cat "$tmp/out"; fail "the test hook fails a passing suite"; }
sed 's/ALWAYS_DENY/ALWAYS_ALLOW/' "$suite_project/policy/binauthz.yaml" >"$tmp/policy.yaml"
cp "$tmp/policy.yaml" "$suite_project/policy/binauthz.yaml"
git -C "$suite_project" add policy/binauthz.yaml
[ "$(run_suite)" = 1 ] || { cat "$tmp/out"; fail "a policy-only commit that breaks a case passed the test hook"; }
grep -q "FAIL    unknown images are refused" "$tmp/out" || { cat "$tmp/out"; fail "the test hook did not name the failing case"; }
echo "ok: binauthz-lint-test-system fails a policy-only commit that breaks a suite case"

if [ "${BINAUTHZ_ACCEPT_PRECOMMIT_RUST:-}" = 1 ]; then
  if ! command -v cargo >/dev/null; then
    fail "BINAUTHZ_ACCEPT_PRECOMMIT_RUST=1 but cargo is not installed"
  fi
  # pre-commit runs `cargo install --bins --root ENV --path .` in its clone: its own
  # target folder (unless CARGO_TARGET_DIR is set), a release build.
  start=$SECONDS
  expect 1 binauthz-lint --files deploy/bad.yaml
  echo "ok: binauthz-lint (language: rust) built in $((SECONDS - start)) s and fails on a break-glass manifest"
  expect 0 binauthz-lint --files deploy/good.yaml values.yaml
  echo "ok: binauthz-lint (language: rust) passes a clean manifest"
else
  echo "NOTE: the language: rust hook (a release build by pre-commit) was not run; set BINAUTHZ_ACCEPT_PRECOMMIT_RUST=1 to run it"
fi
echo "acceptance-precommit: all checks passed"
