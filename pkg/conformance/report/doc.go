// Package report reads the JUnit report the upstream conformance binary
// e2e.test writes to <report-dir>/junit_01.xml and summarises it the way
// `make conformance` ends:
//
//	conformance: P passed, F failed, S skipped of N
//
// The report is the one ginkgo v2's reporters.GenerateJUnitReportWithConfig
// writes, configured as Kubernetes' test/e2e/framework/internal/junit does:
// no labels appended to names (they are inline in the spec text), no
// failure message attribute (the message is the first line of the failure
// element's text, after a "[FAILED] " marker), specs sorted by name. One
// <testcase> per spec, named "[It] <full spec text>", plus one per suite-level
// node that ran ([SynchronizedBeforeSuite], [ReportAfterSuite] <text>, …).
//
// What N counts: ginkgo writes a <testcase> for every spec of the suite,
// including the ones --ginkgo.label-filter, --ginkgo.focus and --ginkgo.skip
// filtered out (3206 specs at v1.37.2), as skipped with the bare message
// "skipped". Those are not part of the run: N counts only the selected specs,
// P+F+S = N, and the number left out is reported beside it
// (Report.NotSelected). A bare "skipped" also marks a selected spec the suite
// never reached (interrupt, suite timeout, an aborted spec); the two are told
// apart by redoing ginkgo's selection from the filters recorded in the
// report's properties (a label filter of "&&"-joined, possibly negated labels,
// looked for as "[label]" tags in the spec text as Kubernetes writes them;
// the focus and skip regexes). When the filters cannot be redone, a bare skip
// counts as filtered out. A spec skipped from inside (e2eskipper, "skipped -
// <reason>") and a pending spec count as skipped.
//
// Suite-level nodes are never specs. When the BeforeSuite fails no spec runs
// and none is written: the summary says so loudly above its "0 of 0" line
// (Report.BeforeSuiteFailed).
package report
