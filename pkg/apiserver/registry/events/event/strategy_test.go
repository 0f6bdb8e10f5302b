package event

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func newEvent() *eventsv1.Event {
	return &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "nginx.1", Namespace: "default"},
		EventTime:           metav1.NowMicro(),
		ReportingController: "default-scheduler",
		ReportingInstance:   "default-scheduler-kinc-control-plane",
		Action:              "Binding",
		Reason:              "Scheduled",
		Regarding:           corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "nginx"},
		Note:                "Successfully assigned default/nginx to kinc-worker",
		Type:                corev1.EventTypeNormal,
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*eventsv1.Event)
		want   []Err
	}{
		{"scheduler event", func(*eventsv1.Event) {}, nil},
		{"no eventTime", func(e *eventsv1.Event) { e.EventTime = metav1.MicroTime{} }, []Err{E(field.ErrorTypeRequired, "eventTime")}},
		{"missing reporting fields", func(e *eventsv1.Event) { e.ReportingInstance, e.Action, e.Reason = "", "", "" },
			[]Err{E(field.ErrorTypeRequired, "reportingInstance"), E(field.ErrorTypeRequired, "action"), E(field.ErrorTypeRequired, "reason")}},
		{"bad type", func(e *eventsv1.Event) { e.Type = "Info" }, []Err{E(field.ErrorTypeInvalid, "type")}},
		{"deprecated fields set", func(e *eventsv1.Event) {
			e.DeprecatedCount = 2
			e.DeprecatedSource = corev1.EventSource{Component: "kubelet"}
		}, []Err{E(field.ErrorTypeInvalid, "count"), E(field.ErrorTypeInvalid, "source")}},
		{"series", func(e *eventsv1.Event) { e.Series = &eventsv1.EventSeries{Count: 1} },
			[]Err{E(field.ErrorTypeInvalid, "series.count"), E(field.ErrorTypeRequired, "series.lastObservedTime")}},
		{"long note", func(e *eventsv1.Event) { e.Note = string(make([]byte, 1025)) }, []Err{E(field.ErrorTypeInvalid, "message")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEvent()
			tc.mutate(e)
			Expect(t, NewStrategy().Validate(context.Background(), e), tc.want...)
		})
	}
}

func TestValidateUpdate(t *testing.T) {
	old := newEvent()
	e := old.DeepCopy()
	e.Series = &eventsv1.EventSeries{Count: 2, LastObservedTime: metav1.NowMicro()}
	Expect(t, NewStrategy().ValidateUpdate(context.Background(), e, old))
	e.Note = "changed"
	e.Reason = "Other"
	Expect(t, NewStrategy().ValidateUpdate(context.Background(), e, old), E(field.ErrorTypeInvalid, "message"), E(field.ErrorTypeInvalid, "reason"))
}

func TestGetAttrs(t *testing.T) {
	_, f, err := GetAttrs(newEvent())
	if err != nil || f["regarding.name"] != "nginx" || f["reportingController"] != "default-scheduler" || f["type"] != "Normal" || len(f) != 12 {
		t.Errorf("%v %v", f, err)
	}
}
