package version

import (
	"runtime"
	"strings"
	"testing"
)

func TestInfo(t *testing.T) {
	t.Parallel()
	i := Get()
	if i.GoVersion != runtime.Version() || i.Platform != runtime.GOOS+"/"+runtime.GOARCH {
		t.Fatalf("unexpected info %+v", i)
	}
	if !strings.HasPrefix(i.String(), "kinc v") {
		t.Fatalf("unexpected string %q", i.String())
	}
	if i.GitCommit != "" && !strings.Contains(i.Version, "+"+i.GitCommit[:min(14, len(i.GitCommit))]) {
		t.Fatalf("version %q lacks commit %q", i.Version, i.GitCommit)
	}
}
