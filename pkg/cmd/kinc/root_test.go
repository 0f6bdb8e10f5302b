package kinc

import (
	"bytes"
	"runtime"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/version"
)

func run(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	logger := cmd.NewLogger(&errOut, 0)
	c := NewCommand(logger, cmd.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	c.SetArgs(args)
	err = c.Execute()
	return out.String(), errOut.String(), err
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out, _, err := run(t, "version")
	if err != nil {
		t.Fatal(err)
	}
	want := "kinc " + version.Version() + " " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if out != want {
		t.Fatalf("got %q want %q", out, want)
	}
}

func TestVersionQuiet(t *testing.T) {
	t.Parallel()
	out, _, err := run(t, "version", "-q")
	if err != nil {
		t.Fatal(err)
	}
	if out != version.Version()+"\n" {
		t.Fatalf("got %q", out)
	}
}

func TestVersionRejectsArgs(t *testing.T) {
	t.Parallel()
	if _, _, err := run(t, "version", "extra"); err == nil {
		t.Fatal("want an error for an unexpected argument")
	}
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	for shell, marker := range map[string]string{
		"bash":       "__start_kinc",
		"zsh":        "#compdef kinc",
		"fish":       "complete -c kinc",
		"powershell": "Register-ArgumentCompleter",
	} {
		out, _, err := run(t, "completion", shell)
		if err != nil {
			t.Fatalf("%s: %v", shell, err)
		}
		if !strings.Contains(out, marker) {
			t.Errorf("%s completion lacks %q", shell, marker)
		}
	}
}

func TestCompletionNeedsShell(t *testing.T) {
	t.Parallel()
	_, _, err := run(t, "completion")
	if err == nil || !strings.Contains(err.Error(), "subcommand is required") {
		t.Fatalf("got %v", err)
	}
}

func TestUnknownFlagIsAnError(t *testing.T) {
	t.Parallel()
	if _, _, err := run(t, "version", "--no-such-flag"); err == nil {
		t.Fatal("want an error for an unknown flag")
	}
}
