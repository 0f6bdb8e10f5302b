package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Merge adds cfg's clusters, users and contexts to the kubeconfig at path,
// replacing entries of the same name and keeping all others. With
// setCurrent, current-context becomes cfg.CurrentContext (or cfg's only
// context when CurrentContext is empty). A missing file (and its directory)
// is created with mode 0600; an existing file keeps its mode.
//
// A file that exists but does not parse is left untouched and an error is
// returned. Merge holds "<path>.lock" while it reads and writes and waits up
// to DefaultLockTimeout for it, returning an error wrapping ErrLocked after.
func Merge(path string, cfg *clientcmdapi.Config, setCurrent bool) error {
	return merge(path, cfg, setCurrent, defaultLockOptions())
}

// Remove deletes the cluster, user and context entries named name (kinc
// gives all three the same name, see ContextName) from the kubeconfig at
// path, and clears current-context when it was name. Other entries are
// kept. A missing file or missing entries are not an error. Locking and
// parse errors are as for Merge.
func Remove(path, name string) error {
	return remove(path, name, defaultLockOptions())
}

func merge(path string, cfg *clientcmdapi.Config, setCurrent bool, lock lockOptions) error {
	if cfg == nil {
		return errors.New("merge kubeconfig: config is nil")
	}
	current := cfg.CurrentContext
	if setCurrent && current == "" && len(cfg.Contexts) == 1 {
		for name := range cfg.Contexts {
			current = name
		}
	}
	if setCurrent && cfg.Contexts[current] == nil {
		return fmt.Errorf("merge kubeconfig: current context %q is not among the merged contexts", current)
	}
	return edit(path, lock, func(existing *clientcmdapi.Config) bool {
		for name, c := range cfg.Clusters {
			existing.Clusters[name] = c
		}
		for name, a := range cfg.AuthInfos {
			existing.AuthInfos[name] = a
		}
		for name, c := range cfg.Contexts {
			existing.Contexts[name] = c
		}
		if setCurrent {
			existing.CurrentContext = current
		}
		return true
	})
}

func remove(path, name string, lock lockOptions) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return edit(path, lock, func(existing *clientcmdapi.Config) bool {
		_, c := existing.Clusters[name]
		_, a := existing.AuthInfos[name]
		_, x := existing.Contexts[name]
		delete(existing.Clusters, name)
		delete(existing.AuthInfos, name)
		delete(existing.Contexts, name)
		changed := c || a || x
		if existing.CurrentContext == name {
			existing.CurrentContext = ""
			changed = true
		}
		return changed
	})
}

// edit runs fn on the parsed contents of path under the lock and writes
// the result back when fn reports a change.
func edit(path string, lock lockOptions, fn func(*clientcmdapi.Config) bool) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("create kubeconfig directory: %w", err)
	}
	release, err := acquireLock(path, lock)
	if err != nil {
		return err
	}
	defer func() {
		if rerr := release(); rerr != nil && err == nil {
			err = rerr
		}
	}()

	mode := os.FileMode(0o600)
	target := path
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		data = nil
	case err != nil:
		return fmt.Errorf("read kubeconfig: %w", err)
	default:
		// Write through a symlink rather than replacing it.
		if target, err = filepath.EvalSymlinks(path); err != nil {
			return fmt.Errorf("resolve kubeconfig %s: %w", path, err)
		}
		if fi, err := os.Stat(target); err == nil {
			mode = fi.Mode().Perm()
		}
	}
	existing, err := Parse(data)
	if err != nil {
		return fmt.Errorf("existing kubeconfig %s is not valid, leaving it unchanged: %w", path, err)
	}
	if !fn(existing) {
		return nil
	}
	out, err := Serialize(existing)
	if err != nil {
		return err
	}
	return writeAtomic(target, out, mode)
}

// writeAtomic replaces path with data via a temporary file in the same
// directory and a rename, so readers never see a partial file.
func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	name := tmp.Name()
	werr := func() error {
		if err := tmp.Chmod(mode); err != nil {
			return err
		}
		if _, err := tmp.Write(data); err != nil {
			return err
		}
		if err := tmp.Sync(); err != nil {
			return err
		}
		return tmp.Close()
	}()
	if werr != nil {
		_ = tmp.Close()
		_ = os.Remove(name)
		return fmt.Errorf("write kubeconfig %s: %w", path, werr)
	}
	if err := os.Rename(name, path); err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}
