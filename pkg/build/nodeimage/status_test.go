package nodeimage

import (
	"bytes"
	"testing"

	"github.com/kinc-dev/kinc/pkg/cmd"
)

func TestLineWriter(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := &lineWriter{info: cmd.NewLogger(&buf, 1).V(1)}
	for _, chunk := range []string{"I: one\nI: t", "wo\n", "partial"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := buf.String(), "     I: one\n     I: two\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}
