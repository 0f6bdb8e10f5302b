package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/kinc-dev/kinc/pkg/internal/strictyaml"
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

// Decode parses, defaults and validates a configuration document: exactly
// one YAML (or JSON) document, no key given twice, no unknown field.
func Decode(data []byte) (*KubeSchedulerConfiguration, error) {
	js, err := strictyaml.ToJSON(data)
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
