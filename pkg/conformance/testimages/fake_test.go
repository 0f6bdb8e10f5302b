package testimages

import (
	"context"
	"fmt"
	"io"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
)

// fakeHost answers the commands a build runs as a machine with Docker and
// debootstrap would, recording them: debootstrap makes a rootfs directory,
// tar and docker save write their output file, docker build keeps a copy of
// its context's Dockerfile and checks its binaries.
type fakeHost struct {
	mu          sync.Mutex
	calls       []string
	baseExists  bool                // docker image inspect of the base succeeds
	missing     map[string]bool     // commands that are not installed
	fail        map[string]bool     // commands (name or "docker <verb>") that exit non-zero
	dockerfiles map[string]string   // first tag → Dockerfile
	contexts    map[string][]string // first tag → context file names and modes
	ids         map[string]string   // tag → image ID, set by docker build
	builds      int
}

func newFakeHost() *fakeHost {
	return &fakeHost{missing: map[string]bool{}, fail: map[string]bool{}, dockerfiles: map[string]string{}, contexts: map[string][]string{}, ids: map[string]string{}}
}

var _ exec.Cmder = (*fakeHost)(nil)

func (h *fakeHost) CommandContext(_ context.Context, name string, args ...string) exec.Cmd {
	return &fakeCmd{h: h, args: append([]string{name}, args...)}
}

func (h *fakeHost) commands() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.calls...)
}

// count returns how many recorded command lines start with prefix.
func (h *fakeHost) count(prefix string) int {
	n := 0
	for _, c := range h.commands() {
		if strings.HasPrefix(c, prefix) {
			n++
		}
	}
	return n
}

type fakeCmd struct {
	h      *fakeHost
	args   []string
	env    []string
	stdout io.Writer
}

func (c *fakeCmd) SetEnv(env ...string) exec.Cmd  { c.env = env; return c }
func (c *fakeCmd) SetStdin(io.Reader) exec.Cmd    { return c }
func (c *fakeCmd) SetStdout(w io.Writer) exec.Cmd { c.stdout = w; return c }
func (c *fakeCmd) SetStderr(io.Writer) exec.Cmd   { return c }

func (c *fakeCmd) Run() error {
	h, a := c.h, c.args
	line := strings.Join(a, " ")
	if len(c.env) > 0 {
		line = strings.Join(c.env, " ") + " " + line
	}
	h.mu.Lock()
	h.calls = append(h.calls, line)
	h.mu.Unlock()
	if h.missing[a[0]] {
		return &exec.RunError{Command: a, Inner: fmt.Errorf("exec: %q: %w", a[0], osexec.ErrNotFound)}
	}
	verb := a[0]
	if a[0] == "docker" && len(a) > 1 {
		verb = "docker " + a[1]
	}
	if h.fail[verb] {
		return &exec.RunError{Command: a, Inner: fmt.Errorf("exit status 1")}
	}
	switch verb {
	case "docker image":
		if a[2] == "inspect" {
			return h.inspect(a[len(a)-1], c.stdout)
		}
	case "debootstrap":
		root := a[len(a)-1]
		for _, d := range []string{"usr/share/doc/curl", "usr/bin", "etc"} {
			if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
				return err
			}
		}
		return os.WriteFile(filepath.Join(root, "etc/hostname"), []byte("buildhost\n"), 0o644)
	case "tar":
		return os.WriteFile(a[len(a)-2], []byte("rootfs"), 0o644)
	case "docker import":
		h.mu.Lock()
		h.baseExists = true
		h.mu.Unlock()
	case "docker build":
		return h.build(a)
	case "docker save":
		return os.WriteFile(a[3], []byte("archive"), 0o644)
	}
	return nil
}

// inspect prints the ID of ref, or fails when there is no such image.
func (h *fakeHost) inspect(ref string, stdout io.Writer) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	id := h.ids[ref]
	if strings.HasPrefix(ref, baseRepository+":") && h.baseExists {
		id = "sha256:base"
	}
	if id == "" {
		return &exec.RunError{Command: []string{"docker", "image", "inspect", ref}, Inner: fmt.Errorf("No such image: %s", ref)}
	}
	if stdout != nil {
		fmt.Fprintln(stdout, id)
	}
	return nil
}

// build records the Dockerfile and context of `docker build ... -t ref ... dir`.
func (h *fakeHost) build(a []string) error {
	dir := a[len(a)-1]
	var ref string
	for i, s := range a {
		if s == "-t" {
			ref = a[i+1]
			break
		}
	}
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var files []string
	for _, e := range entries {
		fi, err := e.Info()
		if err != nil {
			return err
		}
		files = append(files, fmt.Sprintf("%s %o", e.Name(), fi.Mode().Perm()))
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.builds++
	for i, s := range a {
		if s == "-t" {
			h.ids[a[i+1]] = fmt.Sprintf("sha256:build%d", h.builds)
		}
	}
	h.dockerfiles[ref] = string(df)
	h.contexts[ref] = files
	return nil
}

// recordingLogger keeps every line.
type recordingLogger struct {
	mu    sync.Mutex
	lines []string
}

func (l *recordingLogger) add(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, s)
}

func (l *recordingLogger) text() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *recordingLogger) Warn(m string)                { l.add("W " + m) }
func (l *recordingLogger) Warnf(f string, a ...any)     { l.add("W " + fmt.Sprintf(f, a...)) }
func (l *recordingLogger) Error(m string)               { l.add("E " + m) }
func (l *recordingLogger) Errorf(f string, a ...any)    { l.add("E " + fmt.Sprintf(f, a...)) }
func (l *recordingLogger) V(v log.Level) log.InfoLogger { return recordingInfo{l: l, on: v == 0} }
func (r recordingInfo) Info(m string)                   { r.l.add(m) }
func (r recordingInfo) Infof(f string, a ...any)        { r.l.add(fmt.Sprintf(f, a...)) }
func (r recordingInfo) Enabled() bool                   { return r.on }

type recordingInfo struct {
	l  *recordingLogger
	on bool
}
