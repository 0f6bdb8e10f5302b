#!/usr/bin/env bash
# test.sh runs `go test -json` once per group of arguments (groups separated
# by `---`, e.g. `hack/test.sh ./... --- -p 1 -tags e2e ./e2e/...`), one after
# the other even when one fails, and prints one readable summary of the whole
# run: package result lines, the output of failed tests, every skipped test
# with its reason, and "N passed, N failed, N skipped".
# The JSON stream of every group is kept, in order, in bin/test-results.json
# (rewritten by each call).
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mkdir -p bin
go build -o bin/testsummary ./hack/testsummary

# run_groups runs each group and fails when any go test failed.
run_groups() {
  local status=0 group=()
  for arg in "$@" ---; do
    if [ "$arg" = --- ]; then
      if [ ${#group[@]} -gt 0 ]; then
        go test -json "${group[@]}" 2>&1 || status=1
      fi
      group=()
    else
      group+=("$arg")
    fi
  done
  return $status
}

set +o errexit
run_groups "$@" | tee bin/test-results.json | bin/testsummary
codes=("${PIPESTATUS[@]}")
set -o errexit
if [ "${codes[0]}" != 0 ] || [ "${codes[2]}" != 0 ]; then
  echo "tests failed; full log: bin/test-results.json" >&2
  exit 1
fi
