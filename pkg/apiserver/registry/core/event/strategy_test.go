package event

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"

	. "github.com/kinc-dev/kinc/pkg/apiserver/registry/internal/regtest"
)

func TestValidate(t *testing.T) {
	ref := corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "nginx"}
	tests := []struct {
		name string
		ev   corev1.Event
		want []Err
	}{
		{"old style", corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "default"}, InvolvedObject: ref}, nil},
		{"namespace mismatch", corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "kube-system"}, InvolvedObject: ref},
			[]Err{E(field.ErrorTypeInvalid, "involvedObject.namespace")}},
		{"new style missing fields", corev1.Event{ObjectMeta: metav1.ObjectMeta{Namespace: "default"}, InvolvedObject: ref, EventTime: metav1.NowMicro(), ReportingController: "kubelet"},
			[]Err{E(field.ErrorTypeRequired, "reportingInstance"), E(field.ErrorTypeRequired, "action"), E(field.ErrorTypeRequired, "reason")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			Expect(t, NewStrategy().Validate(context.Background(), &tc.ev), tc.want...)
		})
	}
}

func TestGetAttrs(t *testing.T) {
	ev := &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Name: "e", Namespace: "default"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "nginx", UID: "u1", APIVersion: "v1", ResourceVersion: "7", FieldPath: "spec.containers{nginx}"},
		Reason:         "Pulled", Type: "Normal", ReportingController: "kubelet",
	}
	_, f, err := GetAttrs(ev)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"metadata.name": "e", "metadata.namespace": "default",
		"involvedObject.kind": "Pod", "involvedObject.namespace": "default", "involvedObject.name": "nginx",
		"involvedObject.uid": "u1", "involvedObject.apiVersion": "v1", "involvedObject.resourceVersion": "7",
		"involvedObject.fieldPath": "spec.containers{nginx}", "reason": "Pulled", "reportingComponent": "kubelet",
		"source": "kubelet", "type": "Normal",
	}
	if d := cmp.Diff(want, map[string]string(f)); d != "" {
		t.Error(d)
	}
}
