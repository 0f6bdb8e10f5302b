package app

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

func parse(t *testing.T, args ...string) *Options {
	t.Helper()
	o := NewOptions()
	fs := pflag.NewFlagSet("kube-scheduler", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	o.MarkSet(fs)
	return o
}

func TestFlagsAndConfigPrecedence(t *testing.T) {
	t.Parallel()
	cfgPath := filepath.Join(t.TempDir(), "c.yaml")
	if err := os.WriteFile(cfgPath, []byte(`apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
clientConnection:
  kubeconfig: /from/config
  qps: 7
leaderElection:
  leaderElect: false
  resourceName: from-config
`), 0o600); err != nil {
		t.Fatal(err)
	}

	// Without --config, flags (and their upstream defaults) apply.
	cfg, err := parse(t, "--leader-elect-lease-duration=20s", "--leader-elect-renew-deadline=12s").Config()
	if err != nil {
		t.Fatal(err)
	}
	if !*cfg.LeaderElection.LeaderElect || cfg.LeaderElection.LeaseDuration.Duration != 20*time.Second || cfg.ClientConnection.QPS != 50 {
		t.Errorf("flags not applied: %+v %+v", cfg.LeaderElection, cfg.ClientConnection)
	}

	// With --config, only flags given explicitly override the file.
	cfg, err = parse(t, "--config="+cfgPath, "--kubeconfig=/from/flag").Config()
	if err != nil {
		t.Fatal(err)
	}
	if *cfg.LeaderElection.LeaderElect || cfg.LeaderElection.ResourceName != "from-config" || cfg.ClientConnection.QPS != 7 {
		t.Errorf("config file not honoured: %+v %+v", cfg.LeaderElection, cfg.ClientConnection)
	}
	if cfg.ClientConnection.Kubeconfig != "/from/flag" {
		t.Errorf("kubeconfig %q, want the explicit flag", cfg.ClientConnection.Kubeconfig)
	}
	cfg, err = parse(t, "--config="+cfgPath, "--leader-elect=true", "--leader-elect-resource-name=from-flag").Config()
	if err != nil {
		t.Fatal(err)
	}
	if !*cfg.LeaderElection.LeaderElect || cfg.LeaderElection.ResourceName != "from-flag" {
		t.Errorf("explicit flags did not override: %+v", cfg.LeaderElection)
	}

	if _, err := parse(t, "--leader-elect-lease-duration=1s").Config(); err == nil {
		t.Error("lease duration below the renew deadline accepted")
	}
}
