package kubeconfig

import (
	"errors"
	"fmt"
	"path/filepath"
)

// RecommendedEnvVar is the environment variable that overrides the default
// kubeconfig location.
const RecommendedEnvVar = "KUBECONFIG"

// ResolvePath returns the kubeconfig file kinc reads and writes: the first
// non-empty entry of the $KUBECONFIG list (entries separated by the OS list
// separator, ':' on Linux) when it is set, else <home>/.kube/config.
//
// getenv and homeDir are the process seams (os.Getenv and os.UserHomeDir in
// production); homeDir is only called when $KUBECONFIG names no file.
func ResolvePath(getenv func(string) string, homeDir func() (string, error)) (string, error) {
	for _, p := range filepath.SplitList(getenv(RecommendedEnvVar)) {
		if p != "" {
			return p, nil
		}
	}
	home, err := homeDir()
	if err != nil {
		return "", fmt.Errorf("resolve kubeconfig path: %w", err)
	}
	if home == "" {
		return "", errors.New("resolve kubeconfig path: home directory is unknown and $KUBECONFIG is not set")
	}
	return filepath.Join(home, ".kube", "config"), nil
}
