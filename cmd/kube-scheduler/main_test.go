package main

import (
	"strings"
	"testing"
)

func TestUnknownFlagsAreErrors(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--bogus"}, {"--leader-elect=true", "--port=10251"}, {"extra-arg"}} {
		err := run(args)
		if err == nil || !(strings.Contains(err.Error(), "unknown flag") || strings.Contains(err.Error(), "unexpected arguments")) {
			t.Errorf("run(%q) = %v, want an unknown flag error", args, err)
		}
	}
}

func TestBadConfigIsAnError(t *testing.T) {
	t.Parallel()
	if err := run([]string{"--config=/nonexistent/config.yaml"}); err == nil || !strings.Contains(err.Error(), "reading scheduler configuration") {
		t.Fatalf("err = %v", err)
	}
	if err := run([]string{"--leader-elect-resource-lock=endpoints", "--kubeconfig=/nonexistent"}); err == nil || !strings.Contains(err.Error(), "leases") {
		t.Fatalf("err = %v", err)
	}
}
