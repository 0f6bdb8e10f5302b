package cli

import (
	"github.com/spf13/pflag"

	"github.com/kinc-dev/kinc/pkg/cluster/constants"
)

// ClusterName returns the cluster a command acts on: the --name flag when
// given, else $KINC_CLUSTER_NAME when set, else value (the flag's default,
// or "" for create, where the config's name comes next).
func ClusterName(fs *pflag.FlagSet, value string, getenv func(string) string) string {
	if f := fs.Lookup("name"); f != nil && f.Changed {
		return value
	}
	if env := getenv(constants.ClusterNameEnv); env != "" {
		return env
	}
	return value
}
