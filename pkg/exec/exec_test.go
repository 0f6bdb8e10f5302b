package exec

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestLocalCmderCapturesOutputOnFailure(t *testing.T) {
	t.Parallel()
	err := LocalCmder{}.CommandContext(context.Background(), "sh", "-c", "echo out; echo err >&2; exit 3").Run()
	var runErr *RunError
	if !errors.As(err, &runErr) {
		t.Fatalf("want *RunError, got %v", err)
	}
	if got := string(runErr.Output); !strings.Contains(got, "out") || !strings.Contains(got, "err") {
		t.Fatalf("output not captured: %q", got)
	}
	if !strings.Contains(err.Error(), "sh -c") {
		t.Fatalf("error does not name the command: %v", err)
	}
}

func TestOutputLines(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		script string
		want   []string
	}{
		{"printf 'a\\nb\\n'", []string{"a", "b"}},
		{"true", nil},
	} {
		got, err := OutputLines(LocalCmder{}.CommandContext(context.Background(), "sh", "-c", tc.script))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: got %q want %q", tc.script, got, tc.want)
		}
	}
}

func TestCommandContextCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (LocalCmder{}).CommandContext(ctx, "sleep", "5").Run(); err == nil {
		t.Fatal("want an error from a cancelled command")
	}
}
