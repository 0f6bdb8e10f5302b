package cronjob

import (
	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kinc-dev/kinc/pkg/apiserver/printers"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

// Resource describes batch/v1 cronjobs.
func Resource(_ registry.Deps) registry.Resource {
	return registry.Resource{
		GVK: batchv1.SchemeGroupVersion.WithKind("CronJob"), Name: "cronjobs", Singular: "cronjob",
		ShortNames: []string{"cj"}, Categories: []string{"all"}, Namespaced: true,
		Verbs: registry.AllVerbs, KeyRoot: "/cronjobs",
		NewFunc: func() runtime.Object { return &batchv1.CronJob{} }, NewList: func() runtime.Object { return &batchv1.CronJobList{} },
		Strategy:       NewStrategy(),
		StatusStrategy: NewStatusStrategy(),
		Table:          printers.CronJobs(),
	}
}
