package app_test

import (
	"fmt"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"

	st "github.com/kinc-dev/kinc/pkg/scheduler/schedulertest"
)

func TestIntegrationPlacement(t *testing.T) {
	h := newHarness(t)
	h.createNode(st.MakeNode("cp").Label("node-role.kubernetes.io/control-plane", "").
		Taint("node-role.kubernetes.io/control-plane", "", v1.TaintEffectNoSchedule).Obj())
	h.createNode(st.MakeNode("w1").Label("zone", "a").Capacity(map[v1.ResourceName]string{v1.ResourceCPU: "2"}).Obj())
	h.createNode(st.MakeNode("w2").Label("zone", "b").Taint("dedicated", "gpu", v1.TaintEffectNoSchedule).Obj())
	h.createNode(st.MakeNode("w3").Label("zone", "c").
		Taint("node.kubernetes.io/not-ready", "", v1.TaintEffectNoExecute).Taint("node.kubernetes.io/not-ready", "", v1.TaintEffectNoSchedule).Obj())
	h.startScheduler(nil)

	h.createPod(st.MakePod("default", "zone-a").NodeSelector(map[string]string{"zone": "a"}).Obj())
	h.createPod(st.MakePod("default", "gpu").Toleration("dedicated", v1.TolerationOpEqual, "gpu", v1.TaintEffectNoSchedule).
		RequiredNodeAffinity(v1.NodeSelectorRequirement{Key: "zone", Operator: v1.NodeSelectorOpIn, Values: []string{"b"}}).Obj())
	h.createPod(st.MakePod("default", "cp").Toleration("node-role.kubernetes.io/control-plane", v1.TolerationOpExists, "", v1.TaintEffectNoSchedule).
		NodeSelector(map[string]string{"node-role.kubernetes.io/control-plane": ""}).Obj())
	h.createPod(st.MakePod("default", "any").Obj())

	mustEqual(t, "zone-a", h.waitBound("default", "zone-a", 10*time.Second), "w1")
	mustEqual(t, "gpu", h.waitBound("default", "gpu", 10*time.Second), "w2")
	mustEqual(t, "cp", h.waitBound("default", "cp", 10*time.Second), "cp")
	mustEqual(t, "any", h.waitBound("default", "any", 10*time.Second), "w1") // the only untainted node
	ev := h.waitEvent("default", "any", "Scheduled", 10*time.Second)
	mustEqual(t, "Scheduled message", ev.Message, "Successfully assigned default/any to w1")
	mustEqual(t, "Scheduled source", ev.Source.Component, "default-scheduler")

	// Needs 3 cpu: w1 has 2; the others are tainted.
	h.createPod(st.MakePod("default", "big").Req(map[v1.ResourceName]string{v1.ResourceCPU: "3"}).Obj())
	ev = h.waitEvent("default", "big", "FailedScheduling", 10*time.Second)
	want := "0/4 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint {dedicated: gpu}, " +
		"1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }. " +
		"preemption: 0/4 nodes are available: 1 No preemption victims found for incoming pod, 3 Preemption is not helpful for scheduling.."
	mustEqual(t, "FailedScheduling message", ev.Message, want)
	mustEqual(t, "FailedScheduling type", ev.Type, v1.EventTypeWarning)
	if n := h.nodeOf("default", "big"); n != "" {
		t.Fatalf("big was bound to %s", n)
	}
	start := time.Now()
	h.createNode(st.MakeNode("w4").Capacity(map[v1.ResourceName]string{v1.ResourceCPU: "8"}).Obj())
	mustEqual(t, "big", h.waitBound("default", "big", 5*time.Second), "w4")
	t.Logf("unschedulable pod bound %v after its node appeared", time.Since(start))
}

func TestIntegrationAffinityAndSpread(t *testing.T) {
	h := newHarness(t)
	const zone = "topology.kubernetes.io/zone"
	for i, z := range []string{"a", "a", "b", "b"} {
		h.createNode(st.MakeNode(fmt.Sprintf("n%d", i)).Label(zone, z).Obj())
	}
	h.startScheduler(nil)

	// Required anti-affinity per hostname: four replicas, four nodes, and a
	// fifth cannot fit anywhere.
	for i := 0; i < 5; i++ {
		h.createPod(st.MakePod("default", fmt.Sprintf("anti-%d", i)).Label("app", "anti").
			PodAffinity(true, 0, v1.LabelHostname, "app", "anti").Obj())
	}
	seen := map[string]bool{}
	for i := 0; i < 4; i++ {
		n := h.waitBound("default", fmt.Sprintf("anti-%d", i), 10*time.Second)
		if seen[n] {
			t.Fatalf("two anti-affine pods on %s", n)
		}
		seen[n] = true
	}
	ev := h.waitEvent("default", "anti-4", "FailedScheduling", 10*time.Second)
	mustEqual(t, "anti-4 message", ev.Message, "0/4 nodes are available: 4 node(s) didn't match pod anti-affinity rules. "+
		"preemption: 0/4 nodes are available: 4 No preemption victims found for incoming pod..")

	// Required affinity to the zone of a pod in zone b.
	h.createPod(st.MakePod("default", "db").Label("app", "db").NodeSelector(map[string]string{v1.LabelHostname: "n2"}).Obj())
	mustEqual(t, "db", h.waitBound("default", "db", 10*time.Second), "n2")
	for i := 0; i < 3; i++ {
		name := fmt.Sprintf("near-db-%d", i)
		h.createPod(st.MakePod("default", name).PodAffinity(false, 0, zone, "app", "db").Obj())
		if n := h.waitBound("default", name, 10*time.Second); n != "n2" && n != "n3" {
			t.Errorf("%s on %s, outside zone b", name, n)
		}
	}

	// Topology spread across zones, maxSkew 1: 6 pods end up 3 and 3.
	for i := 0; i < 6; i++ {
		h.createPod(st.MakePod("default", fmt.Sprintf("spread-%d", i)).Label("app", "spread").
			SpreadConstraint(1, zone, v1.DoNotSchedule, "app", "spread").Obj())
	}
	perZone := map[string]int{}
	for i := 0; i < 6; i++ {
		n := h.waitBound("default", fmt.Sprintf("spread-%d", i), 10*time.Second)
		perZone[map[string]string{"n0": "a", "n1": "a", "n2": "b", "n3": "b"}[n]]++
	}
	if perZone["a"] != 3 || perZone["b"] != 3 {
		t.Errorf("spread %v, want 3 per zone", perZone)
	}
}

func TestIntegrationApiserverRestart(t *testing.T) {
	h := newHarness(t)
	h.createNode(st.MakeNode("n1").Obj())
	h.startScheduler(nil)
	h.createPod(st.MakePod("default", "before").Obj())
	mustEqual(t, "before", h.waitBound("default", "before", 10*time.Second), "n1")

	h.inst.Restart(t)
	// The informers reconnect; new nodes and pods are seen.
	h.createNode(st.MakeNode("n2").Label("disk", "ssd").Obj())
	h.createPod(st.MakePod("default", "after").NodeSelector(map[string]string{"disk": "ssd"}).Obj())
	mustEqual(t, "after", h.waitBound("default", "after", 30*time.Second), "n2")
}

func TestIntegrationResourcesAndPorts(t *testing.T) {
	h := newHarness(t)
	h.createNode(st.MakeNode("gpu").Capacity(map[v1.ResourceName]string{"example.com/gpu": "1", v1.ResourcePods: "3"}).Obj())
	h.createNode(st.MakeNode("plain").Obj())
	h.createNode(st.MakeNode("cordoned").Capacity(map[v1.ResourceName]string{"example.com/gpu": "4"}).Unschedulable().Obj())
	h.startScheduler(nil)

	gpu := map[v1.ResourceName]string{"example.com/gpu": "1"}
	h.createPod(st.MakePod("default", "gpu-1").Req(gpu).Obj())
	mustEqual(t, "gpu-1", h.waitBound("default", "gpu-1", 10*time.Second), "gpu")
	h.createPod(st.MakePod("default", "gpu-2").Req(gpu).Obj())
	ev := h.waitEvent("default", "gpu-2", "FailedScheduling", 10*time.Second)
	mustEqual(t, "gpu-2 message", ev.Message, "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient example.com/gpu. "+
		"preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod..")

	// Host ports: two pods wanting 8080 on the same node cannot share it.
	for _, name := range []string{"port-1", "port-2"} {
		h.createPod(st.MakePod("default", name).HostPort(8080, v1.ProtocolTCP, "").
			NodeSelector(map[string]string{v1.LabelHostname: "plain"}).Obj())
	}
	mustEqual(t, "port-1", h.waitBound("default", "port-1", 10*time.Second), "plain")
	ev = h.waitEvent("default", "port-2", "FailedScheduling", 10*time.Second)
	mustEqual(t, "port-2 message", ev.Message, "0/3 nodes are available: 1 node(s) didn't have free ports for the requested pod ports, "+
		"1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable. "+
		"preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling..")
}
