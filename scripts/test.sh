#!/usr/bin/env bash
# The README's test command (`npm test`): set up what is missing, then
# typecheck, lint and run the whole suite on Node 24.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
echo "test: node $(node --version)"

tsc -p tsconfig.json
eslint .

mkdir -p test-results
status=0
vitest run --reporter=default --reporter=json --outputFile=test-results/vitest.json "$@" || status=$?
npm run --silent bench:quick > test-results/bench-quick.md || status=$?  # capacity smoke test: every target converged, nothing missed
# One plain closing line that any CI reads: "tests: N passed, N failed".
node -e '
  const r = JSON.parse(require("fs").readFileSync("test-results/vitest.json", "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : ""));
' || true
exit "$status"
