package kubeletconfig

import (
	"net"
	"path"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Validate checks a defaulted configuration and reports every problem at
// once, each with its field path (apimachinery's field.Error wording, e.g.
// `nodeStatusUpdateFrequency: Invalid value: "-10s": must be greater than
// or equal to 0`). It rejects what would make the kubelet misbehave (a
// negative period spins its loops) and what kinc's kubelet does not
// implement. A zero period never reaches it: Default replaces it.
func Validate(c *KubeletConfiguration) error {
	return ValidateFields(c).ToAggregate()
}

// ValidateFields is Validate's list of errors.
func ValidateFields(c *KubeletConfiguration) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, validateIP(field.NewPath("address"), c.Address)...)
	errs = append(errs, validatePort(field.NewPath("port"), c.Port, false)...)
	errs = append(errs, validateIP(field.NewPath("healthzBindAddress"), c.HealthzBindAddress)...)
	if c.HealthzPort != nil {
		errs = append(errs, validatePort(field.NewPath("healthzPort"), *c.HealthzPort, true)...)
	}

	for _, d := range []struct {
		name string
		d    metav1.Duration
	}{
		{"fileCheckFrequency", c.FileCheckFrequency},
		{"nodeStatusUpdateFrequency", c.NodeStatusUpdateFrequency},
		{"nodeStatusReportFrequency", c.NodeStatusReportFrequency},
		{"syncFrequency", c.SyncFrequency},
	} {
		if d.d.Duration < 0 {
			errs = append(errs, field.Invalid(field.NewPath(d.name), d.d.Duration.String(), "must be greater than or equal to 0"))
		}
	}
	if c.NodeLeaseDurationSeconds <= 0 {
		errs = append(errs, field.Invalid(field.NewPath("nodeLeaseDurationSeconds"), c.NodeLeaseDurationSeconds, "must be greater than 0"))
	}
	if c.MaxPods < 0 {
		errs = append(errs, field.Invalid(field.NewPath("maxPods"), c.MaxPods, "must be greater than or equal to 0"))
	}

	if c.PodCIDR != "" {
		if _, _, err := net.ParseCIDR(c.PodCIDR); err != nil {
			errs = append(errs, field.Invalid(field.NewPath("podCIDR"), c.PodCIDR, "must be a valid CIDR (e.g. 10.244.1.0/24)"))
		}
	}
	for i, ip := range c.ClusterDNS {
		errs = append(errs, validateIP(field.NewPath("clusterDNS").Index(i), ip)...)
	}
	for _, msg := range validation.IsDNS1123Subdomain(c.ClusterDomain) {
		errs = append(errs, field.Invalid(field.NewPath("clusterDomain"), c.ClusterDomain, msg))
	}
	for _, p := range []struct{ name, value string }{
		{"podLogsDir", c.PodLogsDir},
		{"resolvConf", c.ResolvConf},
		{"cgroupRoot", c.CgroupRoot},
	} {
		if !path.IsAbs(p.value) {
			errs = append(errs, field.Invalid(field.NewPath(p.name), p.value, "must be an absolute path"))
		}
	}

	if c.CgroupDriver != "cgroupfs" && c.CgroupDriver != "systemd" {
		errs = append(errs, field.NotSupported(field.NewPath("cgroupDriver"), c.CgroupDriver, []string{"cgroupfs", "systemd"}))
	}
	switch c.Authorization.Mode {
	case AuthorizationModeAlwaysAllow, AuthorizationModeWebhook:
	default:
		errs = append(errs, field.NotSupported(field.NewPath("authorization", "mode"), c.Authorization.Mode, []string{AuthorizationModeAlwaysAllow, AuthorizationModeWebhook}))
	}
	for _, d := range []struct {
		path *field.Path
		d    metav1.Duration
	}{
		{field.NewPath("authentication", "webhook", "cacheTTL"), c.Authentication.Webhook.CacheTTL},
		{field.NewPath("authorization", "webhook", "cacheAuthorizedTTL"), c.Authorization.Webhook.CacheAuthorizedTTL},
		{field.NewPath("authorization", "webhook", "cacheUnauthorizedTTL"), c.Authorization.Webhook.CacheUnauthorizedTTL},
	} {
		if d.d.Duration < 0 {
			errs = append(errs, field.Invalid(d.path, d.d.Duration.String(), "must be greater than or equal to 0"))
		}
	}
	errs = append(errs, validateEvictionHard(field.NewPath("evictionHard"), c.EvictionHard)...)
	return errs
}

func validateIP(p *field.Path, s string) field.ErrorList {
	if net.ParseIP(s) == nil {
		return field.ErrorList{field.Invalid(p, s, "must be a valid IP address")}
	}
	return nil
}

// validatePort checks 1-65535, or 0 too when zero disables the listener.
func validatePort(p *field.Path, port int32, zeroDisables bool) field.ErrorList {
	if port == 0 && zeroDisables {
		return nil
	}
	if msgs := validation.IsValidPortNum(int(port)); len(msgs) > 0 {
		return field.ErrorList{field.Invalid(p, port, msgs[0])}
	}
	return nil
}
