package podsecurity

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"
)

// maxPodsToCheck bounds the pods a namespace's new enforce level is
// checked against, as upstream's default.
const maxPodsToCheck = 3000

// warnExistingPods warns, when a namespace update tightens its enforce
// level, about the existing pods the new level would refuse, in
// upstream's words: one line for the namespace, then one per distinct
// violation naming a pod (and how many others share it).
func (p *Plugin) warnExistingPods(ctx context.Context, ns string, oldPolicy, newPolicy psaapi.Policy) []string {
	if newPolicy.Enforce == oldPolicy.Enforce || newPolicy.Enforce.Level == psaapi.LevelPrivileged ||
		(newPolicy.Enforce.Version == oldPolicy.Enforce.Version && psaapi.CompareLevels(newPolicy.Enforce.Level, oldPolicy.Enforce.Level) < 1) {
		return nil
	}
	if p.pods == nil {
		return nil
	}
	obj, err := p.pods().List(ctx, ns, &metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return []string{"failed to list pods while checking new PodSecurity enforce level"}
	}
	pods := prioritize(obj.(*corev1.PodList).Items)
	total := len(pods)
	if len(pods) > maxPodsToCheck {
		pods = pods[:maxPodsToCheck]
	}
	type count struct {
		pod string
		n   int
	}
	counts := map[string]*count{}
	var reasons []string
	for _, pod := range pods {
		r := policy.AggregateCheckResults(p.evaluator.EvaluatePod(newPolicy.Enforce, &pod.ObjectMeta, &pod.Spec))
		if r.Allowed {
			continue
		}
		reason := r.ForbiddenReason()
		c, seen := counts[reason]
		if !seen {
			c = &count{pod: pod.Name}
			counts[reason] = c
			reasons = append(reasons, reason)
		} else if pod.Name < c.pod {
			c.pod = pod.Name
		}
		c.n++
	}
	var warnings []string
	if len(pods) < total {
		warnings = append(warnings, fmt.Sprintf("new PodSecurity enforce level only checked against the first %d of %d existing pods", len(pods), total))
	}
	if len(reasons) > 0 {
		warnings = append(warnings, fmt.Sprintf("existing pods in namespace %q violate the new PodSecurity enforce level %q", ns, newPolicy.Enforce.String()))
	}
	for i, reason := range reasons {
		switch c := counts[reason]; c.n {
		case 1:
			reasons[i] = fmt.Sprintf("%s: %s", c.pod, reason)
		case 2:
			reasons[i] = fmt.Sprintf("%s (and 1 other pod): %s", c.pod, reason)
		default:
			reasons[i] = fmt.Sprintf("%s (and %d other pods): %s", c.pod, c.n-1, reason)
		}
	}
	sort.Strings(reasons)
	return append(warnings, reasons...)
}

// prioritize puts one pod per controller (and every pod without one)
// before the other replicas, as upstream, so the first maxPodsToCheck
// cover the most workloads.
func prioritize(items []corev1.Pod) []*corev1.Pod {
	var first, rest []*corev1.Pod
	seen := map[types.UID]bool{}
	for i := range items {
		pod := &items[i]
		ref := metav1.GetControllerOfNoCopy(pod)
		switch {
		case ref == nil:
			first = append(first, pod)
		case seen[ref.UID]:
			rest = append(rest, pod)
		default:
			seen[ref.UID] = true
			first = append(first, pod)
		}
	}
	return append(first, rest...)
}
