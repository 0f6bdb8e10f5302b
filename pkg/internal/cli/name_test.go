package cli

import (
	"testing"

	"github.com/spf13/pflag"
)

func TestClusterName(t *testing.T) {
	t.Parallel()
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "KINC_CLUSTER_NAME" {
				return v
			}
			return ""
		}
	}
	tests := []struct {
		name, flagArg, env, def, want string
	}{
		{"default", "", "", "kinc", "kinc"},
		{"env over default", "", "fromenv", "kinc", "fromenv"},
		{"flag over env", "flag", "fromenv", "kinc", "flag"},
		{"create: empty default, no env", "", "", "", ""},
	}
	for _, tt := range tests {
		fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
		value := fs.StringP("name", "n", tt.def, "")
		var args []string
		if tt.flagArg != "" {
			args = []string{"--name", tt.flagArg}
		}
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		if got := ClusterName(fs, *value, env(tt.env)); got != tt.want {
			t.Errorf("%s: got %q want %q", tt.name, got, tt.want)
		}
	}
}

func TestDefaultBinDir(t *testing.T) {
	t.Parallel()
	// The test binary's directory holds no etcd: fall back to ./bin.
	if got := DefaultBinDir(); got != "bin" {
		t.Fatalf("got %q", got)
	}
}
