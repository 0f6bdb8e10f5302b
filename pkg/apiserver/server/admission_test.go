package server

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/registry"
)

func chainNames(t *testing.T, opts *Options) ([]string, string) {
	t.Helper()
	var logs bytes.Buffer
	chain, err := newAdmission(opts, registry.Deps{}, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range chain {
		names = append(names, p.Name())
	}
	return names, logs.String()
}

func TestNewAdmission(t *testing.T) {
	opts := NewOptions()
	names, logs := chainNames(t, opts)
	if got := strings.Join(names, ","); got != "AllowPrivileged=false,NamespaceLifecycle,ServiceAccount,PodSecurity" {
		t.Errorf("default chain %s", got)
	}
	if strings.Count(logs, "not implemented by kinc yet") != 1 || !strings.Contains(logs, "LimitRanger") ||
		!strings.Contains(logs, "ResourceQuota") || strings.Contains(logs, "cannot be disabled") {
		t.Errorf("logs:\n%s", logs)
	}

	opts.AllowPrivileged = true
	opts.EnableAdmissionPlugins = []string{"NodeRestriction"}
	opts.DisableAdmissionPlugins = []string{"ServiceAccount", "DefaultTolerationSeconds"}
	names, logs = chainNames(t, opts)
	if got := strings.Join(names, ","); got != "NamespaceLifecycle,NodeRestriction,PodSecurity" {
		t.Errorf("chain %s", got)
	}
	if !strings.Contains(logs, "cannot be disabled yet") || !strings.Contains(logs, "DefaultTolerationSeconds") {
		t.Errorf("disabling a plugin of the pod registry is not reported:\n%s", logs)
	}

	opts.EnableAdmissionPlugins = []string{"Bogus"}
	if _, err := newAdmission(opts, registry.Deps{}, slog.New(slog.DiscardHandler)); err == nil ||
		!strings.Contains(err.Error(), `enable-admission-plugins plugin "Bogus" is unknown`) {
		t.Errorf("unknown plugin: %v", err)
	}
}
