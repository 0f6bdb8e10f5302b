package printers

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
)

// decodeLikeKubectl decodes a Table response the way kubectl does
// (kubectl pkg/cmd/get: decodeIntoTable): into unstructured first, check the
// Table group/version/kind, convert to metav1.Table, then decode each row's raw
// object into unstructured.
func decodeLikeKubectl(t *testing.T, data []byte) *metav1.Table {
	t.Helper()
	obj, err := runtime.Decode(unstructured.UnstructuredJSONScheme, data)
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, data)
	}
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		t.Fatalf("decoded %T, want *unstructured.Unstructured", obj)
	}
	if gvk := u.GroupVersionKind(); gvk != metav1.SchemeGroupVersion.WithKind("Table") {
		t.Fatalf("kubectl would not recognise %v as a Table", gvk)
	}
	table := &metav1.Table{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, table); err != nil {
		t.Fatalf("FromUnstructured: %v", err)
	}
	for i := range table.Rows {
		row := &table.Rows[i]
		if row.Object.Raw == nil || row.Object.Object != nil {
			continue
		}
		converted, err := runtime.Decode(unstructured.UnstructuredJSONScheme, row.Object.Raw)
		if err != nil {
			t.Fatalf("row %d object: %v", i, err)
		}
		row.Object.Object = converted
	}
	return table
}

func TestTableJSONRoundTrip(t *testing.T) {
	pods := podList()
	pods.Items[0].Status.ContainerStatuses = []corev1.ContainerStatus{{Ready: true, RestartCount: 2, State: running(),
		LastTerminationState: lastTerminated(5 * time.Minute)}}
	deployments := &appsv1.DeploymentList{ListMeta: metav1.ListMeta{ResourceVersion: "7"}, Items: []appsv1.Deployment{{
		ObjectMeta: objMeta("web", time.Hour), Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2)},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 2, UpdatedReplicas: 2, AvailableReplicas: 2}}}}

	for _, list := range []runtime.Object{pods, deployments} {
		want := convert(t, list)
		data, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		got := decodeLikeKubectl(t, data)

		if !reflect.DeepEqual(got.ColumnDefinitions, want.ColumnDefinitions) || got.ListMeta.ResourceVersion != want.ResourceVersion ||
			got.Continue != want.Continue || !reflect.DeepEqual(got.RemainingItemCount, want.RemainingItemCount) {
			t.Errorf("%T: table header changed in transit", list)
		}
		if len(got.Rows) != len(want.Rows) {
			t.Fatalf("%T: %d rows, want %d", list, len(got.Rows), len(want.Rows))
		}
		for i := range got.Rows {
			// JSON integers come back as int64, so cells survive exactly.
			if !reflect.DeepEqual(got.Rows[i].Cells, want.Rows[i].Cells) {
				t.Errorf("%T row %d cells: got %#v, want %#v", list, i, got.Rows[i].Cells, want.Rows[i].Cells)
			}
			u := got.Rows[i].Object.Object.(*unstructured.Unstructured)
			if u.GetAPIVersion() != "meta.k8s.io/v1" || u.GetKind() != "PartialObjectMetadata" {
				t.Errorf("%T row %d object is %s %s", list, i, u.GetAPIVersion(), u.GetKind())
			}
			// kubectl's NAMESPACE (-A), --show-labels and -L read these.
			src := want.Rows[i].Object.Object.(*metav1.PartialObjectMetadata)
			if u.GetName() != src.Name || u.GetNamespace() != src.Namespace || !reflect.DeepEqual(u.GetLabels(), src.Labels) ||
				u.GetUID() != src.UID || !u.GetCreationTimestamp().Time.Equal(src.CreationTimestamp.Time) {
				t.Errorf("%T row %d metadata: got %v", list, i, u.Object["metadata"])
			}
			// And it decodes into the typed PartialObjectMetadata too.
			var typed metav1.PartialObjectMetadata
			if err := json.Unmarshal(got.Rows[i].Object.Raw, &typed); err != nil || typed.Name != src.Name {
				t.Errorf("%T row %d: typed decode: %v %+v", list, i, err, typed)
			}
		}
	}
}

func TestTableJSONRoundTripIncludeObject(t *testing.T) {
	table, err := newTestConvertor().ConvertToTable(context.Background(), podList(), &metav1.TableOptions{IncludeObject: metav1.IncludeObject})
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	got := decodeLikeKubectl(t, data)
	u := got.Rows[1].Object.Object.(*unstructured.Unstructured)
	if u.GetAPIVersion() != "v1" || u.GetKind() != "Pod" || u.GetName() != "b" {
		t.Errorf("row object = %s %s %s", u.GetAPIVersion(), u.GetKind(), u.GetName())
	}
	if phase, _, _ := unstructured.NestedString(u.Object, "status", "phase"); phase != "Running" {
		t.Errorf("full object lost its status: %v", u.Object["status"])
	}

	table, err = newTestConvertor().ConvertToTable(context.Background(), podList(), &metav1.TableOptions{IncludeObject: metav1.IncludeNone, NoHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	data, err = json.Marshal(table)
	if err != nil {
		t.Fatal(err)
	}
	got = decodeLikeKubectl(t, data)
	if got.ColumnDefinitions != nil || got.Rows[0].Object.Object != nil || len(got.Rows[0].Cells) != 9 {
		t.Errorf("None/NoHeaders table = %+v", got)
	}
}
