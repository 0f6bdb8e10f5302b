package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteSummary writes the end of a conformance run for a human, in this
// order: the pass rate of every SIG with selected specs (passed/total), the
// failed specs grouped by SIG with the first line of each failure, the
// number of specs the run's filters left out, the suite-level failures
// (loudly, a failed BeforeSuite first: no spec ran), and last the line
//
//	conformance: P passed, F failed, S skipped of N
//
// which is always the final line, so scripts can take it with `tail -n 1`.
// The output depends only on the report (no times, no map order). It
// returns the first write error.
func (r *Report) WriteSummary(w io.Writer) error {
	bw := bufio.NewWriter(w)
	sigs := r.BySIG()
	if len(sigs) > 0 {
		fmt.Fprintln(bw, "Pass rate by SIG (passed/total):")
		var sigWidth, countWidth int
		for _, s := range sigs {
			sigWidth = max(sigWidth, len(s.SIG))
			countWidth = max(countWidth, len(fmt.Sprintf("%d/%d", s.Passed, s.Total())))
		}
		for _, s := range sigs {
			count := fmt.Sprintf("%d/%d", s.Passed, s.Total())
			row := fmt.Sprintf("  %-*s  %*s  %4s  %s", sigWidth, s.SIG, countWidth, count, percent(s.Passed, s.Total()), details(s))
			fmt.Fprintln(bw, strings.TrimRight(row, " "))
		}
	}

	failing := 0
	for _, s := range sigs {
		if s.Failed > 0 {
			failing++
		}
	}
	if failing > 0 {
		fmt.Fprintln(bw)
		fmt.Fprintln(bw, "Failures by SIG:")
		for _, s := range sigs {
			if s.Failed == 0 {
				continue
			}
			fmt.Fprintf(bw, "%s: %d passed, %d failed, %d skipped\n", s.SIG, s.Passed, s.Failed, s.Skipped)
			for _, c := range s.Failures {
				fmt.Fprintf(bw, "  - %s\n      %s\n", c.Name, c.Message)
			}
		}
	}

	var notes []string
	if n := r.NotSelected(); n > 0 {
		notes = append(notes, fmt.Sprintf("%d of the suite's %d specs %s not selected by the run's filters: not counted.", n, len(r.Specs), plural(n, "was", "were")))
	}
	if n := r.notRun(); n > 0 {
		notes = append(notes, fmt.Sprintf("%d selected %s never ran (the suite stopped first): counted as skipped.", n, plural(n, "spec", "specs")))
	}
	if _, _, _, total := r.Totals(); total == 0 && len(r.Specs) > 0 && !r.BeforeSuiteFailed() {
		notes = append(notes, fmt.Sprintf("No spec was selected: check the label filter %q, focus %q and skip %q.", r.LabelFilter, r.Focus, r.Skip))
	}
	if r.DryRun {
		notes = append(notes, "This was a dry run (--ginkgo.dry-run): no spec ran, selected specs show as passed.")
	}
	if len(notes) > 0 {
		fmt.Fprintln(bw)
		for _, n := range notes {
			fmt.Fprintln(bw, n)
		}
	}

	r.writeSuiteFailures(bw)

	passed, failed, skipped, total := r.Totals()
	fmt.Fprintf(bw, "conformance: %d passed, %d failed, %d skipped of %d\n", passed, failed, skipped, total)
	return bw.Flush()
}

// writeSuiteFailures writes the suite nodes that failed and ginkgo's special
// failure reasons; nothing when there are none.
func (r *Report) writeSuiteFailures(w io.Writer) {
	failures := r.SuiteFailures()
	if len(failures) == 0 && len(r.SuiteFailureReasons) == 0 && r.SuiteSucceeded {
		return
	}
	fmt.Fprintln(w)
	for _, c := range failures {
		if c.Node == "BeforeSuite" || c.Node == "SynchronizedBeforeSuite" {
			fmt.Fprintf(w, "!!! %s %s: NO SPEC RAN.\n", c.DisplayName(), strings.ToUpper(c.Status))
			fmt.Fprintf(w, "!!!   %s\n", c.Message)
			fmt.Fprintln(w, "!!! It checks the cluster before any spec (every node schedulable, every kube-system pod Running and Ready): see the e2e log.")
			continue
		}
		fmt.Fprintf(w, "!!! suite node %s %s: %s\n", c.DisplayName(), c.Status, c.Message)
	}
	if len(r.SuiteFailureReasons) > 0 {
		fmt.Fprintf(w, "!!! ginkgo: %s\n", strings.Join(r.SuiteFailureReasons, "; "))
	}
	if len(failures) == 0 && len(r.SuiteFailureReasons) == 0 {
		fmt.Fprintln(w, "!!! ginkgo reports the suite as failed.")
	}
}

func percent(n, total int) string {
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%d%%", n*100/total)
}

// details is the SIG row's "(F failed, S skipped)", leaving out zeros.
func details(s SIGResult) string {
	var parts []string
	if s.Failed > 0 {
		parts = append(parts, fmt.Sprintf("%d failed", s.Failed))
	}
	if s.Skipped > 0 {
		parts = append(parts, fmt.Sprintf("%d skipped", s.Skipped))
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// notRun counts the selected specs the suite never reached.
func (r *Report) notRun() int {
	n := 0
	for _, c := range r.Specs {
		if c.Outcome == Skipped && c.Message == notRunMessage {
			n++
		}
	}
	return n
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
