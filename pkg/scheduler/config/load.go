package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// Load reads a configuration file (YAML or JSON), strictly: an unknown
// field, another apiVersion or kind is an error. The result is defaulted.
func Load(path string) (*KubeSchedulerConfiguration, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scheduler configuration: %w", err)
	}
	cfg, err := Decode(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// Decode parses and defaults a configuration document.
func Decode(data []byte) (*KubeSchedulerConfiguration, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("parsing scheduler configuration: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.DisallowUnknownFields()
	cfg := &KubeSchedulerConfiguration{}
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("decoding scheduler configuration: %w", err)
	}
	if cfg.APIVersion != APIVersion || cfg.Kind != Kind {
		return nil, fmt.Errorf("scheduler configuration must be apiVersion %s, kind %s (got %q, %q)", APIVersion, Kind, cfg.APIVersion, cfg.Kind)
	}
	SetDefaults(cfg)
	if err := Validate(cfg); err != nil {
		return nil, err
	}
	return cfg, nil
}

// Default returns the configuration used without --config.
func Default() *KubeSchedulerConfiguration {
	cfg := &KubeSchedulerConfiguration{TypeMeta: metav1.TypeMeta{APIVersion: APIVersion, Kind: Kind}}
	SetDefaults(cfg)
	return cfg
}

// SetDefaults fills unset fields with upstream's defaults, except the
// client content type: JSON, since kinc's apiserver does not serve
// protobuf.
func SetDefaults(cfg *KubeSchedulerConfiguration) {
	if cfg.Parallelism == nil {
		cfg.Parallelism = ptr.To[int32](16)
	}
	if cfg.PercentageOfNodesToScore == nil {
		cfg.PercentageOfNodesToScore = ptr.To[int32](0)
	}
	if cfg.PodInitialBackoffSeconds == nil {
		cfg.PodInitialBackoffSeconds = ptr.To[int64](1)
	}
	if cfg.PodMaxBackoffSeconds == nil {
		cfg.PodMaxBackoffSeconds = ptr.To[int64](10)
	}
	if cfg.LeaderElection == nil {
		cfg.LeaderElection = &LeaderElectionConfiguration{}
	}
	le := cfg.LeaderElection
	if le.LeaderElect == nil {
		le.LeaderElect = ptr.To(true)
	}
	setDuration(&le.LeaseDuration, 15*time.Second)
	setDuration(&le.RenewDeadline, 10*time.Second)
	setDuration(&le.RetryPeriod, 2*time.Second)
	setString(&le.ResourceLock, "leases")
	setString(&le.ResourceName, "kube-scheduler")
	setString(&le.ResourceNamespace, "kube-system")
	if cfg.ClientConnection == nil {
		cfg.ClientConnection = &ClientConnectionConfiguration{}
	}
	cc := cfg.ClientConnection
	setString(&cc.ContentType, "application/json")
	if cc.QPS == 0 {
		cc.QPS = 50
	}
	if cc.Burst == 0 {
		cc.Burst = 100
	}
	if len(cfg.Profiles) == 0 {
		cfg.Profiles = []Profile{{}}
	}
	for i := range cfg.Profiles {
		if cfg.Profiles[i].SchedulerName == nil {
			cfg.Profiles[i].SchedulerName = ptr.To(DefaultSchedulerName)
		}
	}
}

func setDuration(d *metav1.Duration, v time.Duration) {
	if d.Duration == 0 {
		d.Duration = v
	}
}

func setString(s *string, v string) {
	if *s == "" {
		*s = v
	}
}

// Validate checks what the scheduler relies on.
func Validate(cfg *KubeSchedulerConfiguration) error {
	if *cfg.Parallelism <= 0 {
		return fmt.Errorf("parallelism: must be greater than 0")
	}
	if p := *cfg.PercentageOfNodesToScore; p < 0 || p > 100 {
		return fmt.Errorf("percentageOfNodesToScore: must be within [0, 100]")
	}
	if *cfg.PodInitialBackoffSeconds <= 0 || *cfg.PodMaxBackoffSeconds < *cfg.PodInitialBackoffSeconds {
		return fmt.Errorf("podInitialBackoffSeconds must be > 0 and podMaxBackoffSeconds at least as large")
	}
	le := cfg.LeaderElection
	if *le.LeaderElect {
		if le.ResourceLock != "leases" {
			return fmt.Errorf("leaderElection.resourceLock: only \"leases\" is supported (got %q)", le.ResourceLock)
		}
		if le.LeaseDuration.Duration <= le.RenewDeadline.Duration || le.RenewDeadline.Duration <= le.RetryPeriod.Duration {
			return fmt.Errorf("leaderElection: need leaseDuration > renewDeadline > retryPeriod")
		}
	}
	seen := map[string]bool{}
	for i := range cfg.Profiles {
		p := &cfg.Profiles[i]
		name := *p.SchedulerName
		if name == "" {
			return fmt.Errorf("profiles[%d].schedulerName: required", i)
		}
		if seen[name] {
			return fmt.Errorf("profiles[%d].schedulerName: duplicate %q", i, name)
		}
		seen[name] = true
		if _, err := Resolve(p, *cfg.PercentageOfNodesToScore); err != nil {
			return fmt.Errorf("profiles[%d]: %w", i, err)
		}
	}
	return nil
}
