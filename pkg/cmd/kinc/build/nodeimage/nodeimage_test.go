package nodeimage

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/cmd"
)

func TestFlags(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	c := NewCommand(cmd.NewLogger(&out, 0), cmd.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &out})
	for _, name := range []string{"image", "base-image", "bin-dir", "cache-dir", "force"} {
		if c.Flags().Lookup(name) == nil {
			t.Errorf("no --%s flag", name)
		}
	}
	c.SetArgs([]string{"extra"})
	c.SetOut(&out)
	c.SetErr(&out)
	if err := c.Execute(); err == nil {
		t.Error("an argument was accepted")
	}
}
