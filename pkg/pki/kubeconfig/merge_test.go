package kubeconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// userConfig is a kubeconfig a user already has: a foreign cluster that is
// current, and a stale kinc entry.
func userConfig(t *testing.T, path string) {
	t.Helper()
	cfg := mustBuild(t, testParams("prod"))
	stale := mustBuild(t, testParams("kinc-kind"))
	stale.Clusters["kinc-kind"].Server = "https://127.0.0.1:1111"
	for k, v := range stale.Clusters {
		cfg.Clusters[k] = v
	}
	for k, v := range stale.AuthInfos {
		cfg.AuthInfos[k] = v
	}
	for k, v := range stale.Contexts {
		cfg.Contexts[k] = v
	}
	cfg.CurrentContext = "prod"
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
}

func load(t *testing.T, path string) *clientcmdapi.Config {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestMerge(t *testing.T) {
	ours := func() *clientcmdapi.Config {
		c, _ := Build(testParams("kinc-kind"))
		c.Clusters["kinc-kind"].Server = "https://127.0.0.1:2222"
		return c
	}
	tests := []struct {
		name        string
		existing    bool
		setCurrent  bool
		wantCurrent string
		wantEntries int
	}{
		{"into missing file", false, true, "kinc-kind", 1},
		{"keeps foreign, sets current", true, true, "kinc-kind", 2},
		{"keeps foreign and current", true, false, "prod", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".kube", "config")
			if tt.existing {
				if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
					t.Fatal(err)
				}
				userConfig(t, path)
			}
			if err := Merge(path, ours(), tt.setCurrent); err != nil {
				t.Fatal(err)
			}
			got := load(t, path)
			if got.CurrentContext != tt.wantCurrent {
				t.Errorf("current-context %q, want %q", got.CurrentContext, tt.wantCurrent)
			}
			if len(got.Clusters) != tt.wantEntries || len(got.AuthInfos) != tt.wantEntries || len(got.Contexts) != tt.wantEntries {
				t.Errorf("entries: %d clusters %d users %d contexts, want %d each",
					len(got.Clusters), len(got.AuthInfos), len(got.Contexts), tt.wantEntries)
			}
			if s := got.Clusters["kinc-kind"].Server; s != "https://127.0.0.1:2222" {
				t.Errorf("our cluster not overwritten: server %s", s)
			}
			if tt.existing && string(got.AuthInfos["prod"].ClientKeyData) != "key-prod" {
				t.Error("foreign user changed")
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.existing && fi.Mode().Perm() != 0o600 {
				t.Errorf("new file mode %v", fi.Mode().Perm())
			}
			if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
				t.Error("lock file left behind")
			}
		})
	}
}

func TestMergeKeepsModeAndSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real-config")
	userConfig(t, real)
	if err := os.Chmod(real, 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "config")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	if err := Merge(link, mustBuild(t, testParams("kinc-x")), true); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("symlink replaced: %v %v", fi, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	if _, ok := load(t, real).Contexts["kinc-x"]; !ok {
		t.Error("merge did not reach the symlink target")
	}
}

func TestMergeInvalidInput(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := Merge(path, nil, true); err == nil {
		t.Error("want error for nil config")
	}
	two := mustBuild(t, testParams("a"))
	b := mustBuild(t, testParams("b"))
	two.Contexts["b"] = b.Contexts["b"]
	two.CurrentContext = ""
	if err := Merge(path, two, true); err == nil {
		t.Error("want error when the context to select is ambiguous")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Error("file written despite error")
	}
}

func TestMalformedKubeconfigIsNotOverwritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	garbage := []byte("apiVersion: v1\nclusters: [this is: {not yaml\n")
	if err := os.WriteFile(path, garbage, 0o600); err != nil {
		t.Fatal(err)
	}
	for name, op := range map[string]func() error{
		"merge":  func() error { return Merge(path, mustBuild(t, testParams("kinc-kind")), true) },
		"remove": func() error { return Remove(path, "kinc-kind") },
	} {
		err := op()
		if err == nil || !strings.Contains(err.Error(), "not valid") || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: err = %v, want a clear 'not valid' error naming the file", name, err)
		}
		data, _ := os.ReadFile(path)
		if string(data) != string(garbage) {
			t.Errorf("%s: malformed file was modified", name)
		}
		if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
			t.Errorf("%s: lock file left behind", name)
		}
	}
}

func TestRemove(t *testing.T) {
	tests := []struct {
		name        string
		current     string
		wantCurrent string
	}{
		{"current points to ours", "kinc-kind", ""},
		{"current points elsewhere", "prod", "prod"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			userConfig(t, path)
			cfg := load(t, path)
			cfg.CurrentContext = tt.current
			if err := clientcmd.WriteToFile(*cfg, path); err != nil {
				t.Fatal(err)
			}
			if err := Remove(path, "kinc-kind"); err != nil {
				t.Fatal(err)
			}
			got := load(t, path)
			if got.CurrentContext != tt.wantCurrent {
				t.Errorf("current-context %q, want %q", got.CurrentContext, tt.wantCurrent)
			}
			if _, ok := got.Contexts["kinc-kind"]; ok {
				t.Error("context not removed")
			}
			if _, ok := got.Clusters["kinc-kind"]; ok {
				t.Error("cluster not removed")
			}
			if _, ok := got.AuthInfos["kinc-kind"]; ok {
				t.Error("user not removed")
			}
			if got.Contexts["prod"] == nil || got.Clusters["prod"] == nil || got.AuthInfos["prod"] == nil {
				t.Error("foreign entries removed")
			}
		})
	}
}

func TestRemoveNothingToDo(t *testing.T) {
	dir := t.TempDir()
	if err := Remove(filepath.Join(dir, "missing"), "kinc-kind"); err != nil {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Fatal("Remove created a file")
	}
	path := filepath.Join(dir, "config")
	userConfig(t, path)
	before, _ := os.ReadFile(path)
	if err := Remove(path, "kinc-other"); err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(path)
	if string(before) != string(after) {
		t.Fatal("file rewritten although nothing matched")
	}
}

func TestConcurrentMergesLoseNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	userConfig(t, path)
	const n = 10
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = Merge(path, mustBuild(t, testParams(fmt.Sprintf("kinc-c%d", i))), true)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("merge %d: %v", i, err)
		}
	}
	got := load(t, path)
	for i := range n {
		name := fmt.Sprintf("kinc-c%d", i)
		if got.Contexts[name] == nil || got.Clusters[name] == nil || got.AuthInfos[name] == nil {
			t.Errorf("lost %s", name)
		}
	}
	if got.Contexts["prod"] == nil || got.Contexts["kinc-kind"] == nil {
		t.Error("lost pre-existing entries")
	}
	if len(got.Contexts) != n+2 {
		t.Errorf("%d contexts, want %d", len(got.Contexts), n+2)
	}
}

func TestLockTimeoutAndRetry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(path+".lock", nil, 0o600); err != nil {
		t.Fatal(err)
	}
	short := lockOptions{timeout: 50 * time.Millisecond, interval: 5 * time.Millisecond}
	err := merge(path, mustBuild(t, testParams("kinc-a")), true, short)
	if !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), path+".lock") {
		t.Fatalf("err = %v, want ErrLocked naming the lock file", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("wrote while locked")
	}

	// A lock released while we wait is picked up.
	released := make(chan struct{})
	go func() {
		time.Sleep(30 * time.Millisecond)
		os.Remove(path + ".lock")
		close(released)
	}()
	long := lockOptions{timeout: 5 * time.Second, interval: 5 * time.Millisecond}
	if err := merge(path, mustBuild(t, testParams("kinc-a")), true, long); err != nil {
		t.Fatal(err)
	}
	<-released
	if load(t, path).Contexts["kinc-a"] == nil {
		t.Fatal("merge after retry lost")
	}
}
