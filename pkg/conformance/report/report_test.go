package report

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestParseFixture(t *testing.T) {
	r, err := ParseFile("testdata/junit_01.xml")
	if err != nil {
		t.Fatal(err)
	}
	if p, f, s, n := r.Totals(); p != 2 || f != 3 || s != 3 || n != 8 {
		t.Errorf("Totals() = %d passed, %d failed, %d skipped of %d; want 2, 3, 3 of 8", p, f, s, n)
	}
	if got := r.NotSelected(); got != 2 {
		t.Errorf("NotSelected() = %d, want 2", got)
	}
	if r.Suite != "Kubernetes e2e suite" || r.SuiteSucceeded || r.DryRun || r.Focus != `\[Conformance\]` || r.Skip != `\[Serial\]` {
		t.Errorf("run fields = %q succeeded=%v dry=%v focus=%q skip=%q", r.Suite, r.SuiteSucceeded, r.DryRun, r.Focus, r.Skip)
	}
	if !slices.Equal(r.SuiteFailureReasons, []string{"Suite Timeout Elapsed"}) {
		t.Errorf("SuiteFailureReasons = %q", r.SuiteFailureReasons)
	}
	if got := r.SuiteFailures(); len(got) != 0 {
		t.Errorf("SuiteFailures() = %+v, want none", got)
	}
	if r.BeforeSuiteFailed() || r.Succeeded() {
		t.Errorf("BeforeSuiteFailed() = %v, Succeeded() = %v; want false, false", r.BeforeSuiteFailed(), r.Succeeded())
	}

	// Every suite node is kept apart, the one with a [sig-testing] tag too.
	var nodes []string
	for _, c := range r.SetupNodes {
		nodes = append(nodes, c.DisplayName())
	}
	wantNodes := []string{"[ReportBeforeSuite]", "[SynchronizedBeforeSuite]", "[SynchronizedAfterSuite]", "[ReportAfterSuite] [sig-testing] Log Check"}
	if !slices.Equal(nodes, wantNodes) {
		t.Errorf("SetupNodes = %q, want %q", nodes, wantNodes)
	}

	want := []struct {
		name    string
		sig     string
		status  string
		outcome Outcome
		message string
	}{
		{"[sig-api-machinery] Discovery should validate PreferredVersion for each APIGroup [Conformance]", "sig-api-machinery", "passed", Passed, ""},
		{"[sig-api-machinery] Namespaces [Serial] should ensure that all pods are removed when a namespace is deleted [Conformance]", "sig-api-machinery", "skipped", NotSelected, ""},
		{"[sig-api-machinery] ResourceQuota should create a ResourceQuota and capture the life of a secret. [Conformance]", "sig-api-machinery", "failed", Failed,
			`resourcequotas "test-quota" is forbidden: the server could not find the requested resource`},
		{"[sig-apps] Deployment deployment should support rollover [Conformance]", "sig-apps", "timedout", Failed, "A suite timeout occurred"},
		{"[sig-network] DNS should provide DNS for the cluster [Conformance]", "sig-network", "skipped", Skipped, notRunMessage},
		{"[sig-node] Pods should be submitted and removed [NodeConformance] [Conformance]", "sig-node", "panicked", Failed,
			"Test Panicked: runtime error: invalid memory address or nil pointer dereference"},
		{"[sig-node] RuntimeClass should reject a Pod requesting a RuntimeClass with an unconfigured handler [NodeFeature:RuntimeHandler]", "sig-node", "skipped", NotSelected, ""},
		{"[sig-storage] EmptyDir volumes should support (root,0644,tmpfs) [LinuxOnly] [NodeConformance] [Conformance]", "sig-storage", "skipped", Skipped,
			"Only supported for node OS distro [gci ubuntu custom] (not debian)"},
		{"[sig-storage] Projected secret should be consumable from pods in volume [Conformance]", "sig-storage", "pending", Skipped, "pending"},
		{"Example spec without a SIG tag should run [Conformance]", OtherSIG, "passed", Passed, ""},
	}
	if len(r.Specs) != len(want) {
		t.Fatalf("got %d specs, want %d", len(r.Specs), len(want))
	}
	for i, w := range want {
		c := r.Specs[i]
		if c.Name != w.name || c.Node != "It" || c.SIG != w.sig || c.Status != w.status || c.Outcome != w.outcome || c.Message != w.message {
			t.Errorf("spec %d = %+v\nwant name %q sig %q status %q outcome %v message %q", i, c, w.name, w.sig, w.status, w.outcome, w.message)
		}
	}
}

func TestBySIG(t *testing.T) {
	r, err := ParseFile("testdata/junit_01.xml")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range r.BySIG() {
		line := fmt.Sprintf("%s %d/%d/%d/%d", s.SIG, s.Passed, s.Failed, s.Skipped, s.Total())
		for _, f := range s.Failures {
			line += " | " + f.Name
		}
		got = append(got, line)
	}
	want := []string{
		"sig-api-machinery 1/1/0/2 | [sig-api-machinery] ResourceQuota should create a ResourceQuota and capture the life of a secret. [Conformance]",
		"sig-apps 0/1/0/1 | [sig-apps] Deployment deployment should support rollover [Conformance]",
		"sig-network 0/0/1/1",
		"sig-node 0/1/0/1 | [sig-node] Pods should be submitted and removed [NodeConformance] [Conformance]",
		"sig-storage 0/0/2/2",
		"other 1/0/0/1",
	}
	if !slices.Equal(got, want) {
		t.Errorf("BySIG():\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestBeforeSuiteFailed(t *testing.T) {
	r, err := ParseFile("testdata/beforesuite_failed.xml")
	if err != nil {
		t.Fatal(err)
	}
	if p, f, s, n := r.Totals(); p+f+s+n != 0 || len(r.Specs) != 0 {
		t.Errorf("Totals() = %d, %d, %d of %d with %d specs; want all 0 (the [sig-testing] suite node is not a spec)", p, f, s, n, len(r.Specs))
	}
	fails := r.SuiteFailures()
	if len(fails) != 1 || fails[0].Node != "SynchronizedBeforeSuite" ||
		fails[0].Message != "Error waiting for all pods to be running and ready: Timed out after 300.000s." {
		t.Fatalf("SuiteFailures() = %+v", fails)
	}
	if !r.BeforeSuiteFailed() || r.Succeeded() {
		t.Errorf("BeforeSuiteFailed() = %v, Succeeded() = %v; want true, false", r.BeforeSuiteFailed(), r.Succeeded())
	}
	var b strings.Builder
	if err := r.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	want := `
!!! [SynchronizedBeforeSuite] FAILED: NO SPEC RAN.
!!!   Error waiting for all pods to be running and ready: Timed out after 300.000s.
!!! It checks the cluster before any spec (every node schedulable, every kube-system pod Running and Ready): see the e2e log.
conformance: 0 passed, 0 failed, 0 skipped of 0
`
	if b.String() != want {
		t.Errorf("WriteSummary:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestEmptySuite(t *testing.T) {
	r, err := ParseFile("testdata/empty.xml")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, n := r.Totals(); n != 0 || len(r.BySIG()) != 0 || !r.Succeeded() {
		t.Errorf("empty report: total %d, %d SIGs, Succeeded() = %v", n, len(r.BySIG()), r.Succeeded())
	}
	var b strings.Builder
	if err := r.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	if want := "conformance: 0 passed, 0 failed, 0 skipped of 0\n"; b.String() != want {
		t.Errorf("WriteSummary = %q, want %q", b.String(), want)
	}
}
