#!/usr/bin/env bash
# Runs the whole test suite RUNS times in a row beside BUSY CPU-bound processes (a `stress`-like
# load), to show the tests do not depend on the machine being idle. Builds once first.
#   scripts/stress-suite.sh [RUNS=10] [BUSY=2]
set -uo pipefail
cd "$(dirname "$0")/.."
runs="${1:-10}"
busy="${2:-2}"

npm run build >/dev/null || exit 1
pids=()
for _ in $(seq "$busy"); do
  (while :; do :; done) &
  pids+=($!)
done
trap 'kill "${pids[@]}" 2>/dev/null' EXIT

failed_runs=0
for i in $(seq "$runs"); do
  start=$(date +%s)
  log="$(mktemp)"
  npx vitest run >"$log" 2>&1
  code=$?
  summary="$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ +Tests +' | tail -1 | sed 's/^ *//')"
  echo "run $i: exit $code, $((($(date +%s) - start))) s, $summary"
  if [ "$code" -ne 0 ]; then
    failed_runs=$((failed_runs + 1))
    sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E '^ FAIL ' | sort -u | sed 's/^/    /'
    echo "    full output kept in $log"
  else
    rm -f "$log"
  fi
done
echo "$((runs - failed_runs)) of $runs runs green beside $busy busy processes"
[ "$failed_runs" -eq 0 ]
