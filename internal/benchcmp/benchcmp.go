// Package benchcmp reports a benchmark next to its baseline: the same work
// done the plainest way (raw etcd for the store, crypto/x509 for pkg/pki,
// bare CRI calls for the kubelet, bare containers for a cluster), measured
// in the same run, because absolute timings on shared machines are noisy
// (DESIGN.md §7). hack/bench.sh's summary reads these metrics:
//
//	ns/op           the subject's time per iteration (replacing the testing
//	                package's own, which would include the baseline)
//	baseline-ns/op  the baseline's time per iteration
//	ratio           subject ÷ baseline (2 means twice the baseline's time
//	                or memory; lower is better)
//
// A benchmark sizes its own work so that one iteration (`-benchtime 1x`,
// make bench's default) is meaningful, and measures the baseline in the
// same iteration(s).
package benchcmp

import (
	"testing"
	"time"
)

// Times reports subject and baseline, totals over b.N iterations, as
// ns/op, baseline-ns/op and their ratio.
func Times(b testing.TB, subject, baseline time.Duration) {
	bb := benchmark(b)
	n := float64(bb.N)
	bb.ReportMetric(float64(subject.Nanoseconds())/n, "ns/op")
	bb.ReportMetric(float64(baseline.Nanoseconds())/n, "baseline-ns/op")
	bb.ReportMetric(ratio(float64(subject), float64(baseline)), "ratio")
}

// Values reports a measure other than time (memory, bytes): subject as
// unit, baseline as "baseline-"+unit, and their ratio. ns/op stays the
// iteration's time.
func Values(b testing.TB, unit string, subject, baseline float64) {
	bb := benchmark(b)
	bb.ReportMetric(subject, unit)
	bb.ReportMetric(baseline, "baseline-"+unit)
	bb.ReportMetric(ratio(subject, baseline), "ratio")
}

// Time returns how long f took.
func Time(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func ratio(subject, baseline float64) float64 {
	if baseline <= 0 {
		return 0
	}
	return subject / baseline
}

func benchmark(tb testing.TB) *testing.B {
	b, ok := tb.(*testing.B)
	if !ok {
		tb.Fatalf("benchcmp: %T is not a *testing.B", tb)
	}
	return b
}
