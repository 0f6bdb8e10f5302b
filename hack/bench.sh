#!/usr/bin/env bash
# bench.sh runs the benchmarks and prints them; each benchmark family is
# reported next to the baseline measured in the same run (see DESIGN.md §7).
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hack/ensure-docker.sh
mkdir -p bin
go test -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-1x}" -benchmem ./... | tee bin/bench.txt
