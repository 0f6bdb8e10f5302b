package handlers

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestPartialMetadata: typed objects and lists (what the metadata client
// and the garbage and namespace controllers ask for) become
// PartialObjectMetadata(List) carrying the whole ObjectMeta.
func TestPartialMetadata(t *testing.T) {
	t.Parallel()
	now := metav1.Now()
	cm := corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "held", UID: "u1", ResourceVersion: "7",
		Labels: map[string]string{"a": "b"}, Finalizers: []string{"example.com/hold"}, DeletionTimestamp: &now}}
	one, err := partialMetadata(&cm, "meta.k8s.io/v1")
	if err != nil {
		t.Fatal(err)
	}
	p, ok := one.(*metav1.PartialObjectMetadata)
	if !ok || p.Kind != "PartialObjectMetadata" || p.APIVersion != "meta.k8s.io/v1" || p.Name != "held" || p.UID != "u1" ||
		p.ResourceVersion != "7" || p.Labels["a"] != "b" || len(p.Finalizers) != 1 || p.DeletionTimestamp == nil {
		t.Errorf("object: %#v", one)
	}
	p.Labels["a"] = "changed"
	if cm.Labels["a"] != "b" {
		t.Error("the conversion shares the object's maps")
	}

	list := &corev1.ConfigMapList{ListMeta: metav1.ListMeta{ResourceVersion: "9", Continue: "c"},
		Items: []corev1.ConfigMap{cm, {ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "plain"}}}}
	out, err := partialMetadata(list, "meta.k8s.io/v1")
	if err != nil {
		t.Fatal(err)
	}
	pl, ok := out.(*metav1.PartialObjectMetadataList)
	if !ok || pl.Kind != "PartialObjectMetadataList" || pl.ResourceVersion != "9" || pl.Continue != "c" || len(pl.Items) != 2 ||
		pl.Items[0].Name != "held" || pl.Items[0].Finalizers[0] != "example.com/hold" || pl.Items[1].Name != "plain" ||
		pl.Items[0].Kind != "" {
		t.Errorf("list: %#v", out)
	}
}
