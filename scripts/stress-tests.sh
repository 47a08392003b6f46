#!/usr/bin/env bash
# Runs the test suite (or the given test files) N times in a row while another
# process keeps one core busy, and prints each run's result. A flake shows up
# as a failed run; its output is kept in test-results/stress/run-K.log.
#
#   npm run test:stress              # the whole suite, 10 times
#   npm run test:stress -- 50 test/integration/cold-sync.test.ts
#
# Exit status: 0 when every run passed, 1 otherwise.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
runs=${1:-10}
shift || true
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$PATH"
out=test-results/stress
mkdir -p "$out"

# One core kept busy for the whole run; ended by its PID however this script ends.
node -e 'for (;;) {}' &
busy=$!
trap 'kill "$busy" 2>/dev/null || true' EXIT
trap 'exit 130' INT TERM

failed=0
for ((k = 1; k <= runs; k++)); do
  start=$(date +%s)
  status=0
  vitest run --reporter=json --outputFile="$out/run-$k.json" "$@" >"$out/run-$k.log" 2>&1 || status=$?
  summary=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))
    const bad = r.testResults.flatMap((f) => f.assertionResults.filter((t) => t.status === "failed").map((t) => `${f.name.replace(process.cwd() + "/", "")} > ${t.fullName}`))
    console.log(`${r.numPassedTests} passed, ${r.numFailedTests} failed` + (bad.length ? `\n    ${bad.join("\n    ")}` : ""))
  ' "$out/run-$k.json" 2>/dev/null || echo "no result (vitest exit $status)")
  [ "$status" -eq 0 ] || failed=$((failed + 1))
  echo "run $k/$runs ($(($(date +%s) - start)) s): $summary"
done
echo "stress: $((runs - failed)) of $runs runs passed, one core busy (load average $(cut -d' ' -f1-3 /proc/loadavg))"
[ "$failed" -eq 0 ]
