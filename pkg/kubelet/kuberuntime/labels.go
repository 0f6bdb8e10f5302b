package kuberuntime

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"

	v1 "k8s.io/api/core/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Upstream's CRI labels and annotations (crictl and kubelets understand them).
const (
	LabelPodName       = "io.kubernetes.pod.name"
	LabelPodNamespace  = "io.kubernetes.pod.namespace"
	LabelPodUID        = "io.kubernetes.pod.uid"
	LabelContainerName = "io.kubernetes.container.name"
	labelManagedBy     = "io.kinc.managed" // marks objects this kubelet created

	annotationContainerHash     = "io.kubernetes.container.hash"
	annotationRestartCount      = "io.kubernetes.container.restartCount"
	annotationTerminationGrace  = "io.kubernetes.pod.terminationGracePeriod"
	annotationTerminationMsgPth = "io.kubernetes.container.terminationMessagePath"
	annotationInitContainer     = "io.kinc.container.init"
)

func podLabels(pod *v1.Pod) map[string]string {
	l := map[string]string{}
	for k, v := range pod.Labels {
		l[k] = v
	}
	l[LabelPodName], l[LabelPodNamespace], l[LabelPodUID], l[labelManagedBy] = pod.Name, pod.Namespace, string(pod.UID), "true"
	return l
}

func containerLabels(pod *v1.Pod, c *v1.Container) map[string]string {
	return map[string]string{LabelPodName: pod.Name, LabelPodNamespace: pod.Namespace, LabelPodUID: string(pod.UID),
		LabelContainerName: c.Name, labelManagedBy: "true"}
}

// containerHash identifies a container spec; a running container whose hash
// differs from its spec's is restarted.
func containerHash(c *v1.Container) string {
	data, _ := json.Marshal(c)
	h := fnv.New32a()
	h.Write(data)
	return strconv.FormatUint(uint64(h.Sum32()), 16)
}

func restartCountOf(c *runtimeapi.ContainerStatus) int {
	n, _ := strconv.Atoi(c.GetAnnotations()[annotationRestartCount])
	return n
}

func podFullName(pod *v1.Pod) string {
	return fmt.Sprintf("%s_%s(%s)", pod.Name, pod.Namespace, pod.UID)
}
