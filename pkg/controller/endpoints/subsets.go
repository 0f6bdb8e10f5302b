package endpoints

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/types"
)

// addressKey identifies an address across subsets: two pods may share an
// IP (host network), so the target's uid is part of it.
type addressKey struct {
	ip  string
	uid types.UID
}

func keyOf(a *corev1.EndpointAddress) addressKey {
	k := addressKey{ip: a.IP}
	if a.TargetRef != nil {
		k.uid = a.TargetRef.UID
	}
	return k
}

// noPort stands for "no ports" (a headless Service without ports) while
// repacking.
var noPort = corev1.EndpointPort{Port: -1}

// RepackSubsets returns subsets in their canonical layout, as upstream's
// RepackSubsets: each distinct set of (address, ready) pairs once, with
// every port that exactly this set offers. An address not ready on a port
// anywhere is not ready on it. Addresses are sorted by IP then target uid,
// ports by name, port and protocol, and subsets by their first port then
// first address, so that two layouts of the same endpoints compare equal.
// subsets is not modified.
func RepackSubsets(subsets []corev1.EndpointSubset) []corev1.EndpointSubset {
	addrs := map[addressKey]*corev1.EndpointAddress{}
	byPort := map[corev1.EndpointPort]map[addressKey]bool{} // port → address → ready
	add := func(list []corev1.EndpointAddress, ready bool, ports []corev1.EndpointPort) {
		for i := range list {
			k := keyOf(&list[i])
			if addrs[k] == nil {
				addrs[k] = list[i].DeepCopy()
			}
			for _, p := range ports {
				if byPort[p] == nil {
					byPort[p] = map[addressKey]bool{}
				}
				if wasReady, seen := byPort[p][k]; !seen || wasReady {
					byPort[p][k] = ready
				}
			}
		}
	}
	for i := range subsets {
		ports := subsets[i].Ports
		if len(ports) == 0 {
			ports = []corev1.EndpointPort{noPort}
		}
		add(subsets[i].Addresses, true, ports)
		add(subsets[i].NotReadyAddresses, false, ports)
	}

	// Group the ports by their exact (address, ready) set.
	type group struct {
		set   map[addressKey]bool
		ports []corev1.EndpointPort
	}
	groups := map[string]*group{}
	for p, set := range byPort {
		id := setID(set)
		g := groups[id]
		if g == nil {
			g = &group{set: set}
			groups[id] = g
		}
		if p != noPort {
			g.ports = append(g.ports, p)
		}
	}
	out := make([]corev1.EndpointSubset, 0, len(groups))
	for _, g := range groups {
		var ss corev1.EndpointSubset
		for k, ready := range g.set {
			if ready {
				ss.Addresses = append(ss.Addresses, *addrs[k])
			} else {
				ss.NotReadyAddresses = append(ss.NotReadyAddresses, *addrs[k])
			}
		}
		slices.SortFunc(ss.Addresses, compareAddresses)
		slices.SortFunc(ss.NotReadyAddresses, compareAddresses)
		slices.SortFunc(g.ports, comparePorts)
		ss.Ports = g.ports
		out = append(out, ss)
	}
	slices.SortFunc(out, compareSubsets)
	return out
}

// setID is a canonical string of an (address, ready) set.
func setID(set map[addressKey]bool) string {
	parts := make([]string, 0, len(set))
	for k, ready := range set {
		parts = append(parts, k.ip+"/"+string(k.uid)+"/"+strconv.FormatBool(ready))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func compareAddresses(a, b corev1.EndpointAddress) int {
	return cmp.Or(cmp.Compare(a.IP, b.IP), cmp.Compare(keyOf(&a).uid, keyOf(&b).uid))
}

func comparePorts(a, b corev1.EndpointPort) int {
	return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Port, b.Port), cmp.Compare(a.Protocol, b.Protocol),
		cmp.Compare(ptrString(a.AppProtocol), ptrString(b.AppProtocol)))
}

func compareSubsets(a, b corev1.EndpointSubset) int {
	first := func(ss corev1.EndpointSubset) (corev1.EndpointPort, corev1.EndpointAddress) {
		var p corev1.EndpointPort
		var addr corev1.EndpointAddress
		if len(ss.Ports) > 0 {
			p = ss.Ports[0]
		}
		if len(ss.Addresses) > 0 {
			addr = ss.Addresses[0]
		} else if len(ss.NotReadyAddresses) > 0 {
			addr = ss.NotReadyAddresses[0]
		}
		return p, addr
	}
	pa, aa := first(a)
	pb, ab := first(b)
	return cmp.Or(comparePorts(pa, pb), compareAddresses(aa, ab), cmp.Compare(len(a.Ports), len(b.Ports)))
}

func ptrString(s *string) string {
	if s == nil {
		return ""
	}
	return "\x00" + *s // a set empty string sorts after unset
}

// subsetsEqual compares two canonical subset lists, ignoring the
// resourceVersion of target references (a pod's unrelated update must not
// rewrite its Endpoints).
func subsetsEqual(a, b []corev1.EndpointSubset) bool {
	return equality.Semantic.DeepEqual(withoutTargetVersions(a), withoutTargetVersions(b))
}

func withoutTargetVersions(subsets []corev1.EndpointSubset) []corev1.EndpointSubset {
	out := make([]corev1.EndpointSubset, len(subsets))
	strip := func(list []corev1.EndpointAddress) []corev1.EndpointAddress {
		if list == nil {
			return nil
		}
		c := make([]corev1.EndpointAddress, len(list))
		for i, a := range list {
			if a.TargetRef != nil && a.TargetRef.ResourceVersion != "" {
				ref := *a.TargetRef
				ref.ResourceVersion = ""
				a.TargetRef = &ref
			}
			c[i] = a
		}
		return c
	}
	for i, ss := range subsets {
		out[i] = corev1.EndpointSubset{Addresses: strip(ss.Addresses), NotReadyAddresses: strip(ss.NotReadyAddresses), Ports: ss.Ports}
	}
	return out
}

// MaxCapacity is the number of addresses past which an Endpoints object is
// truncated and annotated endpoints.kubernetes.io/over-capacity=truncated.
const MaxCapacity = 1000

// countAddresses returns the number of ready and not ready addresses.
func countAddresses(subsets []corev1.EndpointSubset) (ready, notReady int) {
	for _, ss := range subsets {
		ready += len(ss.Addresses)
		notReady += len(ss.NotReadyAddresses)
	}
	return ready, notReady
}

// truncate keeps at most MaxCapacity addresses, as upstream: ready ones
// first; the kind being cut is shared among the subsets in proportion to
// what each holds (rounded up, so the last ones may get less). When the
// ready addresses alone are too many, every not ready address goes. A
// subset left without addresses is dropped (the API refuses it). It
// returns the subsets kept and whether it cut anything.
func truncate(subsets []corev1.EndpointSubset) ([]corev1.EndpointSubset, bool) {
	ready, notReady := countAddresses(subsets)
	if ready+notReady <= MaxCapacity {
		return subsets, false
	}
	cutReady := ready > MaxCapacity
	budget, total := MaxCapacity-ready, notReady
	if cutReady {
		budget, total = MaxCapacity, ready
	}
	left := budget
	for i := range subsets {
		ss := &subsets[i]
		n := len(ss.NotReadyAddresses)
		if cutReady {
			n = len(ss.Addresses)
		}
		share := min(int(math.Ceil(float64(n)/float64(total)*float64(budget))), left)
		if cutReady {
			ss.Addresses = ss.Addresses[:min(share, len(ss.Addresses))]
			ss.NotReadyAddresses = []corev1.EndpointAddress{}
			left -= len(ss.Addresses)
		} else {
			ss.NotReadyAddresses = ss.NotReadyAddresses[:min(share, len(ss.NotReadyAddresses))]
			left -= len(ss.NotReadyAddresses)
		}
	}
	return slices.DeleteFunc(subsets, func(ss corev1.EndpointSubset) bool {
		return len(ss.Addresses)+len(ss.NotReadyAddresses) == 0
	}), true
}
