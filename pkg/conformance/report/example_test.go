package report_test

import (
	"os"

	"github.com/kinc-dev/kinc/pkg/conformance/report"
)

// A run with --ginkgo.focus='\[Conformance\]' --ginkgo.skip='\[Serial\]' that
// hit the suite timeout: 2 specs filtered out, 1 never reached.
func ExampleReport_WriteSummary() {
	rep, err := report.ParseFile("testdata/junit_01.xml")
	if err != nil {
		panic(err)
	}
	if err := rep.WriteSummary(os.Stdout); err != nil {
		panic(err)
	}
	// Output:
	// Pass rate by SIG (passed/total):
	//   sig-api-machinery  1/2   50%  (1 failed)
	//   sig-apps           0/1    0%  (1 failed)
	//   sig-network        0/1    0%  (1 skipped)
	//   sig-node           0/1    0%  (1 failed)
	//   sig-storage        0/2    0%  (2 skipped)
	//   other              1/1  100%
	//
	// Failures by SIG:
	// sig-api-machinery: 1 passed, 1 failed, 0 skipped
	//   - [sig-api-machinery] ResourceQuota should create a ResourceQuota and capture the life of a secret. [Conformance]
	//       resourcequotas "test-quota" is forbidden: the server could not find the requested resource
	// sig-apps: 0 passed, 1 failed, 0 skipped
	//   - [sig-apps] Deployment deployment should support rollover [Conformance]
	//       A suite timeout occurred
	// sig-node: 0 passed, 1 failed, 0 skipped
	//   - [sig-node] Pods should be submitted and removed [NodeConformance] [Conformance]
	//       Test Panicked: runtime error: invalid memory address or nil pointer dereference
	//
	// 2 of the suite's 10 specs were not selected by the run's filters: not counted.
	// 1 selected spec never ran (the suite stopped first): counted as skipped.
	//
	// !!! ginkgo: Suite Timeout Elapsed
	// conformance: 2 passed, 3 failed, 3 skipped of 8
}
