package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"
)

// ErrLocked is returned (wrapped) when the lock file of a kubeconfig stays
// held by someone else for longer than the lock timeout.
var ErrLocked = errors.New("kubeconfig is locked")

// Default lock behaviour of Merge and Remove.
const (
	DefaultLockTimeout  = 10 * time.Second
	defaultLockInterval = 20 * time.Millisecond
)

// lockOptions bound how long to wait for a held lock.
type lockOptions struct {
	timeout  time.Duration
	interval time.Duration
}

func defaultLockOptions() lockOptions {
	return lockOptions{timeout: DefaultLockTimeout, interval: defaultLockInterval}
}

// lockPath is the lock file guarding path, the name client-go uses too.
func lockPath(path string) string { return path + ".lock" }

// acquireLock creates "<path>.lock" exclusively, retrying every
// opts.interval until opts.timeout has passed. The returned function
// removes the lock file; call it exactly once.
func acquireLock(path string, opts lockOptions) (func() error, error) {
	name := lockPath(path)
	deadline := time.Now().Add(opts.timeout)
	for {
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			if err := f.Close(); err != nil {
				_ = os.Remove(name)
				return nil, fmt.Errorf("create lock %s: %w", name, err)
			}
			return func() error {
				if err := os.Remove(name); err != nil {
					return fmt.Errorf("release lock %s: %w", name, err)
				}
				return nil
			}, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("create lock %s: %w", name, err)
		}
		if !time.Now().Before(deadline) {
			return nil, fmt.Errorf("%w: %s still exists after %s (remove it if no kinc or kubectl is running)",
				ErrLocked, name, opts.timeout)
		}
		time.Sleep(opts.interval)
	}
}
