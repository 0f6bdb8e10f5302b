package filters_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kinc-dev/kinc/pkg/apiserver/filters"
)

// TestPanicRecoveryAnswersInternalError makes a handler panic behind
// WithPanicRecovery (no request is known to make a real handler panic, so
// the server's integration tests cannot): the client gets a 500 Status
// naming the panic, the log has the panic with its stack, the next request
// is served, and http.ErrAbortHandler still aborts as net/http expects.
func TestPanicRecoveryAnswersInternalError(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	h := filters.WithPanicRecovery(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/panic":
			panic("boom")
		case "/abort":
			panic(http.ErrAbortHandler)
		}
		w.WriteHeader(http.StatusNoContent)
	}), log)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/panic", nil))
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500; body %s", rec.Code, rec.Body)
	}
	var st metav1.Status
	if err := json.Unmarshal(rec.Body.Bytes(), &st); err != nil {
		t.Fatalf("body is not a Status: %v\n%s", err, rec.Body)
	}
	if st.Kind != "Status" || st.Reason != metav1.StatusReasonInternalError || st.Code != 500 || !strings.Contains(st.Message, "boom") {
		t.Errorf("Status %+v, want kind Status, reason InternalError, code 500, a message naming the panic", st)
	}
	if l := logs.String(); !strings.Contains(l, "panic serving request") || !strings.Contains(l, "boom") || !strings.Contains(l, "goroutine") {
		t.Errorf("log lacks the panic and its stack:\n%s", l)
	}

	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/ok", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("request after a panic: status %d, want 204", rec.Code)
	}

	func() {
		defer func() {
			if p := recover(); p != http.ErrAbortHandler {
				t.Errorf("recovered %v, want http.ErrAbortHandler re-raised", p)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/abort", nil))
	}()
}
