package job

import (
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes batch/v1 jobs.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: batchv1.SchemeGroupVersion.WithKind("Job"), Name: "jobs", Singular: "job",
		Categories: []string{"all"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/jobs",
		NewFunc: func() runtime.Object { return &batchv1.Job{} }, NewList: func() runtime.Object { return &batchv1.JobList{} },
		Attrs: GetAttrs, Strategy: NewStrategy(),
		StatusStrategy: NewStatusStrategy(),
		Table:          printers.Jobs(),
	}
}
