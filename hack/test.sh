#!/usr/bin/env bash
# test.sh runs `go test -json <args>` and prints a readable summary: package
# result lines, the output of failed tests, and "N passed, N failed, N skipped".
# The full JSON stream is kept in bin/test-results.json.
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

mkdir -p bin
go build -o bin/testsummary ./hack/testsummary

set +o errexit
go test -json "$@" 2>&1 | tee bin/test-results.json | bin/testsummary
codes=("${PIPESTATUS[@]}")
set -o errexit
if [ "${codes[0]}" != 0 ] || [ "${codes[2]}" != 0 ]; then
  echo "tests failed (go test exit ${codes[0]}); full log: bin/test-results.json" >&2
  exit 1
fi
