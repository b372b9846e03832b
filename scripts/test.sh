#!/usr/bin/env bash
# The whole test suite, as the README's Quick start runs it (`npm test`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "== typecheck"
npx tsc --noEmit
npx tsc --noEmit -p console
echo "== tests"
report=$(mktemp)
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line, whatever the reporter printed above.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  // A file whose setup fails fails no test of its own (they count as skipped): count failed files too.
  const failedFiles = r.testResults.filter((f) => f.status === "failed").length;
  const files = failedFiles ? `; ${failedFiles} of ${r.testResults.length} files failed` : "";
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed` + (skipped ? `, ${skipped} skipped` : "") + files);
' "$report" || true
rm -f "$report"
exit $status
