// Package history holds what the daemonset and statefulset controllers
// share about apps/v1 ControllerRevisions (upstream's
// pkg/controller/history): revision names and hashes, creation with
// collision probing, renumbering, and ordering.
package history

import (
	"bytes"
	"context"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/client-go/kubernetes"
)

// ControllerRevisionHashLabel is the label carrying a revision's hash, on
// the revision and on the pods made from it.
const ControllerRevisionHashLabel = appsv1.ControllerRevisionHashLabelKey

// Name returns the name of parent's revision with hash: "<parent>-<hash>",
// the parent's name cut to 223 characters.
func Name(parent, hash string) string {
	if len(parent) > 223 {
		parent = parent[:223]
	}
	return parent + "-" + hash
}

// Hash is upstream's HashControllerRevision: FNV-32 of the revision's raw
// data and, when probe is set, its decimal value, safe-encoded.
func Hash(rev *appsv1.ControllerRevision, probe *int32) string {
	hf := fnv.New32()
	if len(rev.Data.Raw) > 0 {
		_, _ = hf.Write(rev.Data.Raw)
	}
	if probe != nil {
		_, _ = hf.Write([]byte(strconv.FormatInt(int64(*probe), 10)))
	}
	return rand.SafeEncodeString(fmt.Sprint(hf.Sum32()))
}

// New returns parent's revision number revision holding data, labelled
// with templateLabels and its hash, named Name(parent, hash), controlled
// by parent (of kind gvk).
func New(parent metav1.Object, gvk schema.GroupVersionKind, templateLabels map[string]string, data []byte, revision int64, collisionCount *int32) *appsv1.ControllerRevision {
	l := make(map[string]string, len(templateLabels)+1)
	for k, v := range templateLabels {
		l[k] = v
	}
	cr := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       parent.GetNamespace(),
			Labels:          l,
			OwnerReferences: []metav1.OwnerReference{*metav1.NewControllerRef(parent, gvk)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}
	hash := Hash(cr, collisionCount)
	cr.Name = Name(parent.GetName(), hash)
	cr.Labels[ControllerRevisionHashLabel] = hash
	return cr
}

// Create creates rev for parent, probing names as upstream: when the name
// is taken by a revision with the same data, that one is returned; when it
// is taken by another, *collisionCount is raised and the next name tried.
// The caller stores the raised count in its parent's status.
func Create(ctx context.Context, client kubernetes.Interface, parent metav1.Object, rev *appsv1.ControllerRevision, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	if collisionCount == nil {
		return nil, fmt.Errorf("collisionCount should not be nil")
	}
	clone := rev.DeepCopy()
	for {
		hash := Hash(rev, collisionCount)
		clone.Name = Name(parent.GetName(), hash)
		clone.Labels[ControllerRevisionHashLabel] = hash
		created, err := client.AppsV1().ControllerRevisions(parent.GetNamespace()).Create(ctx, clone, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			return created, err
		}
		exists, err := client.AppsV1().ControllerRevisions(parent.GetNamespace()).Get(ctx, clone.Name, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		if bytes.Equal(exists.Data.Raw, clone.Data.Raw) {
			return exists, nil
		}
		*collisionCount++
	}
}

// Renumber sets rev's revision number to n (a rollback to an old revision
// makes it the newest), retrying conflicts from a fresh read.
func Renumber(ctx context.Context, client kubernetes.Interface, rev *appsv1.ControllerRevision, n int64) (*appsv1.ControllerRevision, error) {
	cur := rev.DeepCopy()
	for i := 0; ; i++ {
		if cur.Revision == n {
			return cur, nil
		}
		cur.Revision = n
		updated, err := client.AppsV1().ControllerRevisions(cur.Namespace).Update(ctx, cur, metav1.UpdateOptions{})
		if err == nil {
			return updated, nil
		}
		if !apierrors.IsConflict(err) || i >= 4 {
			return nil, err
		}
		if cur, err = client.AppsV1().ControllerRevisions(rev.Namespace).Get(ctx, rev.Name, metav1.GetOptions{}); err != nil {
			return nil, err
		}
	}
}

// Equal reports whether two revisions hold the same data.
func Equal(a, b *appsv1.ControllerRevision) bool {
	if a == nil || b == nil {
		return a == b
	}
	return bytes.Equal(a.Data.Raw, b.Data.Raw)
}

// FindEqual returns the revisions of revs equal to needle.
func FindEqual(revs []*appsv1.ControllerRevision, needle *appsv1.ControllerRevision) []*appsv1.ControllerRevision {
	var out []*appsv1.ControllerRevision
	for _, r := range revs {
		if Equal(r, needle) {
			out = append(out, r)
		}
	}
	return out
}

// Sort orders revs by revision number, then creation time, then name
// (upstream's byRevision).
func Sort(revs []*appsv1.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool {
		a, b := revs[i], revs[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// MaxRevision returns the largest revision number of revs, 0 for none.
func MaxRevision(revs []*appsv1.ControllerRevision) int64 {
	var m int64
	for _, r := range revs {
		m = max(m, r.Revision)
	}
	return m
}
