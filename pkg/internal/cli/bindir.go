package cli

import (
	"os"
	"path/filepath"
)

// DefaultBinDir is where `make build` put kinc's binaries: the running
// binary's directory when it holds etcd, else ./bin.
func DefaultBinDir() string {
	if exe, err := os.Executable(); err == nil {
		dir := filepath.Dir(exe)
		if _, err := os.Stat(filepath.Join(dir, "etcd")); err == nil {
			return dir
		}
	}
	return "bin"
}
