package statefulset

import (
	"context"
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kinc-dev/kinc/pkg/controller/internal/controllerref"
	"github.com/kinc-dev/kinc/pkg/controller/internal/history"
)

// Patch returns what set's ControllerRevisions hold: the strategic merge
// patch {"spec":{"template":{…,"$patch":"replace"}}} (what kubectl rollout
// undo applies).
func Patch(set *appsv1.StatefulSet) ([]byte, error) {
	raw, err := json.Marshal(set.Spec.Template)
	if err != nil {
		return nil, err
	}
	var template map[string]any
	if err := json.Unmarshal(raw, &template); err != nil {
		return nil, err
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// newRevision returns set's revision number n of its template (not
// created), named with collisionCount, carrying set's annotations.
func newRevision(set *appsv1.StatefulSet, n int64, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	patch, err := Patch(set)
	if err != nil {
		return nil, err
	}
	cr := history.New(set, Kind, set.Spec.Template.Labels, patch, n, collisionCount)
	if cr.Annotations == nil {
		cr.Annotations = map[string]string{}
	}
	for k, v := range set.Annotations {
		cr.Annotations[k] = v
	}
	return cr, nil
}

// applyRevision returns a copy of set whose template is rev's: the patch
// only replaces spec.template, so that is all it takes.
func applyRevision(set *appsv1.StatefulSet, rev *appsv1.ControllerRevision) (*appsv1.StatefulSet, error) {
	var patch struct {
		Spec struct {
			Template json.RawMessage `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &patch); err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev.Name, err)
	}
	clone := set.DeepCopy()
	if len(patch.Spec.Template) == 0 {
		return clone, nil
	}
	clone.Spec.Template = corev1.PodTemplateSpec{}
	if err := json.Unmarshal(patch.Spec.Template, &clone.Spec.Template); err != nil {
		return nil, fmt.Errorf("revision %s: %w", rev.Name, err)
	}
	return clone, nil
}

// listRevisions returns the revisions set's selector matches that set
// controls or nobody does, adopting the orphans.
func (c *Controller) listRevisions(ctx context.Context, set *appsv1.StatefulSet, selector labels.Selector) ([]*appsv1.ControllerRevision, error) {
	all, err := c.revLister.ControllerRevisions(set.Namespace).List(selector)
	if err != nil {
		return nil, err
	}
	var mine []*appsv1.ControllerRevision
	for _, r := range all {
		ref := metav1.GetControllerOfNoCopy(r)
		if ref == nil || ref.UID == set.UID {
			mine = append(mine, r)
		}
	}
	return controllerref.Claim(ctx, controllerref.Claimer{
		Owner: set, Kind: Kind, Selector: selector, Recheck: c.recheck(set),
		Patch: func(ctx context.Context, name string, patch []byte) error {
			_, err := c.client.AppsV1().ControllerRevisions(set.Namespace).Patch(ctx, name, types.StrategicMergePatchType, patch, metav1.PatchOptions{})
			return err
		},
	}, mine)
}

// revisionsFor returns set's current and update revisions (the update one
// created, or renumbered to be the newest after a rollback) and the
// collision count to store.
func (c *Controller) revisionsFor(ctx context.Context, set *appsv1.StatefulSet, revs []*appsv1.ControllerRevision) (current, update *appsv1.ControllerRevision, collisionCount int32, err error) {
	history.Sort(revs)
	if set.Status.CollisionCount != nil {
		collisionCount = *set.Status.CollisionCount
	}
	next := int64(1)
	if len(revs) > 0 {
		next = revs[len(revs)-1].Revision + 1
	}
	update, err = newRevision(set, next, &collisionCount)
	if err != nil {
		return nil, nil, collisionCount, err
	}
	equal := history.FindEqual(revs, update)
	switch {
	case len(equal) > 0 && history.Equal(revs[len(revs)-1], equal[len(equal)-1]):
		update = revs[len(revs)-1]
	case len(equal) > 0:
		if update, err = history.Renumber(ctx, c.client, equal[len(equal)-1], update.Revision); err != nil {
			return nil, nil, collisionCount, err
		}
	default:
		if update, err = history.Create(ctx, c.client, set, update, &collisionCount); err != nil {
			return nil, nil, collisionCount, err
		}
	}
	for _, r := range revs {
		if r.Name == set.Status.CurrentRevision {
			current = r
			break
		}
	}
	if current == nil {
		current = update
	}
	return current, update, collisionCount, nil
}

// truncateHistory deletes the oldest revisions past revisionHistoryLimit
// that are neither current, nor the update revision, nor any pod's.
func (c *Controller) truncateHistory(ctx context.Context, set *appsv1.StatefulSet, pods []*corev1.Pod, revs []*appsv1.ControllerRevision, current, update *appsv1.ControllerRevision) error {
	live := map[string]bool{}
	if current != nil {
		live[current.Name] = true
	}
	if update != nil {
		live[update.Name] = true
	}
	for _, p := range pods {
		live[podRevision(p)] = true
	}
	var old []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live[r.Name] {
			old = append(old, r)
		}
	}
	limit := 10
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	if limit < 0 || len(old) <= limit {
		return nil
	}
	for _, r := range old[:len(old)-limit] {
		err := c.client.AppsV1().ControllerRevisions(r.Namespace).Delete(ctx, r.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}
