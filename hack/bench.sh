#!/usr/bin/env bash
# bench.sh runs the benchmarks and prints them as a table. Every benchmark
# measures its baseline (the same work done the plainest way: raw etcd,
# crypto/x509, bare CRI calls, bare node containers) in the same run and
# reports, through internal/benchcmp, its time (ns/op), the baseline's
# (baseline-ns/op, or baseline-<unit> for memory) and the ratio, since
# absolute timings on these machines are noisy (DESIGN.md §7). A benchmark
# without a ratio is flagged and fails the run.
#
# -tags e2e includes the e2e benchmarks (e2e/cluster: create and restart;
# e2e/node: pod start-up, kubelet memory), which need Docker and the node
# image (make node-image).
#
#   BENCH=regexp      which benchmarks (default: all)
#   BENCHTIME=1x      go test -benchtime (default 1x: each benchmark sizes its own work)
#   PKGS=...          packages (default ./...)
set -o errexit -o nounset -o pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hack/ensure-docker.sh
mkdir -p bin
# shellcheck disable=SC2086 # PKGS is a list
go test -tags e2e -run '^$' -bench "${BENCH:-.}" -benchtime "${BENCHTIME:-1x}" -timeout 60m ${PKGS:-./...} | tee bin/bench.txt

echo
echo "Summary (bin/bench.txt has the raw output; ratio = time (or memory) ÷ its baseline's, lower is better):"
awk -f hack/bench-summary.awk bin/bench.txt
