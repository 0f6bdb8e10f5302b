package benchcmp

import (
	"testing"
	"time"
)

func TestTime(t *testing.T) {
	t.Parallel()
	if d := Time(func() { time.Sleep(10 * time.Millisecond) }); d < 10*time.Millisecond {
		t.Errorf("Time = %v, want at least 10ms", d)
	}
}

func TestRatio(t *testing.T) {
	t.Parallel()
	if r := ratio(3, 2); r != 1.5 {
		t.Errorf("ratio(3, 2) = %v", r)
	}
	if r := ratio(3, 0); r != 0 {
		t.Errorf("ratio(3, 0) = %v, want 0 (no baseline)", r)
	}
}

// TestTimesReportsMetrics checks the metrics through testing.Benchmark.
func TestTimesReportsMetrics(t *testing.T) {
	t.Parallel()
	r := testing.Benchmark(func(b *testing.B) {
		for b.Loop() {
		}
		Times(b, time.Duration(b.N)*3*time.Millisecond, time.Duration(b.N)*time.Millisecond)
	})
	if got := r.Extra["ratio"]; got != 3 {
		t.Errorf("ratio = %v, want 3", got)
	}
	if got := r.Extra["baseline-ns/op"]; got != float64(time.Millisecond) {
		t.Errorf("baseline-ns/op = %v", got)
	}
	if got := r.NsPerOp(); got != int64(3*time.Millisecond) {
		t.Errorf("ns/op = %v, want the subject's 3ms (reported %v)", got, r.Extra)
	}
}
