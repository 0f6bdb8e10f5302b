package poddisruptionbudget

import (
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes policy/v1 poddisruptionbudgets.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"), Name: "poddisruptionbudgets", Singular: "poddisruptionbudget",
		ShortNames: []string{"pdb"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/poddisruptionbudgets",
		NewFunc: func() runtime.Object { return &policyv1.PodDisruptionBudget{} }, NewList: func() runtime.Object { return &policyv1.PodDisruptionBudgetList{} },
		Strategy:       NewStrategy(),
		StatusStrategy: NewStatusStrategy(),
		Table:          printers.PodDisruptionBudgets(),
	}
}
