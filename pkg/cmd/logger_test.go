package cmd

import (
	"bytes"
	"testing"
)

func TestLoggerLevels(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	l := NewLogger(&b, 1)
	l.V(1).Info("one")
	l.V(2).Info("two")
	l.Warn("careful")
	l.SetQuiet(true)
	l.V(0).Info("hidden")
	l.Warn("hidden too")
	l.Error("shown")
	want := "one\nWARNING: careful\nERROR: shown\n"
	if b.String() != want {
		t.Fatalf("got %q want %q", b.String(), want)
	}
}
