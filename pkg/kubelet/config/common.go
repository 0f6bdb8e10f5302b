package config

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// Upstream's pod annotations for static and mirror pods.
const (
	ConfigSourceAnnotation = "kubernetes.io/config.source"
	ConfigHashAnnotation   = "kubernetes.io/config.hash"
	ConfigMirrorAnnotation = "kubernetes.io/config.mirror"
	ConfigSeenAnnotation   = "kubernetes.io/config.seen"
	// SourceFile is the config.source of static pods from staticPodPath.
	SourceFile = "file"
	// SourceAPI is the config.source of pods from the apiserver.
	SourceAPI = "api"
)

// IsStaticPod reports whether pod came from a manifest file.
func IsStaticPod(pod *v1.Pod) bool {
	return pod.Annotations[ConfigSourceAnnotation] == SourceFile && pod.Annotations[ConfigMirrorAnnotation] == ""
}

// IsMirrorPod reports whether pod is the apiserver's mirror of a static pod.
func IsMirrorPod(pod *v1.Pod) bool {
	_, ok := pod.Annotations[ConfigMirrorAnnotation]
	return ok
}

// decodeManifest parses a static pod manifest (YAML or JSON) and turns it
// into the pod the kubelet runs on nodeName: name <name>-<node>, namespace
// default when empty, a UID hashed from the content, node and path, and
// upstream's annotations and NoExecute toleration.
func decodeManifest(data []byte, path, nodeName string, now time.Time) (*v1.Pod, error) {
	pod := &v1.Pod{}
	if err := yaml.UnmarshalStrict(data, pod); err != nil {
		return nil, err
	}
	if pod.Kind != "Pod" || (pod.APIVersion != "v1" && pod.APIVersion != "") {
		return nil, fmt.Errorf("want a v1 Pod, got %s %s", pod.APIVersion, pod.Kind)
	}
	if pod.Name == "" {
		return nil, fmt.Errorf("metadata.name is required")
	}
	if len(pod.Spec.Containers) == 0 {
		return nil, fmt.Errorf("spec.containers is required")
	}
	h := fnv.New128a()
	fmt.Fprintf(h, "%s\x00%s\x00", path, nodeName)
	h.Write(data)
	uid := hex.EncodeToString(h.Sum(nil))

	pod.UID = types.UID(uid)
	pod.Name = pod.Name + "-" + strings.ToLower(nodeName)
	if pod.Namespace == "" {
		pod.Namespace = "default"
	}
	pod.Spec.NodeName = nodeName
	if pod.Annotations == nil {
		pod.Annotations = map[string]string{}
	}
	pod.Annotations[ConfigHashAnnotation] = uid
	pod.Annotations[ConfigSourceAnnotation] = SourceFile
	pod.Annotations[ConfigSeenAnnotation] = now.UTC().Format(time.RFC3339Nano)
	pod.Spec.Tolerations = append(pod.Spec.Tolerations, v1.Toleration{Operator: v1.TolerationOpExists, Effect: v1.TaintEffectNoExecute})
	pod.Status = v1.PodStatus{}
	ApplyPodDefaults(pod)
	return pod, nil
}

// ApplyPodDefaults sets upstream's API defaults the kubelet relies on, for
// pods that never went through an apiserver (static pods).
func ApplyPodDefaults(pod *v1.Pod) {
	s := &pod.Spec
	if s.RestartPolicy == "" {
		s.RestartPolicy = v1.RestartPolicyAlways
	}
	if s.DNSPolicy == "" {
		s.DNSPolicy = v1.DNSClusterFirst
	}
	if s.TerminationGracePeriodSeconds == nil {
		g := int64(v1.DefaultTerminationGracePeriodSeconds)
		s.TerminationGracePeriodSeconds = &g
	}
	if s.SchedulerName == "" {
		s.SchedulerName = v1.DefaultSchedulerName
	}
	if s.SecurityContext == nil {
		s.SecurityContext = &v1.PodSecurityContext{}
	}
	for _, list := range [][]v1.Container{s.InitContainers, s.Containers} {
		for i := range list {
			c := &list[i]
			if c.ImagePullPolicy == "" {
				c.ImagePullPolicy = v1.PullIfNotPresent
				if tag := imageTag(c.Image); tag == "" || tag == "latest" {
					c.ImagePullPolicy = v1.PullAlways
				}
			}
			if c.TerminationMessagePath == "" {
				c.TerminationMessagePath = v1.TerminationMessagePathDefault
			}
			if c.TerminationMessagePolicy == "" {
				c.TerminationMessagePolicy = v1.TerminationMessageReadFile
			}
			for j := range c.Ports {
				if c.Ports[j].Protocol == "" {
					c.Ports[j].Protocol = v1.ProtocolTCP
				}
			}
		}
	}
	for i := range s.Volumes {
		if hp := s.Volumes[i].HostPath; hp != nil && hp.Type == nil {
			t := v1.HostPathUnset
			hp.Type = &t
		}
	}
}

// imageTag returns the tag of an image reference ("" when it has none or
// only a digest).
func imageTag(image string) string {
	if strings.Contains(image, "@") {
		return "digest"
	}
	name := image[strings.LastIndex(image, "/")+1:]
	if i := strings.LastIndex(name, ":"); i >= 0 {
		return name[i+1:]
	}
	return ""
}
