// Package config is kube-scheduler's configuration file: the subset of
// kubescheduler.config.k8s.io/v1 KubeSchedulerConfiguration that kinc
// implements, its defaults (upstream's), strict loading (unknown fields are
// an error) and the resolution of a profile's plugin enable/disable lists
// into a framework.ProfileConfig.
package config

import (
	"encoding/json"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// APIVersion and Kind of the configuration file.
const (
	APIVersion = "kubescheduler.config.k8s.io/v1"
	Kind       = "KubeSchedulerConfiguration"
)

// DefaultSchedulerName is the profile name pods get by default.
const DefaultSchedulerName = "default-scheduler"

// KubeSchedulerConfiguration is the configuration file (fields as upstream).
type KubeSchedulerConfiguration struct {
	metav1.TypeMeta `json:",inline"`
	// Parallelism is how many nodes are filtered at once (default 16).
	Parallelism      *int32                         `json:"parallelism,omitempty"`
	LeaderElection   *LeaderElectionConfiguration   `json:"leaderElection,omitempty"`
	ClientConnection *ClientConnectionConfiguration `json:"clientConnection,omitempty"`
	// PercentageOfNodesToScore: 0 (default) is upstream's adaptive rule.
	PercentageOfNodesToScore *int32 `json:"percentageOfNodesToScore,omitempty"`
	// PodInitialBackoffSeconds (default 1) and PodMaxBackoffSeconds
	// (default 10) bound the per-pod retry backoff.
	PodInitialBackoffSeconds *int64    `json:"podInitialBackoffSeconds,omitempty"`
	PodMaxBackoffSeconds     *int64    `json:"podMaxBackoffSeconds,omitempty"`
	Profiles                 []Profile `json:"profiles,omitempty"`
}

// LeaderElectionConfiguration is componentbaseconfig's leader election.
type LeaderElectionConfiguration struct {
	LeaderElect       *bool           `json:"leaderElect,omitempty"`
	LeaseDuration     metav1.Duration `json:"leaseDuration,omitempty"`
	RenewDeadline     metav1.Duration `json:"renewDeadline,omitempty"`
	RetryPeriod       metav1.Duration `json:"retryPeriod,omitempty"`
	ResourceLock      string          `json:"resourceLock,omitempty"`
	ResourceName      string          `json:"resourceName,omitempty"`
	ResourceNamespace string          `json:"resourceNamespace,omitempty"`
}

// ClientConnectionConfiguration is componentbaseconfig's client connection.
type ClientConnectionConfiguration struct {
	Kubeconfig         string  `json:"kubeconfig,omitempty"`
	AcceptContentTypes string  `json:"acceptContentTypes,omitempty"`
	ContentType        string  `json:"contentType,omitempty"`
	QPS                float32 `json:"qps,omitempty"`
	Burst              int32   `json:"burst,omitempty"`
}

// Profile is one scheduler name and its plugins.
type Profile struct {
	SchedulerName            *string        `json:"schedulerName,omitempty"`
	PercentageOfNodesToScore *int32         `json:"percentageOfNodesToScore,omitempty"`
	Plugins                  *Plugins       `json:"plugins,omitempty"`
	PluginConfig             []PluginConfig `json:"pluginConfig,omitempty"`
}

// Plugins lists, per extension point, plugins enabled or disabled on top
// of the defaults. MultiPoint applies to every point a plugin implements.
type Plugins struct {
	PreEnqueue PluginSet `json:"preEnqueue,omitempty"`
	QueueSort  PluginSet `json:"queueSort,omitempty"`
	PreFilter  PluginSet `json:"preFilter,omitempty"`
	Filter     PluginSet `json:"filter,omitempty"`
	PostFilter PluginSet `json:"postFilter,omitempty"`
	PreScore   PluginSet `json:"preScore,omitempty"`
	Score      PluginSet `json:"score,omitempty"`
	Reserve    PluginSet `json:"reserve,omitempty"`
	Permit     PluginSet `json:"permit,omitempty"`
	PreBind    PluginSet `json:"preBind,omitempty"`
	Bind       PluginSet `json:"bind,omitempty"`
	PostBind   PluginSet `json:"postBind,omitempty"`
	MultiPoint PluginSet `json:"multiPoint,omitempty"`
}

// PluginSet enables and disables plugins; Disabled "*" disables every
// default of that point.
type PluginSet struct {
	Enabled  []Plugin `json:"enabled,omitempty"`
	Disabled []Plugin `json:"disabled,omitempty"`
}

// Plugin names a plugin, with a score weight.
type Plugin struct {
	Name   string `json:"name"`
	Weight *int32 `json:"weight,omitempty"`
}

// PluginConfig carries a plugin's arguments. kinc's plugins take none:
// non-empty args are rejected rather than ignored.
type PluginConfig struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args,omitempty"`
}
