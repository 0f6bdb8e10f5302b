package config

import (
	"reflect"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/scheduler/framework"
)

func TestDefaults(t *testing.T) {
	t.Parallel()
	cfg := Default()
	if *cfg.LeaderElection.LeaderElect != true || cfg.LeaderElection.LeaseDuration.Duration.Seconds() != 15 ||
		cfg.LeaderElection.ResourceName != "kube-scheduler" || cfg.LeaderElection.ResourceNamespace != "kube-system" {
		t.Errorf("leader election defaults %+v", cfg.LeaderElection)
	}
	if len(cfg.Profiles) != 1 || *cfg.Profiles[0].SchedulerName != DefaultSchedulerName {
		t.Errorf("profiles %+v", cfg.Profiles)
	}
	p, err := Resolve(&cfg.Profiles[0], 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Filter, defaultFilter()) || !reflect.DeepEqual(p.Score, defaultScore()) {
		t.Errorf("default profile %+v", p)
	}
}

func TestDecodeProfiles(t *testing.T) {
	t.Parallel()
	cfg, err := Decode([]byte(`
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: false
profiles:
- schedulerName: default-scheduler
- schedulerName: no-taints
  plugins:
    multiPoint:
      disabled:
      - name: TaintToleration
    score:
      disabled:
      - name: "*"
      enabled:
      - name: NodeResourcesFit
        weight: 5
`))
	if err != nil {
		t.Fatal(err)
	}
	if *cfg.LeaderElection.LeaderElect {
		t.Error("leaderElect not read")
	}
	p, err := Resolve(&cfg.Profiles[1], 0)
	if err != nil {
		t.Fatal(err)
	}
	if p.SchedulerName != "no-taints" {
		t.Errorf("name %q", p.SchedulerName)
	}
	for _, f := range p.Filter {
		if f == "TaintToleration" {
			t.Error("TaintToleration still filters")
		}
	}
	if want := []framework.WeightedPlugin{{Name: "NodeResourcesFit", Weight: 5}}; !reflect.DeepEqual(p.Score, want) {
		t.Errorf("score %v, want %v", p.Score, want)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	head := "apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
	tests := []struct{ name, doc, want string }{
		{"unknown field", head + "bogus: 1\n", "unknown field"},
		{"wrong kind", "apiVersion: kubescheduler.config.k8s.io/v1\nkind: Other\n", "must be apiVersion"},
		{"unknown plugin", head + "profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: Bogus\n", "unknown plugin"},
		{"unimplemented plugin", head + "profiles:\n- plugins:\n    score:\n      enabled:\n      - name: ImageLocality\n", "not implemented"},
		{"duplicate profile", head + "profiles:\n- schedulerName: a\n- schedulerName: a\n", `profiles[1].schedulerName: Duplicate value: "a"`},
		{"duplicate key", head + "parallelism: 4\nparallelism: 8\n", `key "parallelism" already set`},
		{"duplicate nested key", head + "clientConnection:\n  qps: 5\n  qps: 6\n", `key "qps" already set`},
		{"second document", head + "---\n" + head, "a second YAML document starts at line 3"},
		{"negative qps", head + "clientConnection:\n  qps: -1\n", "clientConnection.qps: Invalid value: -1: must be greater than or equal to 0"},
		{"negative burst", head + "clientConnection:\n  burst: -5\n", "clientConnection.burst: Invalid value: -5: must be greater than or equal to 0"},
		{"negative retryPeriod", head + "leaderElection:\n  retryPeriod: -2s\n", `leaderElection.retryPeriod: Invalid value: "-2s": must be greater than 0`},
		{"parallelism", head + "parallelism: -1\n", "parallelism: Invalid value: -1: must be greater than 0"},
		{"plugin args", head + "profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args: {scoringStrategy: {type: MostAllocated}}\n", "not supported"},
		{"score plugin as filter", head + "profiles:\n- plugins:\n    filter:\n      enabled:\n      - name: NodeResourcesBalancedAllocation\n", "does not filter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tt.doc))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestValidateReportsEveryError: one pass names every bad field, flags
// applied over the file included.
func TestValidateReportsEveryError(t *testing.T) {
	t.Parallel()
	cfg := Default()
	cfg.ClientConnection.QPS, cfg.ClientConnection.Burst = -1, -1
	*cfg.PercentageOfNodesToScore = 101
	got := map[string]bool{}
	for _, e := range ValidateFields(cfg) {
		got[e.Field] = true
	}
	for _, f := range []string{"clientConnection.qps", "clientConnection.burst", "percentageOfNodesToScore"} {
		if !got[f] {
			t.Errorf("no error for %s (got %v)", f, got)
		}
	}
	if err := Validate(Default()); err != nil {
		t.Errorf("defaults rejected: %v", err)
	}
}

func TestDisablingBuiltinsAndVolumesIsAccepted(t *testing.T) {
	t.Parallel()
	_, err := Decode([]byte(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- plugins:
    multiPoint:
      disabled:
      - name: VolumeBinding
      - name: DefaultPreemption
    queueSort:
      enabled:
      - name: PrioritySort
`))
	if err != nil {
		t.Fatal(err)
	}
}
