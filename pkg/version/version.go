// Package version reports the version of kinc's binaries, stamped at link time.
package version

import (
	"fmt"
	"runtime"
)

// These are set with -ldflags "-X" by the Makefile and never changed at run
// time. gitVersion is a semantic version; gitCommit is the commit the binary
// was built from (empty when built outside a git checkout).
var (
	gitVersion = "v0.1.0-alpha"
	gitCommit  = ""
)

// KubernetesVersion is the Kubernetes release whose API (the k8s.io/api types
// the control plane is built on) kinc's components implement.
const KubernetesVersion = "v1.37.2"

// Info describes one build.
type Info struct {
	Version   string // kinc's semantic version, with "+<commit>" when known
	GitCommit string
	GoVersion string
	Platform  string // GOOS/GOARCH
}

// Get returns the build information of the running binary.
func Get() Info {
	return Info{
		Version:   Version(),
		GitCommit: gitCommit,
		GoVersion: runtime.Version(),
		Platform:  runtime.GOOS + "/" + runtime.GOARCH,
	}
}

// Version returns the semantic version, with the short commit appended as
// build metadata when the binary was stamped with one (as kind does).
func Version() string {
	if gitCommit == "" {
		return gitVersion
	}
	commit := gitCommit
	if len(commit) > 14 {
		commit = commit[:14]
	}
	return gitVersion + "+" + commit
}

// String renders the line printed by `kinc version`.
func (i Info) String() string {
	return fmt.Sprintf("kinc %s %s %s", i.Version, i.GoVersion, i.Platform)
}
