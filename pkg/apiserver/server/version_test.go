package server

import (
	"strings"
	"testing"

	utilversion "k8s.io/apimachinery/pkg/util/version"
)

// kubectl version parses the server's gitVersion with apimachinery's
// semantic version parser and prints its error when that fails.
func TestServerGitVersionIsSemver(t *testing.T) {
	t.Parallel()
	for _, kinc := range []string{"v0.1.0-alpha", "v0.1.0-alpha+09705da1234567", "v1.2.3+abc"} {
		got := serverGitVersion("v1.37.2", kinc)
		v, err := utilversion.ParseSemantic(got)
		if err != nil {
			t.Fatalf("serverGitVersion(%q) = %q: %v", kinc, got, err)
		}
		if v.String() != strings.TrimPrefix(got, "v") || v.Major() != 1 || v.Minor() != 37 || v.Patch() != 2 || v.PreRelease() != "" {
			t.Fatalf("serverGitVersion(%q) = %q parses as %v", kinc, got, v)
		}
		if !strings.HasPrefix(v.BuildMetadata(), "kinc.") {
			t.Fatalf("build metadata %q does not say kinc", v.BuildMetadata())
		}
	}
}
