// Package workdir removes the work directories of debootstrap builds (the
// node image's rootfs, the conformance test images' base) safely: an
// interrupted debootstrap leaves proc and sys mounted inside its target,
// and deleting through a mount would reach the host's files.
package workdir

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/log"
)

// Mounts lists this machine's mount points; ReadMounts is the real one,
// tests inject others.
type Mounts func() ([]string, error)

// MountsUnder returns the mount points strictly inside dir, in the order
// mounts lists them (outermost first). When mounts fails it returns one
// entry saying so, so that callers treat the directory as not safe.
func MountsUnder(mounts Mounts, dir string) []string {
	points, err := mounts()
	if err != nil {
		return []string{"(unknown: " + err.Error() + ")"}
	}
	var under []string
	for _, p := range points {
		if strings.HasPrefix(p, dir+string(filepath.Separator)) {
			under = append(under, p)
		}
	}
	return under
}

// Remove deletes dir, first unmounting (umount -l through cmder, deepest
// first, even when ctx is cancelled) whatever is mounted inside it. It
// keeps the directory, and warns through logger, when something stays
// mounted; a failed removal is a warning too.
func Remove(ctx context.Context, cmder exec.Cmder, mounts Mounts, logger log.Logger, dir string) {
	under := MountsUnder(mounts, dir)
	for i := len(under) - 1; i >= 0; i-- { // deepest first
		_ = cmder.CommandContext(context.WithoutCancel(ctx), "umount", "-l", under[i]).Run()
	}
	if left := MountsUnder(mounts, dir); len(left) > 0 {
		logger.Warnf("not removing %s: still mounted inside it: %s (unmount them, then delete it)", dir, strings.Join(left, ", "))
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		logger.Warnf("remove %s: %v", dir, err)
	}
}

// ReadMounts returns this machine's mount points (Linux: /proc/self/mounts;
// elsewhere none, as debootstrap does not run there).
func ReadMounts() ([]string, error) {
	data, err := os.ReadFile("/proc/self/mounts")
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseMounts(string(data)), nil
}

// parseMounts returns the mount points (second field) of a mounts table.
func parseMounts(table string) []string {
	var points []string
	for _, line := range strings.Split(table, "\n") {
		if f := strings.Fields(line); len(f) > 1 {
			points = append(points, unescapeMount(f[1]))
		}
	}
	return points
}

// unescapeMount decodes the octal escapes (\040 for a space) of /proc/mounts.
func unescapeMount(s string) string {
	var out strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			var v int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%03o", &v); err == nil {
				out.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		out.WriteByte(s[i])
	}
	return out.String()
}
