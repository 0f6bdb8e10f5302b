package report

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"
)

// The XML shapes below are the subset of ginkgo v2's reporters.JUnitTestSuites
// this package reads (github.com/onsi/ginkgo/v2/reporters/junit_report.go).

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Status    *string       `xml:"status,attr"`
	Time      float64       `xml:"time,attr"`
	Skipped   *junitMessage `xml:"skipped"`
	Failure   *junitMessage `xml:"failure"`
	Error     *junitMessage `xml:"error"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// ErrNotGinkgoJUnit is wrapped by Parse's error when the input is well-formed
// XML but not a report written by ginkgo's JUnit reporter.
var ErrNotGinkgoJUnit = errors.New("not a ginkgo JUnit report")

// Parse reads a ginkgo v2 JUnit report (the <testsuites> document e2e.test
// writes to <report-dir>/junit_01.xml) from r.
//
// It fails with a wrapped decoding error on malformed or empty input, and
// with an error wrapping ErrNotGinkgoJUnit when the root element is not
// <testsuites> or a <testcase> carries no status attribute (ginkgo always
// writes one; other JUnit writers do not). A document with no testcase is a
// valid, empty report. Several <testsuite> elements (a merged report) are read
// as one run; the first suite's properties describe it.
func Parse(r io.Reader) (*Report, error) {
	var doc junitSuites
	dec := xml.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		var unexpected xml.UnmarshalError
		if errors.As(err, &unexpected) {
			return nil, fmt.Errorf("%w: %v", ErrNotGinkgoJUnit, err)
		}
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("parsing JUnit report: no XML element in the input")
		}
		return nil, fmt.Errorf("parsing JUnit report: %w", err)
	}
	rep := &Report{SuiteSucceeded: true}
	var sel *selection
	for i, s := range doc.Suites {
		props := map[string]string{}
		for _, p := range s.Properties {
			props[p.Name] = p.Value
		}
		if i == 0 {
			rep.Suite = s.Name
			sel = rep.readProperties(props)
		} else if props["SuiteSucceeded"] == "false" {
			rep.SuiteSucceeded = false
		}
		for _, jc := range s.Cases {
			if jc.Status == nil {
				return nil, fmt.Errorf("%w: testcase %q has no status attribute", ErrNotGinkgoJUnit, jc.Name)
			}
			c := newCase(jc, sel)
			if c.Node != "" && c.Node != "It" {
				rep.SetupNodes = append(rep.SetupNodes, c)
				continue
			}
			rep.Specs = append(rep.Specs, c)
		}
	}
	rep.sortSpecs()
	return rep, nil
}

// ParseFile is Parse of the file at path; errors name the file.
func ParseFile(path string) (*Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rep, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

// readProperties fills the run-wide fields from a suite's properties and
// returns the spec selection they describe (nil when it cannot be redone).
func (r *Report) readProperties(props map[string]string) *selection {
	r.SuiteSucceeded = props["SuiteSucceeded"] != "false"
	if reasons := props["SpecialSuiteFailureReason"]; reasons != "" {
		r.SuiteFailureReasons = strings.Split(reasons, ",")
	}
	r.LabelFilter = props["LabelFilter"]
	r.Focus = props["FocusStrings"]
	r.Skip = props["SkipStrings"]
	r.DryRun = props["DryRun"] == "true"
	return newSelection(props)
}

// selection redoes ginkgo's filter decision (label filter, focus, skip) for
// one spec (see ginkgo's internal/focus.go: the regexes match "<suite
// description> <spec text>").
type selection struct {
	focus, skip *regexp.Regexp
	labels      []labelTerm // all must hold
}

// labelTerm is one term of a label filter: the spec has the label, or (not)
// it does not. Kubernetes' e2e framework writes a spec's labels into its
// text as "[<label>]" ("[Conformance]", "[Feature:X]", "[Serial]"), so a
// label is looked for there; ginkgo compares labels case-insensitively.
type labelTerm struct {
	tag string // "[conformance]"
	not bool
}

// plainLabelRE is a label with none of the label filter's operators.
var plainLabelRE = regexp.MustCompile(`^[A-Za-z0-9_.:\-]+$`)

// parseLabelFilter reads the label filters kinc and most users write: one
// label, or labels joined by "&&", each possibly negated with "!"
// ("Conformance", "Conformance && !Serial"). ok is false for any other
// expression (||, parentheses, regexes, set operations).
func parseLabelFilter(filter string) (terms []labelTerm, ok bool) {
	for _, part := range strings.Split(filter, "&&") {
		part = strings.TrimSpace(part)
		t := labelTerm{}
		if rest, found := strings.CutPrefix(part, "!"); found {
			t.not, part = true, strings.TrimSpace(rest)
		}
		if !plainLabelRE.MatchString(part) {
			return nil, false
		}
		t.tag = "[" + strings.ToLower(part) + "]"
		terms = append(terms, t)
	}
	return terms, true
}

// newSelection returns nil when the selection cannot be redone from the
// properties: a label filter parseLabelFilter does not read, semantic-version
// or file filters, programmatic focus, or a regex that does not compile.
// FocusStrings and SkipStrings hold the flags joined by ","; one flag each
// (the usual case, and `make conformance`'s) is read exactly, several are
// read as one regex.
func newSelection(props map[string]string) *selection {
	for _, k := range []string{"SemVerFilter", "FocusFiles", "SkipFiles"} {
		if props[k] != "" {
			return nil
		}
	}
	if props["SuiteHasProgrammaticFocus"] == "true" {
		return nil
	}
	var s selection
	if f := strings.TrimSpace(props["LabelFilter"]); f != "" {
		terms, ok := parseLabelFilter(f)
		if !ok {
			return nil
		}
		s.labels = terms
	}
	for _, f := range []struct {
		prop string
		re   **regexp.Regexp
	}{{"FocusStrings", &s.focus}, {"SkipStrings", &s.skip}} {
		if v := props[f.prop]; v != "" {
			re, err := regexp.Compile(v)
			if err != nil {
				return nil
			}
			*f.re = re
		}
	}
	return &s
}

func (s *selection) selects(suite, text string) bool {
	lower := strings.ToLower(text)
	for _, t := range s.labels {
		if strings.Contains(lower, t.tag) == t.not {
			return false
		}
	}
	full := suite + " " + text
	if s.focus != nil && !s.focus.MatchString(full) {
		return false
	}
	return s.skip == nil || !s.skip.MatchString(full)
}

// leafRE splits ginkgo's "[<node type>] <text>" testcase name.
var leafRE = regexp.MustCompile(`^\[(It|BeforeSuite|SynchronizedBeforeSuite|AfterSuite|SynchronizedAfterSuite|ReportBeforeSuite|ReportAfterSuite|DeferCleanup(?: \((?:Each|All|Suite)\))?)\](?: |$)`)

var sigRE = regexp.MustCompile(`\[(sig-[A-Za-z0-9-]+)\]`)

// bareSkip is the message ginkgo writes for a spec skipped with no reason:
// filtered out, or never reached.
const bareSkip = "skipped"

// notRunMessage is the Message of a selected spec the suite never reached.
const notRunMessage = "not run: the suite stopped before it"

func newCase(jc junitCase, sel *selection) Case {
	c := Case{
		Name:   jc.Name,
		Status: *jc.Status,
		Time:   time.Duration(jc.Time * float64(time.Second)),
		SIG:    OtherSIG,
	}
	if m := leafRE.FindStringSubmatch(jc.Name); m != nil {
		c.Node = m[1]
		c.Name = strings.TrimPrefix(jc.Name, m[0])
	}
	if m := sigRE.FindStringSubmatch(c.Name); m != nil {
		c.SIG = m[1]
	}
	switch c.Status {
	case "passed":
		c.Outcome = Passed
	case "skipped", "pending":
		c.Outcome = Skipped
		msg := ""
		if jc.Skipped != nil {
			msg = strings.TrimSpace(jc.Skipped.Message)
		}
		switch {
		case c.Status == "skipped" && (msg == bareSkip || msg == ""):
			if sel == nil || !sel.selects(jc.Classname, c.Name) {
				c.Outcome = NotSelected
			} else {
				c.Message = notRunMessage
			}
		default:
			c.Message = firstLine(strings.TrimPrefix(msg, bareSkip+" - "))
		}
	default:
		// failed, panicked, interrupted, timedout, aborted, and any state
		// this package does not know: never count it as a pass.
		c.Outcome = Failed
		c.Message = failureMessage(jc)
	}
	return c
}

// stateMarkerRE is the "[FAILED] " (or PANICKED, TIMEDOUT, …) marker ginkgo's
// failure text starts with.
var stateMarkerRE = regexp.MustCompile(`^\[[A-Z]+\] `)

// failureMessage returns the first line of a failed testcase's message: the
// message attribute when ginkgo wrote it, else the first line of the
// element's text. A panic's first line is ginkgo's "Test Panicked": the
// panic value that follows the location line is added to it.
func failureMessage(jc junitCase) string {
	el := jc.Failure
	if el == nil {
		el = jc.Error
	}
	if el == nil {
		return "(" + *jc.Status + ", no failure recorded)"
	}
	if msg := firstLine(el.Message); msg != "" {
		if el.Type == "panicked" && msg != "Test Panicked" {
			// Without OmitFailureMessageAttr a panic's attribute is its value.
			return capLine("Test Panicked: " + msg)
		}
		if msg != "Test Panicked" {
			return msg
		}
	}
	// The text is "[FAILED] <message>\nIn [It] at: <file:line> @ <time>\n…";
	// a panic's message is "Test Panicked" and its value comes after the
	// location line.
	text := stateMarkerRE.ReplaceAllString(strings.TrimSpace(ansiRE.ReplaceAllString(el.Text, "")), "")
	first := ""
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "":
		case isLocationLine(l):
			if first != "Test Panicked" {
				return noMessage(first, *jc.Status)
			}
		case first == "":
			first = capLine(l)
		case first == "Test Panicked":
			return capLine(first + ": " + l)
		}
	}
	return noMessage(first, *jc.Status)
}

func isLocationLine(l string) bool {
	return strings.HasPrefix(l, "In [") && strings.Contains(l, "] at: ")
}

func noMessage(first, status string) string {
	if first == "" {
		return "(" + status + ", no message)"
	}
	return first
}

// ansiRE matches terminal colour codes; XML cannot hold ESC, so Go's
// encoder (ginkgo's) writes it as U+FFFD.
var ansiRE = regexp.MustCompile("[\x1b\uFFFD]\\[[0-9;]*m")

// maxMessage caps a message line, in runes.
const maxMessage = 200

// firstLine is the first non-empty line of s, trimmed, without terminal
// colour codes, capped at maxMessage runes.
func firstLine(s string) string {
	s = ansiRE.ReplaceAllString(s, "")
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return capLine(l)
		}
	}
	return ""
}

func capLine(s string) string {
	if r := []rune(s); len(r) > maxMessage {
		return string(r[:maxMessage-1]) + "…"
	}
	return s
}
