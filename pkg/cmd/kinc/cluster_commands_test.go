package kinc

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cmd"
)

func runWithStdin(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	logger := cmd.NewLogger(&errOut, 0)
	c := NewCommand(logger, cmd.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut})
	c.SetArgs(args)
	err := c.Execute()
	return out.String(), errOut.String(), err
}

// These fail in flag or config handling, before any engine is contacted.
func TestClusterCommandErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		stdin   string
		args    []string
		wantErr string
	}{
		{"delete clusters needs names", "", []string{"delete", "clusters"}, "no cluster names provided"},
		{"delete clusters names and all", "", []string{"delete", "clusters", "a", "--all"}, "not both"},
		{"create bad stdin config", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\nbogus: 1\n", []string{"create", "cluster", "--config", "-"}, `unknown field "bogus"`},
		{"create missing config file", "", []string{"create", "cluster", "--config", "/nonexistent/kinc.yaml"}, "read cluster config"},
		{"create invalid name", "", []string{"create", "cluster", "--name", "Bad_Name"}, "is not a valid cluster name"},
		{"create rejects args", "", []string{"create", "cluster", "extra"}, "unknown command"},
		{"create bad wait", "", []string{"create", "cluster", "--wait", "soon"}, "invalid argument"},
		{"load needs an image", "", []string{"load", "docker-image"}, "requires at least 1 arg"},
		{"export logs takes one dir", "", []string{"export", "logs", "a", "b"}, "accepts at most 1 arg"},
		{"get nodes rejects args", "", []string{"get", "nodes", "x"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runWithStdin(t, tt.stdin, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestHelpListsClusterCommands(t *testing.T) {
	t.Parallel()
	for _, group := range [][]string{
		{"create", "cluster"}, {"delete", "cluster", "clusters"}, {"get", "clusters", "nodes", "kubeconfig"},
		{"export", "kubeconfig", "logs"}, {"load", "docker-image", "image-archive"},
	} {
		out, _, err := runWithStdin(t, "", group[0], "--help")
		if err != nil {
			t.Fatal(err)
		}
		for _, sub := range group[1:] {
			if !strings.Contains(out, "  "+sub) {
				t.Errorf("kinc %s --help lacks %s:\n%s", group[0], sub, out)
			}
		}
	}
	out, _, _ := runWithStdin(t, "", "create", "cluster", "--help")
	for _, flag := range []string{"--name", "--config", "--image", "--retain", "--wait", "--kubeconfig"} {
		if !strings.Contains(out, flag) {
			t.Errorf("create cluster --help lacks %s", flag)
		}
	}
}

// TestNoDockerEngine: with no engine answering, every command that needs
// one fails saying so and what to do, and touches no kubeconfig.
func TestNoDockerEngine(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("DOCKER_HOST", "unix://"+filepath.Join(dir, "no-docker.sock"))
	kubeconfig := filepath.Join(dir, "config")
	const mine = "apiVersion: v1\nkind: Config\ncurrent-context: mine\n"
	if err := os.WriteFile(kubeconfig, []byte(mine), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KUBECONFIG", kubeconfig)
	for _, args := range [][]string{
		{"create", "cluster", "--name", "nodocker"},
		{"get", "clusters"},
		{"get", "nodes", "--name", "nodocker"},
		{"delete", "cluster", "--name", "nodocker"},
		{"load", "docker-image", "busybox", "--name", "nodocker"},
	} {
		_, _, err := runWithStdin(t, "", args...)
		if !errors.Is(err, cluster.ErrEngineUnavailable) || !strings.Contains(err.Error(), "Start Docker") {
			t.Errorf("kinc %s: %v", strings.Join(args, " "), err)
		}
	}
	if data, _ := os.ReadFile(kubeconfig); string(data) != mine {
		t.Errorf("kubeconfig changed:\n%s", data)
	}
}
