// Command testsummary reads `go test -json` on stdin and prints what a person
// wants from a long run: each package's result line, the full output of every
// failed test, and a closing "N passed, N failed, N skipped" line. It exits
// non-zero when anything failed. Lines that are not JSON (build errors on
// stderr) pass through unchanged.
package main

import (
	"bufio"
	"encoding/json"
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
	buffered                map[string][]string // package/test → output, until the test ends
}

func main() {
	s := &summary{out: os.Stdout, buffered: map[string][]string{}}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1024*1024), 16*1024*1024)
	for sc.Scan() {
		s.line(sc.Text())
	}
	if err := sc.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
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

// finish prints the closing lines and reports whether everything passed.
func (s *summary) finish() bool {
	if len(s.failedPackages) > 0 {
		sort.Strings(s.failedPackages)
		fmt.Fprintf(s.out, "\nfailed packages:\n  %s\n", strings.Join(s.failedPackages, "\n  "))
	}
	fmt.Fprintf(s.out, "\ngo test: %d passed, %d failed, %d skipped\n", s.passed, s.failed, s.skipped)
	return s.failed == 0 && len(s.failedPackages) == 0
}
