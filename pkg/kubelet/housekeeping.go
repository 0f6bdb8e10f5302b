package kubelet

import (
	"context"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/types"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/kinc-dev/kinc/pkg/kubelet/config"
	"github.com/kinc-dev/kinc/pkg/kubelet/kuberuntime"
)

// cleanupOrphans stops and removes sandboxes (and their containers) of pods
// this kubelet does not know: left over from pods deleted while it was down.
// Call it only when every pod source has synced.
func (k *Kubelet) cleanupOrphans(ctx context.Context) {
	sbs, err := k.runtime.ListPodSandbox(ctx, nil)
	if err != nil {
		k.logger.Warn("list sandboxes", "err", err)
		return
	}
	orphans := map[types.UID]*runtimeapi.PodSandbox{}
	k.mu.Lock()
	for _, sb := range sbs {
		uid := types.UID(sb.Labels[kuberuntime.LabelPodUID])
		if uid == "" {
			continue // not a pod sandbox
		}
		if _, ok := k.known[uid]; !ok {
			orphans[uid] = sb
		}
	}
	k.mu.Unlock()
	withSandbox := map[string]bool{}
	for _, sb := range sbs {
		withSandbox[sb.Labels[kuberuntime.LabelPodUID]] = true
	}
	// Directories of pods that have neither a sandbox nor a worker go too
	// (those of the orphans below are removed with them).
	defer k.rm.RemoveOrphanDirs(func(uid string) bool {
		k.mu.Lock()
		defer k.mu.Unlock()
		_, known := k.known[types.UID(uid)]
		return known || withSandbox[uid]
	})
	for uid, sb := range orphans {
		pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{UID: uid, Name: sb.GetMetadata().GetName(), Namespace: sb.GetMetadata().GetNamespace()}}
		grace := int64(2)
		if err := k.rm.KillPod(ctx, pod, &grace); err != nil {
			k.logger.Warn("orphaned pod cleanup failed", "pod", pod.Namespace+"/"+pod.Name, "uid", uid, "err", err)
			continue
		}
		k.logger.Info("removed orphaned pod", "pod", pod.Namespace+"/"+pod.Name, "uid", uid)
	}
}

// syncMirrorPods makes the apiserver hold exactly one up-to-date mirror pod
// per static pod: stale mirrors (other hash, or being deleted) are deleted
// and re-created, mirrors of removed manifests are deleted.
func (k *Kubelet) syncMirrorPods(ctx context.Context) {
	nodeUID := k.nodeCtl.NodeUID()
	if nodeUID == "" || !k.podSynced() {
		return
	}
	k.mu.Lock()
	statics := make(map[string]*v1.Pod, len(k.staticPods))
	for _, p := range k.staticPods {
		statics[p.Namespace+"/"+p.Name] = p
	}
	k.mu.Unlock()
	pods, err := k.podLister.List(labels.Everything())
	if err != nil {
		return
	}
	mirrors := map[string]*v1.Pod{}
	for _, p := range pods {
		if config.IsMirrorPod(p) && p.Spec.NodeName == k.nodeName {
			key := p.Namespace + "/" + p.Name
			mirrors[key] = p
			if s, ok := statics[key]; !ok || !config.MirrorMatches(s, p) {
				k.logger.Info("deleting stale mirror pod", "pod", key)
				if err := k.mirror.DeleteMirrorPod(ctx, p.Namespace, p.Name, p.UID); err != nil {
					k.logger.Warn("delete mirror pod", "pod", key, "err", err)
				}
			}
		}
	}
	for key, s := range statics {
		if _, ok := mirrors[key]; ok {
			continue
		}
		if existing, err := k.podLister.Pods(s.Namespace).Get(s.Name); err == nil && !config.IsMirrorPod(existing) {
			continue // a regular pod holds the name
		}
		if _, err := k.mirror.CreateMirrorPod(ctx, s, nodeUID); err != nil {
			k.logger.Warn("create mirror pod", "pod", key, "err", err)
			continue
		}
		k.logger.Info("created mirror pod", "pod", key)
	}
}
