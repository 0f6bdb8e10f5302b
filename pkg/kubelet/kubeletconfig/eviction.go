package kubeletconfig

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Eviction signals of upstream's kubelet that a threshold may name.
const (
	SignalMemoryAvailable   = "memory.available"
	SignalNodeFsAvailable   = "nodefs.available"
	SignalNodeFsInodesFree  = "nodefs.inodesFree"
	SignalImageFsAvailable  = "imagefs.available"
	SignalImageFsInodesFree = "imagefs.inodesFree"
	SignalPIDAvailable      = "pid.available"
)

// DefaultEvictionHard returns upstream's default hard eviction thresholds.
func DefaultEvictionHard() map[string]string {
	return map[string]string{
		SignalMemoryAvailable:   "100Mi",
		SignalNodeFsAvailable:   "10%",
		SignalNodeFsInodesFree:  "5%",
		SignalImageFsAvailable:  "15%",
		SignalImageFsInodesFree: "5%",
	}
}

// Threshold is one signal's limit: a percentage of the capacity or an
// absolute quantity. The zero Threshold never triggers.
type Threshold struct {
	Percent  float64 // of the capacity, when set
	Quantity int64   // bytes (or a count), when Percent is 0
}

// Crossed reports whether available (of capacity) is under the threshold.
// An unknown capacity (0) never crosses a percentage.
func (t Threshold) Crossed(available, capacity int64) bool {
	if t.Percent > 0 {
		return capacity > 0 && float64(available)*100 < t.Percent*float64(capacity)
	}
	return t.Quantity > 0 && available < t.Quantity
}

// EvictionThreshold returns the threshold the configuration sets for a
// signal (the zero Threshold when it sets none or the value is invalid;
// Validate reports invalid ones).
func (c *KubeletConfiguration) EvictionThreshold(signal string) Threshold {
	t, _ := parseThreshold(c.EvictionHard[signal])
	return t
}

// parseThreshold reads "10%" or a quantity ("100Mi"); "" is no threshold.
func parseThreshold(v string) (Threshold, error) {
	if v == "" {
		return Threshold{}, nil
	}
	if pct, ok := strings.CutSuffix(v, "%"); ok {
		f, err := strconv.ParseFloat(pct, 64)
		if err != nil || f < 0 || f > 100 {
			return Threshold{}, fmt.Errorf("must be a percentage between 0%% and 100%%")
		}
		return Threshold{Percent: f}, nil
	}
	q, err := resource.ParseQuantity(v)
	if err != nil {
		return Threshold{}, fmt.Errorf("must be a percentage (e.g. 10%%) or a quantity (e.g. 100Mi)")
	}
	if q.Sign() < 0 {
		return Threshold{}, fmt.Errorf("must not be negative")
	}
	return Threshold{Quantity: q.Value()}, nil
}

func validateEvictionHard(path *field.Path, m map[string]string) field.ErrorList {
	known := map[string]bool{SignalMemoryAvailable: true, SignalNodeFsAvailable: true, SignalNodeFsInodesFree: true,
		SignalImageFsAvailable: true, SignalImageFsInodesFree: true, SignalPIDAvailable: true}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs field.ErrorList
	for _, k := range keys {
		if !known[k] {
			errs = append(errs, field.NotSupported(path.Key(k), k, []string{SignalMemoryAvailable, SignalNodeFsAvailable,
				SignalNodeFsInodesFree, SignalImageFsAvailable, SignalImageFsInodesFree, SignalPIDAvailable}))
			continue
		}
		if _, err := parseThreshold(m[k]); err != nil {
			errs = append(errs, field.Invalid(path.Key(k), m[k], err.Error()))
		}
	}
	return errs
}
