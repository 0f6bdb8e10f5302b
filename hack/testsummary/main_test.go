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
		`{"Action":"skip","Package":"p","Test":"TestC"}`,
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
	for _, want := range []string{"--- FAIL: TestB", "    boom", "FAIL\tp\t0.6s", "# not json", "1 passed, 1 failed, 1 skipped"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "noise") {
		t.Errorf("passing test output should be dropped:\n%s", got)
	}
}
