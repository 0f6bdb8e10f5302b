package report

import (
	"cmp"
	"slices"
	"time"
)

// Outcome is what a testcase counts as in the summary.
type Outcome int

const (
	// Passed: ginkgo state passed.
	Passed Outcome = iota
	// Failed: failed, panicked, interrupted, timedout, aborted (and any
	// state this package does not know).
	Failed
	// Skipped: skipped with a reason (from inside the spec, or an earlier
	// failure in an ordered container), pending, or selected but never
	// reached because the suite stopped.
	Skipped
	// NotSelected: filtered out by --ginkgo.label-filter, --ginkgo.focus or
	// --ginkgo.skip; not part of the run and not counted in N.
	NotSelected
)

// String returns "passed", "failed", "skipped" or "not selected".
func (o Outcome) String() string {
	switch o {
	case Passed:
		return "passed"
	case Failed:
		return "failed"
	case Skipped:
		return "skipped"
	case NotSelected:
		return "not selected"
	}
	return "unknown"
}

// OtherSIG is the SIG of a spec whose name carries no [sig-…] tag.
const OtherSIG = "other"

// Case is one <testcase>: a spec, or a suite-level node.
type Case struct {
	// Name is the testcase name without ginkgo's leading "[<node type>] ",
	// e.g. "[sig-api-machinery] Discovery should validate PreferredVersion
	// for each APIGroup [Conformance]"; "" for a suite node with no text
	// (SynchronizedBeforeSuite).
	Name string
	// Node is ginkgo's node type from the name: "It" for a spec,
	// "SynchronizedBeforeSuite", "ReportAfterSuite", … for suite nodes; ""
	// when the report was written without node types (then it is a spec).
	Node string
	// SIG is the first "sig-…" tag of the name, or OtherSIG.
	SIG string
	// Status is ginkgo's state as written: passed, skipped, pending, failed,
	// panicked, interrupted, timedout, aborted.
	Status  string
	Outcome Outcome
	// Message is the first line of the failure (Failed) or of the skip
	// reason (Skipped), trimmed and capped at about 200 characters; "" for
	// Passed and NotSelected.
	Message string
	Time    time.Duration
}

// DisplayName is Name, or "[<Node>]" (with Name after it) for a suite node.
func (c Case) DisplayName() string {
	if c.Node == "" || c.Node == "It" {
		return c.Name
	}
	if c.Name == "" {
		return "[" + c.Node + "]"
	}
	return "[" + c.Node + "] " + c.Name
}

// Report is a parsed conformance run. It is a value: nothing in it changes
// after Parse, and it is safe to read from several goroutines.
type Report struct {
	// Suite is the ginkgo suite description ("Kubernetes e2e suite").
	Suite string
	// Specs are all spec testcases, NotSelected ones included, sorted by
	// SIG (OtherSIG last) then name.
	Specs []Case
	// SetupNodes are the suite-level nodes that ran, in report order.
	SetupNodes []Case
	// SuiteSucceeded is ginkgo's verdict on the whole run (false also when
	// a suite node failed or the suite timed out).
	SuiteSucceeded bool
	// SuiteFailureReasons are ginkgo's special failure reasons ("Suite
	// Timeout Elapsed", "Interrupted by User", …).
	SuiteFailureReasons []string
	// LabelFilter, Focus and Skip are the run's --ginkgo.label-filter,
	// --ginkgo.focus and --ginkgo.skip (several flags joined by ","); DryRun
	// is --ginkgo.dry-run.
	LabelFilter, Focus, Skip string
	DryRun                   bool
}

func (r *Report) sortSpecs() {
	slices.SortStableFunc(r.Specs, func(a, b Case) int {
		return cmp.Or(compareSIG(a.SIG, b.SIG), cmp.Compare(a.Name, b.Name))
	})
}

// compareSIG orders SIG names alphabetically with OtherSIG last.
func compareSIG(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == OtherSIG:
		return 1
	case b == OtherSIG:
		return -1
	}
	return cmp.Compare(a, b)
}

// Totals counts the selected specs: passed+failed+skipped == total.
// Suite nodes and NotSelected specs are not counted.
func (r *Report) Totals() (passed, failed, skipped, total int) {
	for _, c := range r.Specs {
		switch c.Outcome {
		case Passed:
			passed++
		case Failed:
			failed++
		case Skipped:
			skipped++
		}
	}
	return passed, failed, skipped, passed + failed + skipped
}

// NotSelected is the number of specs in the report that the run's filters
// (label filter, focus, skip) left out.
func (r *Report) NotSelected() int {
	n := 0
	for _, c := range r.Specs {
		if c.Outcome == NotSelected {
			n++
		}
	}
	return n
}

// SIGResult is the count of one SIG's selected specs.
type SIGResult struct {
	SIG                     string
	Passed, Failed, Skipped int
	// Failures are the SIG's failed specs, sorted by name.
	Failures []Case
}

// Total is Passed+Failed+Skipped.
func (s SIGResult) Total() int { return s.Passed + s.Failed + s.Skipped }

// BySIG returns one result per SIG that has at least one selected spec,
// sorted by SIG name with OtherSIG last.
func (r *Report) BySIG() []SIGResult {
	var out []SIGResult
	for _, c := range r.Specs { // sorted by SIG, then name
		if c.Outcome == NotSelected {
			continue
		}
		if len(out) == 0 || out[len(out)-1].SIG != c.SIG {
			out = append(out, SIGResult{SIG: c.SIG})
		}
		s := &out[len(out)-1]
		switch c.Outcome {
		case Passed:
			s.Passed++
		case Failed:
			s.Failed++
			s.Failures = append(s.Failures, c)
		case Skipped:
			s.Skipped++
		}
	}
	return out
}

// SuiteFailures returns the suite-level nodes that did not pass or skip
// (a failed SynchronizedBeforeSuite, a failed ReportAfterSuite check, …), in
// report order.
func (r *Report) SuiteFailures() []Case {
	var out []Case
	for _, c := range r.SetupNodes {
		if c.Outcome == Failed {
			out = append(out, c)
		}
	}
	return out
}

// BeforeSuiteFailed reports whether the suite's BeforeSuite (or
// SynchronizedBeforeSuite) failed: then no spec ran at all.
func (r *Report) BeforeSuiteFailed() bool {
	for _, c := range r.SuiteFailures() {
		if c.Node == "BeforeSuite" || c.Node == "SynchronizedBeforeSuite" {
			return true
		}
	}
	return false
}

// Succeeded reports whether the run is green: no selected spec failed, no
// suite node failed, and ginkgo judged the suite successful.
func (r *Report) Succeeded() bool {
	_, failed, _, _ := r.Totals()
	return failed == 0 && len(r.SuiteFailures()) == 0 && r.SuiteSucceeded
}
