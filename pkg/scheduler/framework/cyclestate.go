package framework

import (
	"fmt"
	"sync"

	"k8s.io/apimachinery/pkg/util/sets"
)

// StateKey names one plugin's data in a CycleState.
type StateKey string

// StateData is data a plugin keeps for the rest of a cycle.
type StateData interface {
	// Clone returns a copy; immutable data may return itself.
	Clone() StateData
}

// CycleState is the data plugins share during one scheduling cycle of one
// pod. PreFilter and PreScore write; Filter and Score read concurrently.
type CycleState struct {
	// storage maps StateKey to StateData; a sync.Map because Filter and
	// Score read it from many goroutines once PreFilter has written.
	storage sync.Map
	// SkipFilterPlugins and SkipScorePlugins name the plugins whose
	// PreFilter or PreScore returned Skip. Written before Filter/Score run.
	SkipFilterPlugins sets.Set[string]
	SkipScorePlugins  sets.Set[string]
	// filters are the Filter plugins to run in this cycle (those not
	// skipped), set by RunPreFilterPlugins.
	filters []FilterPlugin
}

// NewCycleState returns an empty state.
func NewCycleState() *CycleState {
	return &CycleState{SkipFilterPlugins: sets.New[string](), SkipScorePlugins: sets.New[string]()}
}

// Write stores data under key.
func (c *CycleState) Write(key StateKey, data StateData) {
	c.storage.Store(key, data)
}

// Read returns the data under key, or an error when there is none.
func (c *CycleState) Read(key StateKey) (StateData, error) {
	if d, ok := c.storage.Load(key); ok {
		return d.(StateData), nil
	}
	return nil, fmt.Errorf("%s: no state in this cycle", key)
}
