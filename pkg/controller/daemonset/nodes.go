package daemonset

import (
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework/plugins/helper"
)

// Labels and annotations of upstream's DaemonSets.
const (
	// TemplateGenerationAnnotation is where the apiserver keeps a
	// DaemonSet's template generation (apps/v1 has no field for it).
	TemplateGenerationAnnotation = appsv1.DeprecatedTemplateGeneration
	// TemplateGenerationLabel is the pod label naming the template
	// generation a pod was made from.
	TemplateGenerationLabel = "pod-template-generation"
	// HashLabel is the pod and ControllerRevision label naming the
	// revision a pod was made from.
	HashLabel = appsv1.DefaultDaemonSetUniqueLabelKey
)

// templateGeneration reads the template generation annotation; nil when
// absent or malformed.
func templateGeneration(ds *appsv1.DaemonSet) *int64 {
	v, ok := ds.Annotations[TemplateGenerationAnnotation]
	if !ok {
		return nil
	}
	g, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &g
}

// addOrUpdateToleration puts t into spec's tolerations, replacing the one
// with the same key, operator, value and effect (upstream's
// AddOrUpdateTolerationInPodSpec).
func addOrUpdateToleration(spec *corev1.PodSpec, t corev1.Toleration) {
	for i := range spec.Tolerations {
		if spec.Tolerations[i].MatchToleration(&t) {
			spec.Tolerations[i] = t
			return
		}
	}
	spec.Tolerations = append(spec.Tolerations, t)
}

// AddDaemonTolerations adds the tolerations upstream gives every daemon
// pod: not-ready and unreachable NoExecute (node problems never evict
// it), disk-, memory- and pid-pressure and unschedulable NoSchedule, and
// network-unavailable NoSchedule for host-network pods.
func AddDaemonTolerations(spec *corev1.PodSpec) {
	exists := func(key string, effect corev1.TaintEffect) corev1.Toleration {
		return corev1.Toleration{Key: key, Operator: corev1.TolerationOpExists, Effect: effect}
	}
	addOrUpdateToleration(spec, exists(corev1.TaintNodeNotReady, corev1.TaintEffectNoExecute))
	addOrUpdateToleration(spec, exists(corev1.TaintNodeUnreachable, corev1.TaintEffectNoExecute))
	addOrUpdateToleration(spec, exists(corev1.TaintNodeDiskPressure, corev1.TaintEffectNoSchedule))
	addOrUpdateToleration(spec, exists(corev1.TaintNodeMemoryPressure, corev1.TaintEffectNoSchedule))
	addOrUpdateToleration(spec, exists(corev1.TaintNodePIDPressure, corev1.TaintEffectNoSchedule))
	addOrUpdateToleration(spec, exists(corev1.TaintNodeUnschedulable, corev1.TaintEffectNoSchedule))
	if spec.HostNetwork {
		addOrUpdateToleration(spec, exists(corev1.TaintNodeNetworkUnavailable, corev1.TaintEffectNoSchedule))
	}
}

// podTemplate returns the template daemon pods are made from: ds's, with
// the daemon tolerations, the template generation label (when known) and
// the revision hash label.
func podTemplate(ds *appsv1.DaemonSet, hash string) *corev1.PodTemplateSpec {
	t := ds.Spec.Template.DeepCopy()
	AddDaemonTolerations(&t.Spec)
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	if g := templateGeneration(ds); g != nil {
		t.Labels[TemplateGenerationLabel] = fmt.Sprint(*g)
	}
	if hash != "" {
		t.Labels[HashLabel] = hash
	}
	return t
}

// nodeNameAffinity returns affinity with its required node affinity
// replaced by one term matching the field metadata.name == nodeName
// (upstream's ReplaceDaemonSetPodNodeNameNodeAffinity): the scheduler
// binds the pod to that node. Preferred terms and pod (anti-)affinity are
// kept.
func nodeNameAffinity(affinity *corev1.Affinity, nodeName string) *corev1.Affinity {
	sel := &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{{
		MatchFields: []corev1.NodeSelectorRequirement{{Key: metav1.ObjectNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{nodeName}}},
	}}}
	if affinity == nil {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: sel}}
	}
	if affinity.NodeAffinity == nil {
		affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = sel
	return affinity
}

// targetNodeName returns the node a daemon pod is for: its nodeName, or
// the single metadata.name value of its required node affinity.
func targetNodeName(pod *corev1.Pod) (string, error) {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName, nil
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return "", fmt.Errorf("no spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution for pod %s/%s", pod.Namespace, pod.Name)
	}
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		for _, exp := range term.MatchFields {
			if exp.Key == metav1.ObjectNameField && exp.Operator == corev1.NodeSelectorOpIn {
				if len(exp.Values) != 1 {
					return "", fmt.Errorf("the matchFields value of '%s' is not unique for pod %s/%s", metav1.ObjectNameField, pod.Namespace, pod.Name)
				}
				return exp.Values[0], nil
			}
		}
	}
	return "", fmt.Errorf("no node name found for pod %s/%s", pod.Namespace, pod.Name)
}

// shouldRun is upstream's NodeShouldRunDaemonPod: shouldRun says a daemon
// pod should be created on node; shouldContinue says an existing one may
// stay (a node tainted NoSchedule keeps its pod; NoExecute does not).
func shouldRun(node *corev1.Node, ds *appsv1.DaemonSet) (run, cont bool) {
	spec := &ds.Spec.Template.Spec
	if spec.NodeName != "" && spec.NodeName != node.Name {
		return false, false
	}
	// Only what the predicates read; the tolerations slice is copied as
	// AddDaemonTolerations appends to it.
	pod := &corev1.Pod{Spec: corev1.PodSpec{NodeName: node.Name, NodeSelector: spec.NodeSelector, Affinity: spec.Affinity,
		HostNetwork: spec.HostNetwork, Tolerations: append([]corev1.Toleration(nil), spec.Tolerations...)}}
	AddDaemonTolerations(&pod.Spec)
	if !helper.PodMatchesNodeSelectorAndAffinityTerms(pod, node) {
		return false, false
	}
	if _, untolerated := helper.FindUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, helper.DoNotScheduleTaints); untolerated {
		_, noExecute := helper.FindUntoleratedTaint(node.Spec.Taints, pod.Spec.Tolerations, func(t *corev1.Taint) bool {
			return t.Effect == corev1.TaintEffectNoExecute
		})
		return false, !noExecute
	}
	return true, true
}

// isPodUpdated reports whether pod was made from the current revision
// (hash) or template generation.
func isPodUpdated(pod *corev1.Pod, hash string, generation *int64) bool {
	genMatches := generation != nil && pod.Labels[TemplateGenerationLabel] == fmt.Sprint(*generation)
	hashMatches := hash != "" && pod.Labels[HashLabel] == hash
	return hashMatches || genMatches
}

// surgeCount and unavailableCount scale the rolling update's maxSurge and
// maxUnavailable to n nodes (rounding up); 0 when not RollingUpdate.
func surgeCount(ds *appsv1.DaemonSet, n int) (int, error) {
	r := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || r == nil || r.MaxSurge == nil {
		return 0, nil
	}
	return intstr.GetScaledValueFromIntOrPercent(r.MaxSurge, n, true)
}

func unavailableCount(ds *appsv1.DaemonSet, n int) (int, error) {
	r := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || r == nil || r.MaxUnavailable == nil {
		return 0, nil
	}
	return intstr.GetScaledValueFromIntOrPercent(r.MaxUnavailable, n, true)
}

func allowsSurge(ds *appsv1.DaemonSet) bool {
	n, err := surgeCount(ds, 1)
	return err == nil && n > 0
}
