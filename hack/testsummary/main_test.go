package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummary(t *testing.T) {
	t.Parallel()
	input := []string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"noise\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"boom\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB","Elapsed":0.5}`,
		`{"Action":"run","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"=== RUN   TestC\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:10: a log line, not the reason\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:12: kubectl is not installed\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"        second line of it\n"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"--- SKIP: TestC (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestC"}`,
		`{"Action":"skip","Package":"q","Test":"TestD"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.6s\n"}`,
		`{"Action":"fail","Package":"p"}`,
		`# not json`,
	}
	var out bytes.Buffer
	s := &summary{out: &out, buffered: map[string][]string{}}
	for _, l := range input {
		s.line(l)
	}
	if s.finish() {
		t.Fatal("want failure")
	}
	got := out.String()
	for _, want := range []string{"--- FAIL: TestB", "    boom", "FAIL\tp\t0.6s", "# not json", "1 passed, 1 failed, 2 skipped",
		"  TestC (p): c_test.go:12: kubectl is not installed\n      second line of it\n", "  TestD (q): (no reason given)"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "noise") || strings.Contains(got, "not the reason") {
		t.Errorf("passing test output should be dropped:\n%s", got)
	}
}
