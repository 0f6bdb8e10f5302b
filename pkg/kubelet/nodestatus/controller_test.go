package nodestatus

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/kubelet/cri"
	"github.com/kinc-dev/kinc/pkg/kubelet/kubeletconfig"
)

func TestRegisterStatusLease(t *testing.T) {
	t.Parallel()
	client := fake.NewClientset()
	clk := clocktesting.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	machine := Machine{CPUMilli: 2000, MemoryBytes: 8 << 30, MemAvailable: 4 << 30, DiskBytes: 100 << 30, DiskAvailable: 50 << 30,
		PIDMax: 1000, PIDsInUse: 10, OSImage: "Debian GNU/Linux 12 (bookworm)", KernelVersion: "6.1.0", Architecture: "amd64", OperatingSystem: "linux"}
	c := New(Config{NodeName: "n1", NodeIPs: []string{"192.0.2.10"}, KubeletPort: 10250, MaxPods: 110, KubeletVersion: "v1.37.2",
		LeaseDuration: 40, Labels: map[string]string{"node-role.kubernetes.io/control-plane": ""},
		MemoryAvailable: kubeletconfig.Threshold{Quantity: 100 << 20}, NodeFsAvailable: kubeletconfig.Threshold{Percent: 10},
		Taints: []v1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: v1.TaintEffectNoSchedule}}},
		client, cri.NewFake(), clk, func() Machine { return machine }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx := context.Background()
	if err := c.Register(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.UpdateStatus(ctx, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.RenewLease(ctx); err != nil {
		t.Fatal(err)
	}
	n, _ := client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if n.Labels["kubernetes.io/hostname"] != "n1" || n.Labels["kubernetes.io/os"] != "linux" || len(n.Spec.Taints) != 1 {
		t.Errorf("node meta = %+v %+v", n.Labels, n.Spec.Taints)
	}
	st := n.Status
	if st.DaemonEndpoints.KubeletEndpoint.Port != 10250 || st.Addresses[0].Address != "192.0.2.10" || st.Capacity.Cpu().String() != "2" ||
		st.Capacity.Pods().Value() != 110 || st.NodeInfo.ContainerRuntimeVersion != "fake://1.0.0" || st.NodeInfo.KubeletVersion != "v1.37.2" {
		t.Errorf("status = %+v", st)
	}
	want := map[v1.NodeConditionType]string{v1.NodeReady: "KubeletReady", v1.NodeMemoryPressure: "KubeletHasSufficientMemory",
		v1.NodeDiskPressure: "KubeletHasNoDiskPressure", v1.NodePIDPressure: "KubeletHasSufficientPID"}
	for _, cond := range st.Conditions {
		if want[cond.Type] != cond.Reason {
			t.Errorf("condition %s reason %s", cond.Type, cond.Reason)
		}
	}
	// Unchanged status within the report period is not posted again.
	before := len(client.Actions())
	clk.Step(10 * time.Second)
	_ = c.UpdateStatus(ctx, 5*time.Minute)
	for _, a := range client.Actions()[before:] {
		if a.GetVerb() == "update" {
			t.Errorf("unchanged status posted: %v", a)
		}
	}
	machine.MemAvailable = 10 << 20
	machine.DiskAvailable = 5 << 30
	_ = c.UpdateStatus(ctx, 5*time.Minute)
	n, _ = client.CoreV1().Nodes().Get(ctx, "n1", metav1.GetOptions{})
	if n.Status.Conditions[0].Status != v1.ConditionTrue || n.Status.Conditions[0].Reason != "KubeletHasInsufficientMemory" {
		t.Errorf("memory pressure = %+v", n.Status.Conditions[0])
	}
	if n.Status.Conditions[1].Status != v1.ConditionTrue || n.Status.Conditions[1].Reason != "KubeletHasDiskPressure" {
		t.Errorf("disk pressure under 10%% free = %+v", n.Status.Conditions[1])
	}
	l, err := client.CoordinationV1().Leases(LeaseNamespace).Get(ctx, "n1", metav1.GetOptions{})
	if err != nil || *l.Spec.HolderIdentity != "n1" || *l.Spec.LeaseDurationSeconds != 40 {
		t.Errorf("lease = %+v, %v", l, err)
	}
	clk.Step(10 * time.Second)
	_ = c.RenewLease(ctx)
	l2, _ := client.CoordinationV1().Leases(LeaseNamespace).Get(ctx, "n1", metav1.GetOptions{})
	if !l2.Spec.RenewTime.After(l.Spec.RenewTime.Time) {
		t.Errorf("lease not renewed")
	}
}
