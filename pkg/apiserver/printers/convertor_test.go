package printers

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

func podList() *corev1.PodList {
	mk := func(name string, age time.Duration) corev1.Pod {
		m := objMeta(name, age)
		m.Labels = map[string]string{"app": name}
		m.UID = types.UID("uid-" + name)
		m.ResourceVersion = "41"
		return corev1.Pod{ObjectMeta: m, Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c"}}},
			Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	}
	return &corev1.PodList{
		ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "next-page", RemainingItemCount: ptr.To[int64](7)},
		Items:    []corev1.Pod{mk("a", time.Minute), mk("b", time.Hour)},
	}
}

func TestConvertList(t *testing.T) {
	list := podList()
	before := list.DeepCopy()
	table := convert(t, list)

	if table.APIVersion != "meta.k8s.io/v1" || table.Kind != "Table" {
		t.Errorf("type meta = %+v", table.TypeMeta)
	}
	if table.ResourceVersion != "42" || table.Continue != "next-page" || !reflect.DeepEqual(table.RemainingItemCount, ptr.To[int64](7)) {
		t.Errorf("list meta = %+v", table.ListMeta)
	}
	if len(table.Rows) != 2 || table.Rows[0].Cells[0] != "a" || table.Rows[1].Cells[0] != "b" || table.Rows[1].Cells[4] != "60m" {
		t.Errorf("rows = %+v", table.Rows)
	}
	if !reflect.DeepEqual(list, before) {
		t.Error("ConvertToTable mutated its input")
	}
}

func TestConvertSingleObjectUsesItsResourceVersion(t *testing.T) {
	pod := &podList().Items[0]
	table := convert(t, pod)
	if table.ResourceVersion != "41" || table.Continue != "" || table.RemainingItemCount != nil {
		t.Errorf("list meta = %+v", table.ListMeta)
	}
}

func TestConvertNoHeaders(t *testing.T) {
	for _, obj := range []runtime.Object{podList(), &rbacv1.Role{}} {
		table, err := newTestConvertor().ConvertToTable(context.Background(), obj, &metav1.TableOptions{NoHeaders: true})
		if err != nil {
			t.Fatal(err)
		}
		if table.ColumnDefinitions != nil {
			t.Errorf("%T: column definitions with NoHeaders: %v", obj, table.ColumnDefinitions)
		}
		if len(table.Rows) == 0 || len(table.Rows[0].Cells) == 0 {
			t.Errorf("%T: no cells with NoHeaders", obj)
		}
	}
}

func TestConvertIncludeObject(t *testing.T) {
	c := newTestConvertor()
	for _, policy := range []metav1.IncludeObjectPolicy{"", metav1.IncludeMetadata} {
		table, err := c.ConvertToTable(context.Background(), podList(), &metav1.TableOptions{IncludeObject: policy})
		if err != nil {
			t.Fatal(err)
		}
		partial, ok := table.Rows[1].Object.Object.(*metav1.PartialObjectMetadata)
		if !ok {
			t.Fatalf("%q: row object is %T", policy, table.Rows[1].Object.Object)
		}
		want := podList().Items[1].ObjectMeta
		if partial.APIVersion != "meta.k8s.io/v1" || partial.Kind != "PartialObjectMetadata" || !reflect.DeepEqual(partial.ObjectMeta, want) {
			t.Errorf("%q: partial = %+v", policy, partial)
		}
	}

	table, err := c.ConvertToTable(context.Background(), podList(), &metav1.TableOptions{IncludeObject: metav1.IncludeNone})
	if err != nil {
		t.Fatal(err)
	}
	if table.Rows[0].Object.Object != nil || table.Rows[0].Object.Raw != nil {
		t.Errorf("None: row object = %+v", table.Rows[0].Object)
	}

	list := podList()
	table, err = c.ConvertToTable(context.Background(), list, &metav1.TableOptions{IncludeObject: metav1.IncludeObject})
	if err != nil {
		t.Fatal(err)
	}
	pod, ok := table.Rows[0].Object.Object.(*corev1.Pod)
	if !ok || pod.Name != "a" || pod.APIVersion != "v1" || pod.Kind != "Pod" {
		t.Fatalf("Object: row object = %#v", table.Rows[0].Object.Object)
	}
	if list.Items[0].Kind != "" {
		t.Error("Object: type meta was set on the caller's object")
	}
	// An object that already carries its type is passed through as is.
	typed := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"}, ObjectMeta: objMeta("cm", time.Second)}
	table, err = c.ConvertToTable(context.Background(), typed, &metav1.TableOptions{IncludeObject: metav1.IncludeObject})
	if err != nil {
		t.Fatal(err)
	}
	if table.Rows[0].Object.Object != typed {
		t.Error("Object: typed object was copied")
	}
}

func TestConvertErrors(t *testing.T) {
	c := newTestConvertor()
	_, err := c.ConvertToTable(context.Background(), podList(), &metav1.TableOptions{IncludeObject: "Everything"})
	if !errors.Is(err, ErrUnrecognizedIncludeObject) {
		t.Errorf("bad includeObject: err = %v", err)
	}
	if _, err := c.ConvertToTable(context.Background(), &metav1.Status{}, nil); !errors.Is(err, ErrNotTableConvertible) {
		t.Errorf("object without metadata: err = %v", err)
	}
	if _, err := c.ConvertToTable(context.Background(), nil, nil); !errors.Is(err, ErrNotTableConvertible) {
		t.Errorf("nil object: err = %v", err)
	}
}

func TestDefaultConvertor(t *testing.T) {
	created := metav1.NewTime(time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC))
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"})
	u.SetName("w1")
	u.SetNamespace("default")
	u.SetCreationTimestamp(created)
	ul := &unstructured.UnstructuredList{Items: []unstructured.Unstructured{*u, *u}}
	ul.SetResourceVersion("99")
	ul.SetContinue("more")

	for name, c := range map[string]*Convertor{"NewDefault": NewDefault(), "New": New()} {
		t.Run(name, func(t *testing.T) {
			table, err := c.ConvertToTable(context.Background(), ul, nil)
			if err != nil {
				t.Fatal(err)
			}
			want := []metav1.TableColumnDefinition{
				{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
				{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
			}
			if !reflect.DeepEqual(table.ColumnDefinitions, want) {
				t.Errorf("columns = %+v", table.ColumnDefinitions)
			}
			if len(table.Rows) != 2 || !reflect.DeepEqual(table.Rows[0].Cells, []interface{}{"w1", "2026-05-06T07:08:09Z"}) {
				t.Errorf("rows = %+v", table.Rows)
			}
			if table.ResourceVersion != "99" || table.Continue != "more" {
				t.Errorf("list meta = %+v", table.ListMeta)
			}
			if p := table.Rows[0].Object.Object.(*metav1.PartialObjectMetadata); p.Name != "w1" || p.Namespace != "default" {
				t.Errorf("partial = %+v", p)
			}
		})
	}

	// NewDefault prints even typed objects that have a printer with the default table.
	table, err := NewDefault().ConvertToTable(context.Background(), podList(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.ColumnDefinitions) != 2 || len(table.Rows) != 2 {
		t.Errorf("default table of pods = %+v", table)
	}
}
