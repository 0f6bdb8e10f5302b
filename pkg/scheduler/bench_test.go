package scheduler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

// BenchmarkSchedulingAlgorithm measures scheduling decisions (snapshot
// update, filter, score, assume) for 2,000 pods with no constraints on 200
// nodes, without any apiserver: the scheduler's own CPU per pod, with
// Filter sequential (kinc's choice below 1,000 nodes) or on 16 goroutines.
// It sizes its own work (make bench runs it once) and reports us/pod.
func BenchmarkSchedulingAlgorithm(b *testing.B) {
	const nodes, pods = 200, 2000
	for _, tc := range []struct {
		name      string
		threshold int
	}{{"sequential", parallelFilterThreshold}, {"parallel-16", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			var total time.Duration
			for n := 0; n < b.N; n++ {
				b.StopTimer()
				f := newFixture(b)
				f.sched.parallelFilterThreshold = tc.threshold
				for i := 0; i < nodes; i++ {
					f.sched.cache.AddNode(st.MakeNode(fmt.Sprintf("node-%03d", i)).Obj())
				}
				fwk := f.sched.profiles["default-scheduler"]
				ctx := context.Background()
				b.StartTimer()
				start := time.Now()
				for i := 0; i < pods; i++ {
					pod := st.MakePod("ns", fmt.Sprintf("p-%d", i)).Obj()
					f.sched.cache.UpdateSnapshot(f.sched.snapshot)
					host, err := f.sched.schedulePod(ctx, fwk, framework.NewCycleState(), pod)
					if err != nil {
						b.Fatal(err)
					}
					pod.Spec.NodeName = host
					if err := f.sched.cache.AssumePod(pod); err != nil {
						b.Fatal(err)
					}
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(total.Microseconds())/float64(b.N*pods), "us/pod")
		})
	}
}
