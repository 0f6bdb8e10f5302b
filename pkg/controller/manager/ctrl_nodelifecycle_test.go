package manager

import (
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// TestNodeControllerFlags: upstream's defaults (--node-monitor-grace-period
// 50s since 1.32), the flags parsed into the controllers' options, and
// bad values refused naming the flag.
func TestNodeControllerFlags(t *testing.T) {
	o := NewOptions()
	nl := o.nodeLifecycleOptions()
	if nl.NodeMonitorPeriod != 5*time.Second || nl.NodeMonitorGracePeriod != 50*time.Second || nl.NodeStartupGracePeriod != time.Minute ||
		nl.NodeEvictionRate != 0.1 || nl.SecondaryNodeEvictionRate != 0.01 || nl.LargeClusterSizeThreshold != 50 ||
		nl.UnhealthyZoneThreshold != 0.55 || o.TerminatedPodGCThreshold != 12500 {
		t.Errorf("defaults %+v, terminated-pod-gc-threshold %d", nl, o.TerminatedPodGCThreshold)
	}
	fs := pflag.NewFlagSet("kube-controller-manager", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse([]string{"--node-monitor-period=1s", "--node-monitor-grace-period=3s", "--node-startup-grace-period=4s",
		"--node-eviction-rate=2", "--secondary-node-eviction-rate=0.5", "--large-cluster-size-threshold=7",
		"--unhealthy-zone-threshold=0.3", "--terminated-pod-gc-threshold=0"}); err != nil {
		t.Fatal(err)
	}
	nl = o.nodeLifecycleOptions()
	if nl.NodeMonitorPeriod != time.Second || nl.NodeMonitorGracePeriod != 3*time.Second || nl.NodeStartupGracePeriod != 4*time.Second ||
		nl.NodeEvictionRate != 2 || nl.SecondaryNodeEvictionRate != 0.5 || nl.LargeClusterSizeThreshold != 7 ||
		nl.UnhealthyZoneThreshold != 0.3 || o.TerminatedPodGCThreshold != 0 {
		t.Errorf("parsed %+v, terminated-pod-gc-threshold %d", nl, o.TerminatedPodGCThreshold)
	}
	if err := nl.Validate(); err != nil {
		t.Errorf("valid values refused: %v", err)
	}

	for flag, bad := range map[string]func(*Options){
		"--node-monitor-period":          func(o *Options) { o.NodeMonitorPeriod = 0 },
		"--node-monitor-grace-period":    func(o *Options) { o.NodeMonitorGracePeriod = -time.Second },
		"--node-startup-grace-period":    func(o *Options) { o.NodeStartupGracePeriod = 0 },
		"--node-eviction-rate":           func(o *Options) { o.NodeEvictionRate = -1 },
		"--secondary-node-eviction-rate": func(o *Options) { o.SecondaryNodeEvictionRate = -0.1 },
		"--large-cluster-size-threshold": func(o *Options) { o.LargeClusterSizeThreshold = -1 },
		"--unhealthy-zone-threshold":     func(o *Options) { o.UnhealthyZoneThreshold = 2 },
	} {
		o := NewOptions()
		bad(o)
		if err := o.Validate(); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%s: Validate() = %v, want an error naming it", flag, err)
		}
	}
}

// TestNodeControllersImplemented: the three controllers have constructors
// under upstream's names.
func TestNodeControllersImplemented(t *testing.T) {
	for _, d := range Known() {
		switch d.Name {
		case "node-lifecycle-controller", "taint-eviction-controller", "pod-garbage-collector-controller":
			if d.New == nil {
				t.Errorf("%s has no constructor", d.Name)
			}
		}
	}
}
