package workdir

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kinc-dev/kinc/pkg/cmd"
	"github.com/kinc-dev/kinc/pkg/exec/exectest"
)

func TestUnescapeMount(t *testing.T) {
	t.Parallel()
	if got := unescapeMount(`/a\040b/c`); got != "/a b/c" {
		t.Fatalf("got %q", got)
	}
}

func TestParseMounts(t *testing.T) {
	t.Parallel()
	got := parseMounts("proc /proc proc rw 0 0\n/dev/x /w/a\\040b ext4 rw 0 0\n\n")
	if want := []string{"/proc", "/w/a b"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestMountsUnder(t *testing.T) {
	t.Parallel()
	mounts := func() ([]string, error) { return []string{"/", "/w", "/w/root/proc", "/wx/y", "/w/root/sys"}, nil }
	if got, want := MountsUnder(mounts, "/w"), []string{"/w/root/proc", "/w/root/sys"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	failing := func() ([]string, error) { return nil, errors.New("boom") }
	if got := MountsUnder(failing, "/w"); len(got) != 1 || !strings.Contains(got[0], "boom") {
		t.Fatalf("got %q", got)
	}
}

func TestRemoveUnmountsDeepestFirst(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(filepath.Join(work, "rootfs", "proc"), 0o755); err != nil {
		t.Fatal(err)
	}
	mounted := []string{filepath.Join(work, "rootfs", "proc"), filepath.Join(work, "rootfs", "proc", "x")}
	cmder := &exectest.Cmder{Handle: func(c *exectest.Call) error {
		for i, m := range mounted {
			if m == c.Args[len(c.Args)-1] {
				mounted = append(mounted[:i:i], mounted[i+1:]...)
			}
		}
		return nil
	}}
	var log bytes.Buffer
	Remove(context.Background(), cmder, func() ([]string, error) { return mounted, nil }, cmd.NewLogger(&log, 0), work)
	want := []string{"umount -l " + filepath.Join(work, "rootfs", "proc", "x"), "umount -l " + filepath.Join(work, "rootfs", "proc")}
	if got := cmder.Lines(); !reflect.DeepEqual(got, want) {
		t.Fatalf("ran %q, want %q", got, want)
	}
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Fatalf("work dir still there (%v); log: %s", err, log.String())
	}
}

func TestRemoveKeepsWhatStaysMounted(t *testing.T) {
	t.Parallel()
	work := t.TempDir()
	proc := filepath.Join(work, "rootfs", "proc")
	var log bytes.Buffer
	Remove(context.Background(), &exectest.Cmder{}, func() ([]string, error) { return []string{proc}, nil }, cmd.NewLogger(&log, 0), work)
	if _, err := os.Stat(work); err != nil {
		t.Fatalf("work dir removed: %v", err)
	}
	if !strings.Contains(log.String(), "not removing "+work+": still mounted inside it: "+proc) {
		t.Fatalf("log: %q", log.String())
	}
}
