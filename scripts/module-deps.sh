#!/usr/bin/env bash
# Which top-level folders of src/ each folder uses (from `crate::` paths, unit tests
# excluded): the layers of docs/architecture.md, read off the code.
#   bash scripts/module-deps.sh          # every folder
#   bash scripts/module-deps.sh evaluate # one folder
set -euo pipefail
cd "$(dirname "$0")/../src"
for dir in ${1:-$(ls -d */ | tr -d /)}; do
  uses=$(find "$dir" -name '*.rs' ! -name '*_tests.rs' -exec sed -s '/^#\[cfg(test)\]/,$d' {} + |
    grep -o 'crate::[a-z_]*' | sed 's/crate:://' | grep -vx "$dir" | sort -u | tr "\n" " " || true)
  printf '%-10s -> %s\n' "$dir" "${uses:-(nothing)}"
done
