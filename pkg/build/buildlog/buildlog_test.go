package buildlog_test

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/kinc-dev/kinc/pkg/build/buildlog"
	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/exec/exectest"
	"github.com/kinc-dev/kinc/pkg/log"
)

func TestLineWriter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := buildlog.NewLineWriter(cmd.NewLogger(&buf, 1).V(1))
	for _, chunk := range []string{"I: one\nI: t", "wo\n", "partial"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := buf.String(), "     I: one\n     I: two\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestProgressLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	l := cmd.NewLogger(&buf, 0)
	buildlog.Step(l, "Building %s", "x")
	buildlog.Note(l, "detail %d", 1)
	buildlog.Done(l, "Built %s", "x")
	if got, want := buf.String(), " • Building x ...\n   detail 1\n ✓ Built x\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestCommandOutputAtV1(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		verbosity log.Level
		want      string
	}{{0, ""}, {1, "     out\n     err\n"}} {
		var buf bytes.Buffer
		cmder := &exectest.Cmder{Handle: func(c *exectest.Call) error {
			_, _ = io.WriteString(c.Stdout, "out\n")
			_, _ = io.WriteString(c.Stderr, "err\n")
			return nil
		}}
		if err := buildlog.Command(context.Background(), cmder, cmd.NewLogger(&buf, tc.verbosity), "true").Run(); err != nil {
			t.Fatal(err)
		}
		if got := buf.String(); got != tc.want {
			t.Errorf("verbosity %d: got %q, want %q", tc.verbosity, got, tc.want)
		}
	}
}
