package audit_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/kinc-dev/kinc/pkg/apiserver/audit"
)

func TestLogWritesJSONLines(t *testing.T) {
	var buf bytes.Buffer
	l := audit.NewLog(&buf)
	at := metav1.NewMicroTime(time.Date(2026, 12, 7, 4, 5, 6, 789012000, time.UTC))
	ev := &audit.Event{TypeMeta: metav1.TypeMeta{Kind: "Event", APIVersion: audit.GroupVersion}, Level: audit.LevelMetadata,
		AuditID: "id-1", Stage: audit.StageResponseComplete, RequestURI: "/api/v1/namespaces/default/secrets/s", Verb: "get",
		ObjectRef:      &audit.ObjectReference{Resource: "secrets", Namespace: "default", Name: "s", APIVersion: "v1"},
		ResponseStatus: &metav1.Status{Code: 200}, RequestReceivedTimestamp: at, StageTimestamp: at}
	for range 2 {
		if err := l.Write(ev); err != nil {
			t.Fatal(err)
		}
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), buf.String())
	}
	want := `{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"id-1","stage":"ResponseComplete",` +
		`"requestURI":"/api/v1/namespaces/default/secrets/s","verb":"get","user":{},` +
		`"objectRef":{"resource":"secrets","namespace":"default","name":"s","apiVersion":"v1"},` +
		`"responseStatus":{"metadata":{},"code":200},` +
		`"requestReceivedTimestamp":"2026-12-07T04:05:06.789012Z","stageTimestamp":"2026-12-07T04:05:06.789012Z"}`
	if lines[0] != want {
		t.Errorf("event\n%s\nwant\n%s", lines[0], want)
	}
}

func TestLogOptionsValidate(t *testing.T) {
	if err := (audit.LogOptions{Path: "-", Format: "json"}).Validate(); err != nil {
		t.Errorf("json: %v", err)
	}
	err := (audit.LogOptions{Format: "legacy", MaxAge: -1, MaxBackups: -1, MaxSize: -1}).Validate()
	for _, want := range []string{`--audit-log-format "legacy" is not supported`, "--audit-log-maxage -1", "--audit-log-maxbackup -1", "--audit-log-maxsize -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v: want %q", err, want)
		}
	}
	if err := (audit.LogOptions{Format: "xml"}).Validate(); err == nil {
		t.Error("format xml accepted")
	}
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestRotatingFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "audit")
	path := filepath.Join(dir, "audit.log")
	clock := clocktesting.NewFakePassiveClock(time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC))
	f, err := audit.OpenRotatingFile(path, 1, 2, 0, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("log file %v, %v: want it created 0600", st, err)
	}
	half := bytes.Repeat([]byte("a"), 512*1024)
	for i := range 7 {
		clock.SetTime(clock.Now().Add(time.Second))
		if _, err := f.Write(half); err != nil {
			t.Fatalf("write %d: %v", i, err)
		}
	}
	// 7 halves of a megabyte, one a second: rotated before the 3rd (at
	// :03), 5th and 7th, the oldest rotated file pruned.
	want := []string{"audit-2026-12-07T04-00-05.000.log", "audit-2026-12-07T04-00-07.000.log", "audit.log"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files %v, want %v", got, want)
	}
	if st, _ := os.Stat(path); st.Size() != int64(len(half)) {
		t.Errorf("current file %d bytes, want %d", st.Size(), len(half))
	}
	// A write larger than the maximum goes whole into a fresh file.
	big := bytes.Repeat([]byte("b"), 3*1024*1024)
	clock.SetTime(clock.Now().Add(time.Second))
	if n, err := f.Write(big); err != nil || n != len(big) {
		t.Fatalf("big write: %d, %v", n, err)
	}
	if st, _ := os.Stat(path); st.Size() != int64(len(big)) {
		t.Errorf("current file %d bytes, want %d", st.Size(), len(big))
	}
}

func TestRotatingFileAppendsAndAges(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 1000*1024), 0o600); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(dir, "audit-2026-11-01T00-00-00.000.log")
	notOurs := filepath.Join(dir, "audit-notes.log")
	for _, p := range []string{old, notOurs} {
		if err := os.WriteFile(p, []byte("old\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	clock := clocktesting.NewFakePassiveClock(time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC))
	f, err := audit.OpenRotatingFile(path, 1, 0, 30, clock)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte("small\n")); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Size() != 1000*1024+6 {
		t.Errorf("size %d: want the existing file appended to", st.Size())
	}
	if _, err := f.Write(bytes.Repeat([]byte("y"), 100*1024)); err != nil {
		t.Fatal(err)
	}
	want := []string{"audit-2026-12-07T04-00-00.000.log", "audit-notes.log", "audit.log"}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("files %v, want %v (the 36-day-old rotated file removed)", got, want)
	}
}

func TestOpenLogStdoutAndFile(t *testing.T) {
	clock := clocktesting.NewFakePassiveClock(time.Now())
	if _, err := audit.OpenLog(audit.LogOptions{Path: "-", Format: "legacy"}, clock); err == nil {
		t.Error("legacy format opened")
	}
	path := filepath.Join(t.TempDir(), "a", "b", "audit.log")
	l, err := audit.OpenLog(audit.LogOptions{Path: path}, clock)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(&audit.Event{AuditID: "x"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var ev audit.Event
	if err := json.Unmarshal(data, &ev); err != nil || ev.AuditID != "x" {
		t.Errorf("file %q: %v", data, err)
	}
	if st, _ := os.Stat(filepath.Dir(path)); st.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", st.Mode().Perm())
	}
}
