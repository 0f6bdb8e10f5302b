package scheduler

import (
	"context"
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	"github.com/kinc-dev/kinc/internal/benchcmp"
	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

// BenchmarkSchedulingAlgorithm measures scheduling decisions (snapshot
// update, filter, score, assume) for 2,000 pods with no constraints on 200
// nodes, without any apiserver: the scheduler's own CPU per pod, with
// Filter sequential (kinc's choice below 1,000 nodes) or on 16 goroutines.
// The baseline, measured in the same iteration, makes the same 2,000
// decisions with a plain loop: each node's free pods, CPU and memory
// against the pod's (upstream's non-zero default requests), the least
// allocated node wins. It sizes its own work (make bench runs it once).
func BenchmarkSchedulingAlgorithm(b *testing.B) {
	const nodes, pods = 200, 2000
	for _, tc := range []struct {
		name      string
		threshold int
	}{{"sequential", parallelFilterThreshold}, {"parallel-16", 0}} {
		b.Run(tc.name, func(b *testing.B) {
			var total, baseline time.Duration
			for n := 0; n < b.N; n++ {
				f := newFixture(b)
				f.sched.parallelFilterThreshold = tc.threshold
				var objs []*v1.Node
				for i := 0; i < nodes; i++ {
					node := st.MakeNode(fmt.Sprintf("node-%03d", i)).Obj()
					objs = append(objs, node)
					f.sched.cache.AddNode(node)
				}
				fwk := f.sched.profiles["default-scheduler"]
				ctx := context.Background()
				total += benchcmp.Time(func() {
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
				})
				plain := newPlainScheduler(objs)
				baseline += benchcmp.Time(func() {
					for i := 0; i < pods; i++ {
						pod := st.MakePod("ns", fmt.Sprintf("p-%d", i)).Obj()
						if pod.Spec.NodeName = plain.schedule(); pod.Spec.NodeName == "" {
							b.Fatal("plain scheduler found no node")
						}
					}
				})
			}
			benchcmp.Times(b, total, baseline)
			b.ReportMetric(float64(total.Microseconds())/float64(b.N*pods), "us/pod")
		})
	}
}

// plainScheduler is the baseline: resource fit and least-allocated score
// over a slice, no framework.
type plainScheduler struct{ nodes []plainNode }

type plainNode struct {
	name                  string
	cpu, mem, pods        int64 // allocatable (milli-CPU, bytes, pods)
	usedCPU, usedMem, num int64
}

// Upstream's requests for scoring a container that sets none.
const (
	plainPodCPU = 100
	plainPodMem = 200 << 20
)

func newPlainScheduler(nodes []*v1.Node) *plainScheduler {
	p := &plainScheduler{}
	for _, n := range nodes {
		a := n.Status.Allocatable
		p.nodes = append(p.nodes, plainNode{name: n.Name, cpu: a.Cpu().MilliValue(), mem: a.Memory().Value(), pods: a.Pods().Value()})
	}
	return p
}

// schedule places one pod with default requests and returns its node ("":
// none fits).
func (p *plainScheduler) schedule() string {
	best, bestScore := -1, int64(-1)
	for i := range p.nodes {
		n := &p.nodes[i]
		cpu, mem := n.usedCPU+plainPodCPU, n.usedMem+plainPodMem
		if n.num+1 > n.pods || cpu > n.cpu || mem > n.mem {
			continue
		}
		score := ((n.cpu-cpu)*100/n.cpu + (n.mem-mem)*100/n.mem) / 2
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return ""
	}
	n := &p.nodes[best]
	n.usedCPU, n.usedMem, n.num = n.usedCPU+plainPodCPU, n.usedMem+plainPodMem, n.num+1
	return n.name
}
