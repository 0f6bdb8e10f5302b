package report

import (
	"errors"
	"strings"
	"testing"
)

// doc wraps testcases (and a properties block) in the document ginkgo writes.
func doc(props, cases string) string {
	return `<?xml version="1.0" encoding="UTF-8"?>
  <testsuites tests="1" disabled="0" errors="0" failures="0" time="1">
      <testsuite name="Kubernetes e2e suite" package="/usr/local/bin" tests="1" disabled="0" skipped="0" errors="0" failures="0" time="1" timestamp="2026-12-07T00:10:03">
          <properties>` + props + `</properties>
` + cases + `
      </testsuite>
  </testsuites>
`
}

func prop(name, value string) string {
	return `<property name="` + name + `" value="` + value + `"></property>`
}

func TestParseMalformed(t *testing.T) {
	for _, tc := range []struct {
		name, in   string
		notGinkgo  bool
		wantSubstr string
	}{
		{name: "empty input", in: "", wantSubstr: "no XML element"},
		{name: "not XML", in: "FAIL: e2e.test: exec format error\n", wantSubstr: "no XML element"},
		{name: "truncated", in: doc("", `<testcase name="[It] x" classname="s" status="passed" time="1">`)[:300], wantSubstr: "XML syntax error"},
		{name: "bad syntax", in: `<testsuites><testsuite><testcase name="a" status="passed"></testsuite></testsuites>`, wantSubstr: "XML syntax error"},
		{name: "bare testsuite root", in: `<testsuite name="go test"><testcase name="TestX" classname="pkg" time="0.1"></testcase></testsuite>`,
			notGinkgo: true, wantSubstr: "expected element type <testsuites>"},
		{name: "testcase without status", in: `<testsuites><testsuite name="pkg"><testcase name="TestX" classname="pkg" time="0.1"></testcase></testsuite></testsuites>`,
			notGinkgo: true, wantSubstr: `testcase "TestX" has no status attribute`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(strings.NewReader(tc.in))
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", r)
			}
			if errors.Is(err, ErrNotGinkgoJUnit) != tc.notGinkgo || !strings.Contains(err.Error(), tc.wantSubstr) {
				t.Errorf("Parse error = %v; want ErrNotGinkgoJUnit %v, containing %q", err, tc.notGinkgo, tc.wantSubstr)
			}
		})
	}
}

func TestParseFileMissing(t *testing.T) {
	if _, err := ParseFile("testdata/no-such-report.xml"); err == nil || !strings.Contains(err.Error(), "no-such-report.xml") {
		t.Errorf("ParseFile of a missing file: %v", err)
	}
}

// A bare "skipped" is a spec filtered out, unless the run's own label
// filter, focus and skip select it (then the suite stopped before it); when
// the selection cannot be redone it is taken as filtered out.
func TestBareSkipSelection(t *testing.T) {
	const cases = `<testcase name="[It] [sig-apps] Job should run [Conformance]" classname="Kubernetes e2e suite" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>
<testcase name="[It] [sig-apps] Job should be slow [Slow]" classname="Kubernetes e2e suite" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>`
	for _, tc := range []struct {
		name                   string
		props                  string
		wantSkipped, wantNotSe int
	}{
		{"focus", prop("FocusStrings", `\[Conformance\]`), 1, 1},
		{"focus on the suite description", prop("FocusStrings", `^Kubernetes e2e suite \[sig-apps\] Job should run`), 1, 1},
		{"skip", prop("SkipStrings", `\[Slow\]`), 1, 1},
		{"focus and skip", prop("FocusStrings", `\[sig-apps\]`) + prop("SkipStrings", `\[Conformance\]`), 1, 1},
		{"no filter: both selected, never reached", "", 2, 0},
		{"label filter", prop("LabelFilter", "Conformance"), 1, 1},
		{"label filter, any case, and focus", prop("LabelFilter", " conformance ") + prop("FocusStrings", `\[sig-apps\]`), 1, 1},
		{"label filter with a negation", prop("LabelFilter", "!Conformance &amp;&amp; Slow"), 1, 1},
		{"label filter and a focus selecting nothing", prop("LabelFilter", "Conformance") + prop("FocusStrings", `\[sig-node\]`), 0, 2},
		{"label filter with ||: cannot redo", prop("LabelFilter", "Conformance || Slow"), 0, 2},
		{"programmatic focus: cannot redo", prop("SuiteHasProgrammaticFocus", "true"), 0, 2},
		{"bad regex: cannot redo", prop("FocusStrings", `(`), 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(strings.NewReader(doc(tc.props, cases)))
			if err != nil {
				t.Fatal(err)
			}
			_, _, skipped, total := r.Totals()
			if skipped != tc.wantSkipped || total != tc.wantSkipped || r.NotSelected() != tc.wantNotSe {
				t.Errorf("skipped %d of %d, not selected %d; want %d of %d, %d", skipped, total, r.NotSelected(), tc.wantSkipped, tc.wantSkipped, tc.wantNotSe)
			}
		})
	}
}

func TestNoSpecSelected(t *testing.T) {
	r, err := Parse(strings.NewReader(doc(prop("FocusStrings", `\[sig-nothing\]`),
		`<testcase name="[It] [sig-apps] Job should run [Conformance]" classname="Kubernetes e2e suite" status="skipped" time="0"><skipped message="skipped"></skipped></testcase>`)))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := r.WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	want := `
1 of the suite's 1 specs was not selected by the run's filters: not counted.
No spec was selected: check the label filter "", focus "\\[sig-nothing\\]" and skip "".
conformance: 0 passed, 0 failed, 0 skipped of 0
`
	if b.String() != want {
		t.Errorf("WriteSummary:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestFailureMessage(t *testing.T) {
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		name, el, want string
	}{
		{"k8s: no attribute, marker and location line",
			`<failure message="" type="failed">[FAILED] first&#xA;second&#xA;In [It] at: a.go:1 @ 12/07/26 00:12:41.503&#xA;</failure>`, "first"},
		{"attribute wins",
			`<failure message="  from the attribute&#xA;and more" type="failed">[FAILED] from the text</failure>`, "from the attribute"},
		{"leading blank lines and colours",
			"<failure message=\"\" type=\"failed\">[FAILED] &#xA;&#xA;  \uFFFD[1mExpected\uFFFD[0m   &#xA;In [It] at: a.go:1 @ x</failure>", "Expected"},
		{"empty message",
			`<failure message="" type="failed">[FAILED] &#xA;In [BeforeEach] at: a.go:1 @ x</failure>`, "(failed, no message)"},
		{"no failure element", ``, "(failed, no failure recorded)"},
		{"panic value from the attribute",
			`<error message="boom" type="panicked">[PANICKED] Test Panicked</error>`, "Test Panicked: boom"},
		{"interrupted",
			`<error message="" type="interrupted">[INTERRUPTED] Interrupted by User&#xA;In [It] at: a.go:1 @ x</error>`, "Interrupted by User"},
		{"capped", `<failure message="" type="failed">[FAILED] ` + long + `</failure>`, strings.Repeat("x", maxMessage-1) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(strings.NewReader(doc("",
				`<testcase name="[It] [sig-x] y" classname="Kubernetes e2e suite" status="failed" time="1">`+tc.el+`</testcase>`)))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Specs[0].Message; got != tc.want {
				t.Errorf("Message = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStatusMapping(t *testing.T) {
	var cases strings.Builder
	for _, st := range []string{"passed", "failed", "panicked", "interrupted", "timedout", "aborted", "INVALID SPEC STATE"} {
		cases.WriteString(`<testcase name="[It] [sig-x] ` + st + `" classname="s" status="` + st + `" time="1"></testcase>` + "\n")
	}
	cases.WriteString(`<testcase name="[It] [sig-x] pending" classname="s" status="pending" time="0"><skipped message="pending"></skipped></testcase>` + "\n")
	cases.WriteString(`<testcase name="[It] [sig-x] skip" classname="s" status="skipped" time="0"><skipped message="skipped - why&#xA;more"></skipped></testcase>` + "\n")
	r, err := Parse(strings.NewReader(doc("", cases.String())))
	if err != nil {
		t.Fatal(err)
	}
	if p, f, s, n := r.Totals(); p != 1 || f != 6 || s != 2 || n != 9 {
		t.Errorf("Totals() = %d, %d, %d of %d; want 1, 6, 2 of 9", p, f, s, n)
	}
	for _, c := range r.Specs {
		if c.Name == "[sig-x] skip" && c.Message != "why" {
			t.Errorf("in-spec skip Message = %q, want %q", c.Message, "why")
		}
	}
}

// Without node types in the names (OmitLeafNodeType) every testcase is a spec.
func TestNamesWithoutNodeType(t *testing.T) {
	r, err := Parse(strings.NewReader(doc("",
		`<testcase name="[sig-cli] Kubectl client should create a quota [Conformance]" classname="s" status="passed" time="1"></testcase>`)))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Specs) != 1 || r.Specs[0].Node != "" || r.Specs[0].SIG != "sig-cli" || r.Specs[0].Name != "[sig-cli] Kubectl client should create a quota [Conformance]" {
		t.Errorf("Specs = %+v", r.Specs)
	}
}
