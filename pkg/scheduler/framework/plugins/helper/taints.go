package helper

import (
	"github.com/go-logr/logr"
	v1 "k8s.io/api/core/v1"
)

// TolerationsTolerateTaint reports whether any toleration tolerates taint.
func TolerationsTolerateTaint(tolerations []v1.Toleration, taint *v1.Taint) bool {
	for i := range tolerations {
		if tolerations[i].ToleratesTaint(logr.Discard(), taint, true) {
			return true
		}
	}
	return false
}

// FindUntoleratedTaint returns the first taint whose effect passes
// inclusion and that no toleration tolerates.
func FindUntoleratedTaint(taints []v1.Taint, tolerations []v1.Toleration, include func(*v1.Taint) bool) (v1.Taint, bool) {
	for i := range taints {
		if include != nil && !include(&taints[i]) {
			continue
		}
		if !TolerationsTolerateTaint(tolerations, &taints[i]) {
			return taints[i], true
		}
	}
	return v1.Taint{}, false
}

// DoNotScheduleTaints selects NoSchedule and NoExecute taints: those the
// Filter honours.
func DoNotScheduleTaints(t *v1.Taint) bool {
	return t.Effect == v1.TaintEffectNoSchedule || t.Effect == v1.TaintEffectNoExecute
}
