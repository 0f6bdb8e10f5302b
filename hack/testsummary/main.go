// Command testsummary reads `go test -json` on stdin (one run, or several
// concatenated) and prints what a person wants from a long run: each
// package's result line, the full output of every failed test, every skipped
// test with its reason (the t.Skip message), and a closing "N passed, N
// failed, N skipped" line. It exits non-zero when anything failed. Lines that
// are not JSON (build errors on stderr) pass through unchanged.
//
// With -counts it prints only the closing line (for .ci/run to end with).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

type summary struct {
	out                     io.Writer
	passed, failed, skipped int
	failedPackages          []string
	skips                   []skip
	buffered                map[string][]string // package/test → output, until the test ends
}

// skip is a skipped test and why.
type skip struct {
	pkg, test, reason string
}

func main() {
	countsOnly := flag.Bool("counts", false, "print only the closing \"N passed, N failed, N skipped\" line")
	flag.Parse()
	s := &summary{out: os.Stdout, buffered: map[string][]string{}}
	if *countsOnly {
		s.out = io.Discard
	}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		s.line(sc.Text())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if *countsOnly {
		fmt.Println(s.counts())
		return
	}
	if !s.finish() {
		os.Exit(1)
	}
}

func (s *summary) line(l string) {
	var e event
	if !strings.HasPrefix(l, "{") || json.Unmarshal([]byte(l), &e) != nil {
		fmt.Fprintln(s.out, l)
		return
	}
	key := e.Package + "/" + e.Test
	switch {
	case e.Action == "build-output":
		fmt.Fprint(s.out, e.Output)
	case e.Test == "" && e.Action == "output":
		// Package-level lines: "ok  pkg 1.2s", "FAIL pkg", "? pkg [no test files]",
		// panics outside a test. "PASS" alone is noise.
		if o := strings.TrimSpace(e.Output); o != "PASS" && o != "FAIL" {
			fmt.Fprint(s.out, e.Output)
		}
	case e.Test == "" && e.Action == "fail":
		s.failedPackages = append(s.failedPackages, e.Package)
	case e.Test == "":
		// Package start/pass/skip ("no test files") are not tests.
	case e.Action == "output":
		s.buffered[key] = append(s.buffered[key], e.Output)
	case e.Action == "pass":
		s.passed++
		delete(s.buffered, key)
	case e.Action == "skip":
		s.skipped++
		s.skips = append(s.skips, skip{e.Package, e.Test, skipReason(s.buffered[key])})
		delete(s.buffered, key)
	case e.Action == "fail":
		s.failed++
		fmt.Fprintf(s.out, "--- FAIL: %s (%s, %.2fs)\n", e.Test, e.Package, e.Elapsed)
		for _, o := range s.buffered[key] {
			fmt.Fprint(s.out, "    "+o)
		}
		delete(s.buffered, key)
	}
}

// skipReason returns the t.Skip message in a skipped test's output: the last
// "file_test.go:N: message" line and its continuation lines. go test prints
// it before "--- SKIP"; earlier t.Log lines are not the reason.
func skipReason(output []string) string {
	var lines []string
	for _, o := range output {
		o = strings.TrimRight(o, "\n")
		t := strings.TrimSpace(o)
		switch {
		case t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- "):
		case isLogLine(t):
			lines = []string{t}
		case len(lines) > 0:
			lines = append(lines, t)
		}
	}
	if len(lines) == 0 {
		return "(no reason given)"
	}
	return strings.Join(lines, "\n      ")
}

// isLogLine reports whether l starts like t.Log output: "name.go:123: ".
func isLogLine(l string) bool {
	file, rest, ok := strings.Cut(l, ":")
	if !ok || !strings.HasSuffix(file, ".go") || strings.ContainsAny(file, " \t") {
		return false
	}
	line, _, ok := strings.Cut(rest, ":")
	if !ok || line == "" {
		return false
	}
	for _, c := range line {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (s *summary) counts() string {
	return fmt.Sprintf("%d passed, %d failed, %d skipped", s.passed, s.failed, s.skipped)
}

// finish prints the closing lines and reports whether everything passed.
func (s *summary) finish() bool {
	if len(s.skips) > 0 {
		fmt.Fprintf(s.out, "\nskipped tests:\n")
		for _, sk := range s.skips {
			fmt.Fprintf(s.out, "  %s (%s): %s\n", sk.test, sk.pkg, sk.reason)
		}
	}
	if len(s.failedPackages) > 0 {
		sort.Strings(s.failedPackages)
		fmt.Fprintf(s.out, "\nfailed packages:\n  %s\n", strings.Join(s.failedPackages, "\n  "))
	}
	fmt.Fprintf(s.out, "\ngo test: %s\n", s.counts())
	return s.failed == 0 && len(s.failedPackages) == 0
}
