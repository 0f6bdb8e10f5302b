package manager

import (
	"errors"
	"fmt"
	"strings"
)

// Enabled returns the descriptors of known that a --controllers list
// enables, in known's order, or an error naming every entry that is not a
// known controller.
//
// The semantics are upstream's (k8s.io/controller-manager's
// IsControllerEnabled and its option validation):
//   - "foo" enables the controller foo and "-foo" disables it, foo being
//     its canonical name or an alias;
//   - for each controller the first entry naming it decides; without one,
//     "*" anywhere in the list enables it unless it is disabled by default;
//   - a list without "*" enables only what it names (an empty list,
//     nothing);
//   - an entry naming no known controller is an error, with or without
//     "-" (upstream refuses "-foo" for an unknown foo too).
func Enabled(known []Descriptor, list []string) ([]Descriptor, error) {
	canonical := map[string]string{}
	for _, d := range known {
		canonical[d.Name] = d.Name
		for _, a := range d.Aliases {
			canonical[a] = d.Name
		}
	}
	// choice is the first explicit entry for each canonical name.
	choice := map[string]bool{}
	star := false
	var errs []error
	for _, entry := range list {
		if entry == "*" {
			star = true
			continue
		}
		name := strings.TrimPrefix(entry, "-")
		c, ok := canonical[name]
		if !ok {
			errs = append(errs, fmt.Errorf("--controllers: %q is not in the list of known controllers", name))
			continue
		}
		if _, decided := choice[c]; !decided {
			choice[c] = !strings.HasPrefix(entry, "-")
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	var out []Descriptor
	for _, d := range known {
		on, decided := choice[d.Name]
		if !decided {
			on = star && !d.DisabledByDefault
		}
		if on {
			out = append(out, d)
		}
	}
	return out, nil
}

// names returns the canonical names of ds.
func names(ds []Descriptor) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Name
	}
	return out
}
