package printers

import (
	"context"
	"reflect"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	testingclock "k8s.io/utils/clock/testing"
)

// now is the fixed time of every test conversion.
var now = time.Date(2026, 10, 7, 9, 17, 26, 0, time.UTC)

// ago returns a metav1.Time d before now.
func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

// agoPtr returns a pointer to ago(d).
func agoPtr(d time.Duration) *metav1.Time { t := ago(d); return &t }

// microAgo returns a metav1.MicroTime d before now.
func microAgo(d time.Duration) metav1.MicroTime { return metav1.NewMicroTime(now.Add(-d)) }

func newTestConvertor() *Convertor {
	return New(WithClock(testingclock.NewFakePassiveClock(now)))
}

// convert converts obj with default options and fails the test on error.
func convert(t *testing.T, obj runtime.Object) *metav1.Table {
	t.Helper()
	table, err := newTestConvertor().ConvertToTable(context.Background(), obj, nil)
	if err != nil {
		t.Fatalf("ConvertToTable(%T): %v", obj, err)
	}
	return table
}

// checkCells converts obj and compares the cells of its single row.
func checkCells(t *testing.T, obj runtime.Object, want []interface{}) {
	t.Helper()
	table := convert(t, obj)
	if len(table.Rows) != 1 {
		t.Fatalf("got %d rows, want 1", len(table.Rows))
	}
	got := table.Rows[0].Cells
	if !reflect.DeepEqual(got, want) {
		t.Errorf("cells mismatch\n got: %#v\nwant: %#v", got, want)
	}
	if len(got) != len(table.ColumnDefinitions) {
		t.Errorf("%d cells for %d columns", len(got), len(table.ColumnDefinitions))
	}
}

func objMeta(name string, age time.Duration) metav1.ObjectMeta {
	return metav1.ObjectMeta{Name: name, Namespace: "default", CreationTimestamp: ago(age)}
}
