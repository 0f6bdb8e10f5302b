package job

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// completionIndexEnv is the variable Indexed Jobs' containers get.
const completionIndexEnv = "JOB_COMPLETION_INDEX"

// noIndex is the completion index of a pod without a valid one.
const noIndex = -1

func isIndexed(job *batchv1.Job) bool {
	return job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion
}

// completionIndex is the pod's batch.kubernetes.io/job-completion-index
// annotation, or noIndex.
func completionIndex(p *corev1.Pod) int {
	v, ok := p.Annotations[batchv1.JobCompletionIndexAnnotation]
	if !ok {
		return noIndex
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return noIndex
	}
	return i
}

// interval is a closed range of completion indexes.
type interval struct{ first, last int }

// intervals are sorted, disjoint, non-adjacent ranges: the form of
// status.completedIndexes ("1,3-5,7").
type intervals []interval

// parseIntervals reads s, ignoring malformed parts and indexes at or past
// completions (a range is cut there).
func parseIntervals(s string, completions int) intervals {
	var out intervals
	if s == "" {
		return out
	}
	for _, part := range strings.Split(s, ",") {
		bounds := strings.Split(part, "-")
		first, err := strconv.Atoi(bounds[0])
		if err != nil {
			continue
		}
		if first >= completions {
			break
		}
		last := first
		if len(bounds) > 1 {
			if last, err = strconv.Atoi(bounds[1]); err != nil {
				continue
			}
			last = min(last, completions-1)
		}
		out = out.merge(intervals{{first, last}})
	}
	return out
}

// with returns oi plus the indexes.
func (oi intervals) with(indexes ...int) intervals {
	slices.Sort(indexes)
	add := make(intervals, 0, len(indexes))
	for _, ix := range indexes {
		add = append(add, interval{ix, ix})
	}
	return oi.merge(add)
}

// merge returns the union of two interval lists.
func (oi intervals) merge(other intervals) intervals {
	all := append(slices.Clone(oi), other...)
	slices.SortFunc(all, func(a, b interval) int { return a.first - b.first })
	var out intervals
	for _, iv := range all {
		if n := len(out); n > 0 && iv.first <= out[n-1].last+1 {
			out[n-1].last = max(out[n-1].last, iv.last)
			continue
		}
		out = append(out, iv)
	}
	return out
}

func (oi intervals) total() int {
	n := 0
	for _, iv := range oi {
		n += iv.last - iv.first + 1
	}
	return n
}

func (oi intervals) has(ix int) bool {
	for _, iv := range oi {
		if ix >= iv.first && ix <= iv.last {
			return true
		}
	}
	return false
}

// String is upstream's format: two adjacent indexes are written "3,4",
// longer ranges "3-5".
func (oi intervals) String() string {
	var b strings.Builder
	for _, iv := range oi {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(iv.first))
		switch {
		case iv.last == iv.first+1:
			fmt.Fprintf(&b, ",%d", iv.last)
		case iv.last > iv.first:
			fmt.Fprintf(&b, "-%d", iv.last)
		}
	}
	return b.String()
}

// succeededIndexes returns the indexes in status.completedIndexes and
// those plus the indexes of succeeded pods still holding the finalizer.
func succeededIndexes(job *batchv1.Job, pods []*corev1.Pod) (prev, now intervals) {
	completions := int(*job.Spec.Completions)
	prev = parseIntervals(job.Status.CompletedIndexes, completions)
	var add []int
	for _, p := range pods {
		ix := completionIndex(p)
		if p.Status.Phase == corev1.PodSucceeded && ix != noIndex && ix < completions && hasTrackingFinalizer(p) {
			add = append(add, ix)
		}
	}
	return prev, prev.with(add...)
}

// firstPendingIndexes returns up to count indexes below completions that
// have neither succeeded nor an active pod (nor, with podReplacementPolicy
// Failed, a terminating one).
func firstPendingIndexes(job *batchv1.Job, succeeded intervals, active, all []*corev1.Pod, count int) []int {
	busy := succeeded.with(indexesOf(active)...)
	if onlyReplaceFailed(job) {
		var terminating []*corev1.Pod
		for _, p := range all {
			if isTerminating(p) {
				terminating = append(terminating, p)
			}
		}
		busy = busy.with(indexesOf(terminating)...)
	}
	var out []int
	for ix := 0; ix < int(*job.Spec.Completions) && len(out) < count; ix++ {
		if !busy.has(ix) {
			out = append(out, ix)
		}
	}
	return out
}

func indexesOf(pods []*corev1.Pod) []int {
	var out []int
	for _, p := range pods {
		if ix := completionIndex(p); ix != noIndex && !slices.Contains(out, ix) {
			out = append(out, ix)
		}
	}
	return out
}

// duplicateIndexPods splits the active pods of an Indexed Job into those
// to remove (no index, an index at or past completions, or all but the
// best of the pods sharing an index) and the rest.
func duplicateIndexPods(pods []*corev1.Pod, completions int) (rm, left []*corev1.Pod) {
	byIndex := map[int][]*corev1.Pod{}
	for _, p := range pods {
		ix := completionIndex(p)
		if ix == noIndex || ix >= completions {
			rm = append(rm, p)
			continue
		}
		byIndex[ix] = append(byIndex[ix], p)
	}
	ixs := make([]int, 0, len(byIndex))
	for ix := range byIndex {
		ixs = append(ixs, ix)
	}
	slices.Sort(ixs)
	for _, ix := range ixs {
		same := byIndex[ix]
		slices.SortStableFunc(same, func(a, b *corev1.Pod) int {
			switch {
			case lessForDeletion(a, b):
				return -1
			case lessForDeletion(b, a):
				return 1
			}
			return 0
		})
		rm = append(rm, same[:len(same)-1]...)
		left = append(left, same[len(same)-1])
	}
	return rm, left
}

// addIndex sets what a pod of index gets: the annotation and label, and
// the JOB_COMPLETION_INDEX variable in every container (a fieldRef on the
// label, unless the container sets it itself).
func addIndex(template *corev1.PodTemplateSpec, jobName string, index int) {
	if template.Annotations == nil {
		template.Annotations = map[string]string{}
	}
	if template.Labels == nil {
		template.Labels = map[string]string{}
	}
	template.Annotations[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(index)
	template.Labels[batchv1.JobCompletionIndexAnnotation] = strconv.Itoa(index)
	template.Spec.Hostname = fmt.Sprintf("%s-%d", jobName, index)
}

// addIndexEnv adds JOB_COMPLETION_INDEX to every container and init
// container that does not set it.
func addIndexEnv(spec *corev1.PodSpec) {
	env := corev1.EnvVar{Name: completionIndexEnv, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{
		FieldPath: fmt.Sprintf("metadata.labels['%s']", batchv1.JobCompletionIndexAnnotation)}}}
	for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range cs {
			if !slices.ContainsFunc(cs[i].Env, func(e corev1.EnvVar) bool { return e.Name == completionIndexEnv }) {
				cs[i].Env = append(cs[i].Env, env)
			}
		}
	}
}
