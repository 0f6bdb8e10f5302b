package podroutes

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kinc-dev/kinc/pkg/apiserver/apiservertest"
	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
	kexec "github.com/kinc-dev/kinc/pkg/exec"
)

func node(name, podCIDR string, ips ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: corev1.NodeSpec{PodCIDR: podCIDR}}
	if podCIDR != "" {
		n.Spec.PodCIDRs = []string{podCIDR}
	}
	for _, ip := range ips {
		n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip})
	}
	n.Status.Addresses = append(n.Status.Addresses, corev1.NodeAddress{Type: corev1.NodeHostName, Address: name})
	return n
}

func routes(m map[string]route) []string {
	var out []string
	for _, k := range sortedKeys(m) {
		out = append(out, k+" via "+m[k].via.String())
	}
	return out
}

func TestDesired(t *testing.T) {
	nodes := []*corev1.Node{
		node("self", "10.244.0.0/24", "172.20.0.2"),
		node("a", "10.244.1.0/24", "172.20.0.3"),
		node("no-cidr-yet", "", "172.20.0.4"),
		node("no-ip-yet", "10.244.3.0/24"),
		node("v6-only", "10.244.4.0/24", "fc00::5"),
		node("dual", "", "fc00::6", "172.20.0.6"),
		node("bad-cidr", "10.244.7.0/33", "172.20.0.7"),
	}
	nodes[5].Spec.PodCIDRs = []string{"10.244.5.0/24", "fd00:10:244:5::/64"}
	got := routes(Desired("self", nodes))
	want := []string{"10.244.1.0/24 via 172.20.0.3", "10.244.5.0/24 via 172.20.0.6", "fd00:10:244:5::/64 via fc00::6"}
	if !slices.Equal(got, want) {
		t.Errorf("Desired = %v\nwant %v", got, want)
	}
}

// recorder is a Router that records calls; fail makes the next n calls
// fail.
type recorder struct {
	mu    sync.Mutex
	calls []string
	fail  int
	table map[string]string
}

func (r *recorder) Replace(_ context.Context, dst *net.IPNet, via net.IP) error {
	return r.record("replace "+dst.String()+" via "+via.String(), func() { r.table[dst.String()] = via.String() })
}

func (r *recorder) Delete(_ context.Context, dst *net.IPNet) error {
	return r.record("del "+dst.String(), func() { delete(r.table, dst.String()) })
}

func (r *recorder) record(call string, apply func()) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, call)
	if r.fail > 0 {
		r.fail--
		return errors.New("RTNETLINK answers: Network is unreachable")
	}
	apply()
	return nil
}

func (r *recorder) snapshot() (calls []string, table string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var rows []string
	for dst, via := range r.table {
		rows = append(rows, dst+" via "+via)
	}
	slices.Sort(rows)
	return slices.Clone(r.calls), strings.Join(rows, ", ")
}

func (r *recorder) waitFor(t *testing.T, table string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, got := r.snapshot()
		if got == table {
			return
		}
		if time.Now().After(deadline) {
			calls, _ := r.snapshot()
			t.Fatalf("route table %q, want %q; calls %v", got, table, calls)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countingNAT counts EnsureMasquerade calls.
type countingNAT struct {
	mu     sync.Mutex
	calls  int
	subnet string
}

func (n *countingNAT) EnsureMasquerade(_ context.Context, subnet *net.IPNet) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls++
	n.subnet = subnet.String()
	return nil
}

func (n *countingNAT) count() (int, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.calls, n.subnet
}

// TestIntegrationRoutesFollowNodes runs the controller against a real
// kube-apiserver: routes appear for other nodes, move when a node's
// address changes, come back after a failure, are rewritten on resync and
// go when the node is deleted.
func TestIntegrationRoutesFollowNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts etcd and kube-apiserver")
	}
	inst := apiservertest.Start(t, apiservertest.Options{})
	client, err := kubernetes.NewForConfig(inst.Config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	create := func(n *corev1.Node) {
		t.Helper()
		st := n.Status
		got, err := client.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got.Status = st
		if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, got, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	create(node("self", "10.244.0.0/24", "172.20.0.2"))
	create(node("w1", "10.244.1.0/24", "172.20.0.3"))

	rec := &recorder{table: map[string]string{}, fail: 1}
	nat := &countingNAT{}
	_, subnet, _ := net.ParseCIDR("10.244.0.0/16")
	done := make(chan error, 1)
	c := New(Options{NodeName: "self", Client: client, Router: rec, Resync: 500 * time.Millisecond, RetryAfter: 50 * time.Millisecond,
		PodSubnet: subnet, NAT: nat})
	go func() { done <- c.Run(ctx) }()
	// The first Replace fails; the retry installs it.
	rec.waitFor(t, "10.244.1.0/24 via 172.20.0.3")

	create(node("w2", "10.244.2.0/24", "172.20.0.4"))
	rec.waitFor(t, "10.244.1.0/24 via 172.20.0.3, 10.244.2.0/24 via 172.20.0.4")

	// w1 restarts with a new address: its kubelet reports it.
	w1, err := client.CoreV1().Nodes().Get(ctx, "w1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	w1.Status.Addresses[0].Address = "172.20.0.9"
	if _, err := client.CoreV1().Nodes().UpdateStatus(ctx, w1, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "10.244.1.0/24 via 172.20.0.9, 10.244.2.0/24 via 172.20.0.4")

	// A route removed behind the controller's back is rewritten on resync.
	rec.mu.Lock()
	delete(rec.table, "10.244.2.0/24")
	rec.mu.Unlock()
	rec.waitFor(t, "10.244.1.0/24 via 172.20.0.9, 10.244.2.0/24 via 172.20.0.4")

	if err := client.CoreV1().Nodes().Delete(ctx, "w2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	rec.waitFor(t, "10.244.1.0/24 via 172.20.0.9")
	// Masquerading is ensured at the start, on retries and on each resync.
	if n, sub := nat.count(); n < 2 || sub != "10.244.0.0/16" {
		t.Errorf("EnsureMasquerade called %d times for %q", n, sub)
	}
	calls, _ := rec.snapshot()
	if !slices.Contains(calls, "del 10.244.2.0/24") {
		t.Errorf("no delete in %v", calls)
	}
	for _, c := range calls {
		if strings.Contains(c, "10.244.0.0/24") {
			t.Errorf("routed its own pod range: %s", c)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("Run did not return after cancel")
	}
}

// fakeCmder records commands and fails those whose line has a prefix in
// fail, with the mapped output.
type fakeCmder struct {
	ran  []string
	fail map[string]string
}

func (f *fakeCmder) CommandContext(_ context.Context, name string, args ...string) kexec.Cmd {
	line := strings.Join(append([]string{name}, args...), " ")
	f.ran = append(f.ran, line)
	return &fakeCmd{line: line, out: f.fail[line]}
}

type fakeCmd struct {
	kexec.Cmd
	line, out string
}

func (c *fakeCmd) Run() error {
	if c.out == "" {
		return nil
	}
	return &kexec.RunError{Command: strings.Fields(c.line), Output: []byte(c.out), Inner: fmt.Errorf("exit status 2")}
}

func TestIPRouter(t *testing.T) {
	_, dst, _ := net.ParseCIDR("10.244.1.0/24")
	f := &fakeCmder{fail: map[string]string{
		"ip route del 10.244.1.0/24": "RTNETLINK answers: No such process\n",
	}}
	r := IPRouter{Cmder: f}
	if err := r.Replace(context.Background(), dst, net.ParseIP("172.20.0.3")); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(context.Background(), dst); err != nil {
		t.Errorf("deleting a missing route: %v", err)
	}
	want := []string{"ip route replace 10.244.1.0/24 via 172.20.0.3", "ip route del 10.244.1.0/24"}
	if !slices.Equal(f.ran, want) {
		t.Errorf("ran %v, want %v", f.ran, want)
	}
	f.fail["ip route replace 10.244.1.0/24 via 172.20.0.3"] = "Error: Nexthop has invalid gateway.\n"
	if err := r.Replace(context.Background(), dst, net.ParseIP("172.20.0.3")); err == nil {
		t.Error("a failed replace must be an error")
	}
}

func TestIPTablesMasquerade(t *testing.T) {
	_, subnet, _ := net.ParseCIDR("10.244.0.0/16")
	rule := "POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -m comment --comment " + MasqueradeComment + " -j MASQUERADE"
	missing := &fakeCmder{fail: map[string]string{"iptables -t nat -C " + rule: "iptables: Bad rule (does a matching rule exist in that chain?).\n"}}
	if err := (IPTables{Cmder: missing}).EnsureMasquerade(context.Background(), subnet); err != nil {
		t.Fatal(err)
	}
	if want := []string{"iptables -t nat -C " + rule, "iptables -t nat -A " + rule}; !slices.Equal(missing.ran, want) {
		t.Errorf("ran %q\nwant %q", missing.ran, want)
	}
	present := &fakeCmder{}
	if err := (IPTables{Cmder: present}).EnsureMasquerade(context.Background(), subnet); err != nil {
		t.Fatal(err)
	}
	if len(present.ran) != 1 {
		t.Errorf("a present rule was added again: %q", present.ran)
	}
}

// TestSync drives sync through the controller kit's fixture: a node event
// only writes what changed, a resync or the sync after a failure rewrites
// everything and ensures masquerading.
func TestSync(t *testing.T) {
	f := controllertest.New(t, node("self", "10.244.0.0/24", "172.20.0.2"), node("w1", "10.244.1.0/24", "172.20.0.3"),
		node("w2", "10.244.2.0/24", "172.20.0.4"))
	rec := &recorder{table: map[string]string{}}
	nat := &countingNAT{}
	_, subnet, _ := net.ParseCIDR("10.244.0.0/16")
	c := New(Options{NodeName: "self", Client: f.Client, Router: rec, PodSubnet: subnet, NAT: nat, Logger: f.Logger})
	if _, err := c.newLoop(f.Informers); err != nil {
		t.Fatal(err)
	}
	f.MustSync(c.sync, resyncKey)
	calls, table := rec.snapshot()
	if want := "10.244.1.0/24 via 172.20.0.3, 10.244.2.0/24 via 172.20.0.4"; table != want {
		t.Fatalf("table %q, want %q", table, want)
	}
	if n, _ := nat.count(); n != 1 {
		t.Errorf("EnsureMasquerade called %d times on resync, want 1", n)
	}

	// An event with nothing changed writes nothing.
	f.MustSync(c.sync, nodesKey)
	if again, _ := rec.snapshot(); len(again) != len(calls) {
		t.Errorf("an unchanged event wrote routes: %v", again[len(calls):])
	}

	// w2 is gone and the router fails once: the error is returned and the
	// next sync (a plain event) rewrites everything.
	if err := f.Informers.Core().V1().Nodes().Informer().GetIndexer().Delete(node("w2", "")); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	rec.fail = 1
	rec.mu.Unlock()
	if err := f.Sync(c.sync, nodesKey); err == nil {
		t.Fatal("a failed route must fail sync")
	}
	before, _ := rec.snapshot()
	f.MustSync(c.sync, nodesKey)
	after, table := rec.snapshot()
	if table != "10.244.1.0/24 via 172.20.0.3" {
		t.Errorf("table %q after w2 left", table)
	}
	if rewritten := after[len(before):]; !slices.Contains(rewritten, "replace 10.244.1.0/24 via 172.20.0.3") {
		t.Errorf("the sync after a failure did not rewrite every route: %v", rewritten)
	}
	if n, _ := nat.count(); n != 2 {
		t.Errorf("EnsureMasquerade called %d times, want 2 (resync, after the failure)", n)
	}
	// The controller only reads the API through its informer.
	f.ExpectActions()
}
