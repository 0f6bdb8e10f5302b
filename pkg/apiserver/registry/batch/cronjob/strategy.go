package cronjob

import (
	"context"

	batchv1 "k8s.io/api/batch/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/batch/job"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/generic"
	"github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regutil"
)

func rules() generic.Rules[*batchv1.CronJob] {
	return generic.Rules[*batchv1.CronJob]{Default: SetDefaults, SpecStatus: true}
}

// strategy adds create- and update-specific validation to the generic
// spec/status strategy: some rules depend on the stored object (a time
// zone is checked only when it changes, TZ= is kept only where it was).
type strategy struct{ registry.Strategy }

// NewStrategy returns the strategy for writes to cronjobs.
func NewStrategy() registry.Strategy { return strategy{rules().Strategy()} }

// NewStatusStrategy returns the strategy for cronjobs/status: spec and
// generation are kept, and the status is not validated, as upstream.
func NewStatusStrategy() registry.Strategy { return rules().StatusStrategy() }

// Validate checks a new cronjob, including the 52-character name limit (the
// controller names its Jobs <name>-<11 digits>).
func (strategy) Validate(_ context.Context, obj runtime.Object) field.ErrorList {
	cj := regutil.Cast[*batchv1.CronJob](obj)
	errs := validateSpec(&cj.Spec, nil, field.NewPath("spec"))
	if len(cj.Name) > maxNameLength {
		errs = append(errs, field.Invalid(field.NewPath("metadata", "name"), cj.Name, "must be no more than 52 characters"))
	}
	return errs
}

// ValidateUpdate checks an updated cronjob; longer names stored before the
// limit existed stay updatable.
func (strategy) ValidateUpdate(_ context.Context, obj, old runtime.Object) field.ErrorList {
	cj, oldCJ := regutil.Cast[*batchv1.CronJob](obj), regutil.Cast[*batchv1.CronJob](old)
	return validateSpec(&cj.Spec, &oldCJ.Spec, field.NewPath("spec"))
}

// maxNameLength is a DNS label's 63 characters less the 11 of the
// "-<minutes since the epoch>" suffix of the Jobs the controller creates.
const maxNameLength = 63 - 11

// SetDefaults applies SetDefaults_CronJob and the defaults upstream gives a
// job template.
func SetDefaults(cj *batchv1.CronJob) {
	spec := &cj.Spec
	if spec.ConcurrencyPolicy == "" {
		spec.ConcurrencyPolicy = batchv1.AllowConcurrent
	}
	if spec.Suspend == nil {
		spec.Suspend = ptr.To(false)
	}
	if spec.SuccessfulJobsHistoryLimit == nil {
		spec.SuccessfulJobsHistoryLimit = ptr.To[int32](3)
	}
	if spec.FailedJobsHistoryLimit == nil {
		spec.FailedJobsHistoryLimit = ptr.To[int32](1)
	}
	job.SetTemplateDefaults(&spec.JobTemplate.Spec)
}
