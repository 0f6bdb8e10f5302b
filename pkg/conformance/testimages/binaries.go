package testimages

import (
	"debug/elf"
	"fmt"
	"runtime"
)

// elfMachines are the ELF machines of the architectures Go builds for
// Linux that Debian's debootstrap serves.
var elfMachines = map[string]elf.Machine{
	"amd64":   elf.EM_X86_64,
	"arm64":   elf.EM_AARCH64,
	"ppc64le": elf.EM_PPC64,
	"s390x":   elf.EM_S390,
}

// checkBinary makes sure path is a Linux executable for this machine's
// architecture (the base image's), and a static one when its image starts
// FROM scratch (pause): a wrong binary would otherwise fail only when a
// spec's container starts.
func checkBinary(name, path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("the %s binary %s is not a Linux executable (build it with GOOS=linux): %w", name, path, err)
	}
	defer f.Close()
	if want, ok := elfMachines[runtime.GOARCH]; ok && f.Machine != want {
		return fmt.Errorf("the %s binary %s is for %s, not this machine's %s (build it with GOARCH=%s)", name, path, f.Machine, runtime.GOARCH, runtime.GOARCH)
	}
	if name == BinaryPause {
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				return fmt.Errorf("the %s binary %s is dynamically linked; its image has no libraries (build it with CGO_ENABLED=0)", name, path)
			}
		}
	}
	return nil
}
