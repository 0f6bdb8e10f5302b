#!/usr/bin/env bash
# bench.sh runs the benchmarks and prints them as a table. Each benchmark
# reports its speed next to a baseline measured in the same run (a raw etcd
# put, a bare CRI call, a bare `docker run`) and the ratio between them, since
# absolute timings on these machines are noisy (DESIGN.md §7).
#
# -tags e2e includes the e2e benchmarks (e2e/node: pod startup against bare
# CRI, kubelet RSS, node memory), which create a cluster from the node image
# and skip when there is none (make node-image).
#
#   BENCH=regexp      which benchmarks (default: all)
#   BENCHTIME=1x      go test -benchtime (default 1x: each benchmark sizes its own work)
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hack/ensure-docker.sh
mkdir -p bin
go test -tags e2e -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-1x}" -timeout 60m ./... | tee bin/bench.txt

echo
echo "Summary (bin/bench.txt has the raw output):"
awk '
/^Benchmark/ {
  name = $1; sub(/-[0-9]+$/, "", name)
  line = ""
  for (i = 3; i < NF; i += 2) {
    if ($(i+1) == "ns/op" || $(i+1) == "B/op" || $(i+1) == "allocs/op") continue
    line = line sprintf("%s=%s  ", $(i+1), $i)
  }
  if (line == "") line = sprintf("%s ns/op", $3)
  printf "  %-48s %s\n", name, line
}' bin/bench.txt
