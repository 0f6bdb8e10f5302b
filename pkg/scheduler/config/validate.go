package config

import (
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate checks a defaulted configuration (and the flags applied over
// it) and reports every problem at once, each with its field path in
// apimachinery's field.Error wording, e.g. `clientConnection.qps: Invalid
// value: -1: must be greater than or equal to 0`.
func Validate(cfg *KubeSchedulerConfiguration) error {
	return ValidateFields(cfg).ToAggregate()
}

// ValidateFields is Validate's list of errors.
func ValidateFields(cfg *KubeSchedulerConfiguration) field.ErrorList {
	var errs field.ErrorList
	if *cfg.Parallelism <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("parallelism"), *cfg.Parallelism, "must be greater than 0"))
	}
	if p := *cfg.PercentageOfNodesToScore; p < 0 || p > 100 {
		errs = append(errs, field.Invalid(field.NewPath("percentageOfNodesToScore"), p, "must be within [0, 100]"))
	}
	if b := *cfg.PodInitialBackoffSeconds; b <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("podInitialBackoffSeconds"), b, "must be greater than 0"))
	}
	if b := *cfg.PodMaxBackoffSeconds; b < *cfg.PodInitialBackoffSeconds {
		errs = append(errs, field.Invalid(field.NewPath("podMaxBackoffSeconds"), b, "must be greater than or equal to podInitialBackoffSeconds"))
	}
	errs = append(errs, validateLeaderElection(field.NewPath("leaderElection"), cfg.LeaderElection)...)
	errs = append(errs, validateClientConnection(field.NewPath("clientConnection"), cfg.ClientConnection)...)

	seen := map[string]bool{}
	for i := range cfg.Profiles {
		p := &cfg.Profiles[i]
		path := field.NewPath("profiles").Index(i)
		name := *p.SchedulerName
		switch {
		case name == "":
			errs = append(errs, field.Required(path.Child("schedulerName"), ""))
		case seen[name]:
			errs = append(errs, field.Duplicate(path.Child("schedulerName"), name))
		}
		seen[name] = true
		if _, err := Resolve(p, *cfg.PercentageOfNodesToScore); err != nil {
			errs = append(errs, field.Invalid(path, name, err.Error()))
		}
	}
	return errs
}

func validateLeaderElection(path *field.Path, le *LeaderElectionConfiguration) field.ErrorList {
	if !*le.LeaderElect {
		return nil
	}
	var errs field.ErrorList
	if le.ResourceLock != "leases" {
		errs = append(errs, field.NotSupported(path.Child("resourceLock"), le.ResourceLock, []string{"leases"}))
	}
	if le.RetryPeriod.Duration <= 0 {
		errs = append(errs, field.Invalid(path.Child("retryPeriod"), le.RetryPeriod.Duration.String(), "must be greater than 0"))
	}
	if le.RenewDeadline.Duration <= le.RetryPeriod.Duration {
		errs = append(errs, field.Invalid(path.Child("renewDeadline"), le.RenewDeadline.Duration.String(), "must be greater than retryPeriod"))
	}
	if le.LeaseDuration.Duration <= le.RenewDeadline.Duration {
		errs = append(errs, field.Invalid(path.Child("leaseDuration"), le.LeaseDuration.Duration.String(), "must be greater than renewDeadline"))
	}
	if le.ResourceName == "" {
		errs = append(errs, field.Required(path.Child("resourceName"), ""))
	}
	if le.ResourceNamespace == "" {
		errs = append(errs, field.Required(path.Child("resourceNamespace"), ""))
	}
	return errs
}

func validateClientConnection(path *field.Path, cc *ClientConnectionConfiguration) field.ErrorList {
	var errs field.ErrorList
	if cc.QPS < 0 {
		errs = append(errs, field.Invalid(path.Child("qps"), cc.QPS, "must be greater than or equal to 0"))
	}
	if cc.Burst < 0 {
		errs = append(errs, field.Invalid(path.Child("burst"), cc.Burst, "must be greater than or equal to 0"))
	}
	return errs
}
