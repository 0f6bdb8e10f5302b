package nodeipam

import (
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"

	"github.com/kinc-dev/kinc/pkg/controller/controllertest"
)

func node(name string, cidrs ...string) *corev1.Node {
	n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, UID: types.UID("uid-" + name)}}
	if len(cidrs) > 0 {
		n.Spec.PodCIDR, n.Spec.PodCIDRs = cidrs[0], cidrs
	}
	return n
}

func prefixes(ps ...string) []netip.Prefix {
	out := make([]netip.Prefix, len(ps))
	for i, p := range ps {
		out[i] = netip.MustParsePrefix(p)
	}
	return out
}

type fixture struct {
	*controllertest.Fixture
	c        *Controller
	recorder *record.FakeRecorder
}

func newFixture(t *testing.T, opts Options, nodes ...runtime.Object) *fixture {
	t.Helper()
	f := &fixture{Fixture: controllertest.New(t, nodes...), recorder: record.NewFakeRecorder(100)}
	if opts.ClusterCIDRs == nil {
		opts.ClusterCIDRs = prefixes("10.244.0.0/16")
	}
	opts.Recorder, opts.Logger, opts.Clock = f.recorder, f.Logger, f.Clock
	c, err := New(f.Client, f.Informers.Core().V1().Nodes(), opts)
	if err != nil {
		t.Fatal(err)
	}
	f.c = c
	return f
}

// patched returns the podCIDRs the recorded patch of the node named name
// set, failing the test when there is none or it is not upstream's.
func (f *fixture) patched(name string) []string {
	f.T.Helper()
	for _, a := range f.Actions() {
		p, ok := a.(k8stesting.PatchAction)
		if !ok || p.GetName() != name {
			continue
		}
		if p.GetPatchType() != "application/strategic-merge-patch+json" {
			f.T.Errorf("patch type %s", p.GetPatchType())
		}
		var body struct {
			Spec struct {
				PodCIDR  string   `json:"podCIDR"`
				PodCIDRs []string `json:"podCIDRs"`
			} `json:"spec"`
		}
		if err := json.Unmarshal(p.GetPatch(), &body); err != nil {
			f.T.Fatal(err)
		}
		if len(body.Spec.PodCIDRs) == 0 || body.Spec.PodCIDR != body.Spec.PodCIDRs[0] {
			f.T.Errorf("patch %s", p.GetPatch())
		}
		return body.Spec.PodCIDRs
	}
	f.T.Fatalf("no patch of node %s in %v", name, f.Actions())
	return nil
}

// syncNew adds a Node without a range to the cache and the API, syncs it,
// and returns the range it was given.
func (f *fixture) syncNew(name string) string {
	f.T.Helper()
	f.Seed(node(name))
	f.ClearActions()
	f.MustSync(f.c.sync, name)
	got := f.patched(name)
	if len(got) != 1 {
		f.T.Fatalf("node %s got %v", name, got)
	}
	// As the informer would see it.
	f.SeedCache(node(name, got[0]))
	return got[0]
}

func (f *fixture) expectEvents(want ...string) {
	f.T.Helper()
	var got []string
	for len(f.recorder.Events) > 0 {
		got = append(got, <-f.recorder.Events)
	}
	if !slices.Equal(got, want) {
		f.T.Errorf("events %q, want %q", got, want)
	}
}

// TestSyncAllocatesInOrder: Nodes get the /24s of the cluster CIDR in the
// order they are synced, through one strategic merge patch each.
func TestSyncAllocatesInOrder(t *testing.T) {
	f := newFixture(t, Options{})
	for i, want := range []string{"10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"} {
		name := []string{"kinc-control-plane", "kinc-worker", "kinc-worker2"}[i]
		if got := f.syncNew(name); got != want {
			t.Errorf("%s got %s, want %s", name, got, want)
		}
		f.ExpectActions(controllertest.Action{Verb: "patch", Resource: "nodes", Name: name})
	}
	// The stored Nodes hold both fields.
	n, err := f.Client.CoreV1().Nodes().Get(f.Ctx, "kinc-worker", metav1.GetOptions{})
	if err != nil || n.Spec.PodCIDR != "10.244.1.0/24" || !slices.Equal(n.Spec.PodCIDRs, []string{"10.244.1.0/24"}) {
		t.Errorf("stored node: %+v, %v", n.Spec, err)
	}
	f.expectEvents()
}

// TestSyncKeepsExistingRanges: the ranges Nodes hold when the controller
// starts are never given again, whichever Node syncs first; a Node with a
// range is not written to.
func TestSyncKeepsExistingRanges(t *testing.T) {
	f := newFixture(t, Options{}, node("a", "10.244.0.0/24"), node("c", "10.244.2.0/24"))
	if got := f.syncNew("b"); got != "10.244.1.0/24" {
		t.Errorf("b got %s, want the free 10.244.1.0/24", got)
	}
	if got := f.syncNew("d"); got != "10.244.3.0/24" {
		t.Errorf("d got %s, want 10.244.3.0/24", got)
	}
	f.ClearActions()
	f.MustSync(f.c.sync, "a")
	f.MustSync(f.c.sync, "c")
	f.ExpectActions()
}

// TestSyncStartsInCreationOrder: Nodes found without a range at the start
// get them in creation order (then by name), whichever syncs first.
func TestSyncStartsInCreationOrder(t *testing.T) {
	at := func(n *corev1.Node, s int) *corev1.Node {
		n.CreationTimestamp = metav1.NewTime(controllertest.Epoch().Add(time.Duration(s) * time.Second))
		return n
	}
	f := newFixture(t, Options{}, at(node("kinc-worker2"), 1), at(node("kinc-worker"), 1), at(node("kinc-control-plane"), 0),
		at(node("old", "10.244.0.0/24"), 0))
	for _, name := range []string{"kinc-worker2", "kinc-worker", "kinc-control-plane"} {
		f.MustSync(f.c.sync, name)
	}
	for name, want := range map[string]string{"kinc-control-plane": "10.244.1.0/24", "kinc-worker": "10.244.2.0/24", "kinc-worker2": "10.244.3.0/24"} {
		if got := f.patched(name); !slices.Equal(got, []string{want}) {
			t.Errorf("%s got %v, want %s", name, got, want)
		}
	}
}

// TestSyncReleasesDeletedNode: a deleted Node's range goes to the next
// Node without one.
func TestSyncReleasesDeletedNode(t *testing.T) {
	f := newFixture(t, Options{}, node("a", "10.244.0.0/24"), node("b", "10.244.1.0/24"))
	f.MustSync(f.c.sync, "a")
	if err := f.Informers.Core().V1().Nodes().Informer().GetIndexer().Delete(node("a")); err != nil {
		t.Fatal(err)
	}
	f.MustSync(f.c.sync, "a")
	if got := f.syncNew("c"); got != "10.244.0.0/24" {
		t.Errorf("c got %s, want the deleted a's 10.244.0.0/24", got)
	}
	if got := f.syncNew("d"); got != "10.244.2.0/24" {
		t.Errorf("d got %s, want 10.244.2.0/24", got)
	}
}

// TestSyncSkipsServiceRange: node CIDRs overlapping the service range are
// never given.
func TestSyncSkipsServiceRange(t *testing.T) {
	f := newFixture(t, Options{ClusterCIDRs: prefixes("10.96.0.0/15"), ServiceCIDRs: prefixes("10.96.0.0/16", "fd00:10:96::/108")})
	if got := f.syncNew("a"); got != "10.97.0.0/24" {
		t.Errorf("a got %s, want 10.97.0.0/24, past the service range", got)
	}
}

// TestSyncFullRange: with every node CIDR taken, the Node gets upstream's
// CIDRNotAvailable event and the sync fails (retried with backoff); once
// a Node is deleted, the retry succeeds.
func TestSyncFullRange(t *testing.T) {
	f := newFixture(t, Options{ClusterCIDRs: prefixes("10.244.0.0/23")}, node("a", "10.244.0.0/24"), node("b", "10.244.1.0/24"), node("c"))
	if err := f.Sync(f.c.sync, "c"); err == nil || !errors.Is(err, ErrNoCIDRsRemaining) {
		t.Fatalf("sync of a node past the range: %v", err)
	}
	f.ExpectActions()
	f.expectEvents("Normal CIDRNotAvailable Node c status is now: CIDRNotAvailable")
	if err := f.Informers.Core().V1().Nodes().Informer().GetIndexer().Delete(node("b")); err != nil {
		t.Fatal(err)
	}
	f.MustSync(f.c.sync, "b")
	f.MustSync(f.c.sync, "c")
	if got := f.patched("c"); !slices.Equal(got, []string{"10.244.1.0/24"}) {
		t.Errorf("c got %v", got)
	}
}

// TestSyncRangeOutsideClusterCIDR: a Node holding a range the controller
// does not allocate gets one Warning event and no write, and does not
// fail the sync; its range is not counted.
func TestSyncRangeOutsideClusterCIDR(t *testing.T) {
	f := newFixture(t, Options{}, node("odd", "192.168.7.0/24"), node("bad", "not-a-cidr"))
	f.MustSync(f.c.sync, "odd")
	f.MustSync(f.c.sync, "odd") // a status heartbeat: not reported again
	f.MustSync(f.c.sync, "bad")
	f.ExpectActions()
	f.expectEvents(
		"Warning PodCIDROutOfRange Node odd has pod CIDRs 192.168.7.0/24, which the node IPAM controller does not allocate: CIDR 192.168.7.0/24 is out of the range of cluster CIDR 10.244.0.0/16",
		`Warning PodCIDROutOfRange Node bad has pod CIDRs not-a-cidr, which the node IPAM controller does not allocate: pod CIDR "not-a-cidr": netip.ParsePrefix("not-a-cidr"): no '/'`)
	if got := f.syncNew("next"); got != "10.244.0.0/24" {
		t.Errorf("next got %s", got)
	}
}

// TestSyncDualStack: one range per family, in cluster CIDR order.
func TestSyncDualStack(t *testing.T) {
	f := newFixture(t, Options{ClusterCIDRs: prefixes("10.244.0.0/16", "fd00:10:244::/56")}, node("a", "10.244.0.0/24", "fd00:10:244::/64"), node("b"))
	f.MustSync(f.c.sync, "b")
	if got := f.patched("b"); !slices.Equal(got, []string{"10.244.1.0/24", "fd00:10:244:1::/64"}) {
		t.Errorf("b got %v", got)
	}
}

// TestSyncFailedWriteKeepsReservation: a failed patch gets
// CIDRAssignmentFailed and an error; the retry writes the same range
// (not a second one), and no other Node gets it meanwhile.
func TestSyncFailedWriteKeepsReservation(t *testing.T) {
	f := newFixture(t, Options{}, node("a"))
	fail := true
	f.Client.PrependReactor("patch", "nodes", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if fail && a.(k8stesting.PatchAction).GetName() == "a" {
			return true, nil, errors.New("apiserver unavailable")
		}
		return false, nil, nil
	})
	if err := f.Sync(f.c.sync, "a"); err == nil {
		t.Fatal("failed patch: no error")
	}
	f.expectEvents("Normal CIDRAssignmentFailed Node a status is now: CIDRAssignmentFailed")
	if got := f.syncNew("b"); got != "10.244.1.0/24" {
		t.Errorf("b got %s while a's write was pending", got)
	}
	fail = false
	f.ClearActions()
	f.MustSync(f.c.sync, "a")
	if got := f.patched("a"); !slices.Equal(got, []string{"10.244.0.0/24"}) {
		t.Errorf("retry wrote %v", got)
	}
}

// TestSyncNodeBeingDeleted: as upstream, a Node being deleted gets no range.
func TestSyncNodeBeingDeleted(t *testing.T) {
	n := node("a")
	n.DeletionTimestamp = &metav1.Time{Time: controllertest.Epoch()}
	n.Finalizers = []string{"example.com/hold"}
	f := newFixture(t, Options{}, n)
	f.MustSync(f.c.sync, "a")
	f.ExpectActions()
}

// TestNewRefusesBadCIDRs: no cluster CIDR, two of one family, node CIDRs
// that do not fit.
func TestNewRefusesBadCIDRs(t *testing.T) {
	f := controllertest.New(t)
	for _, opts := range []Options{
		{},
		{ClusterCIDRs: prefixes("10.244.0.0/16", "10.245.0.0/16")},
		{ClusterCIDRs: prefixes("10.244.0.0/16"), NodeCIDRMaskSize: 8},
	} {
		if _, err := New(f.Client, f.Informers.Core().V1().Nodes(), opts); err == nil {
			t.Errorf("New(%+v): no error", opts)
		}
	}
}
