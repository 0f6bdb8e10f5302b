package node

import (
	corev1 "k8s.io/api/core/v1"
)

// Kind is a kind of object a node may reach through the pods bound to it.
type Kind uint8

// The kinds of the graph's objects.
const (
	Pod Kind = iota
	Secret
	ConfigMap
	ServiceAccount
	PersistentVolumeClaim
	PersistentVolume
	ResourceClaim
	VolumeAttachment
)

var kindNames = [...]string{"pod", "secret", "configmap", "serviceaccount", "pvc", "pv", "resourceclaim", "volumeattachment"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// PodReferences calls visit once per reference of pod to another object in
// its namespace that the kubelet running it must read: its service account,
// the Secrets and ConfigMaps of its volumes (also projected), env and
// envFrom of every container (init and ephemeral ones too), its image pull
// Secrets, the PVCs of its volumes (an ephemeral volume's claim is
// <pod>-<volume>) and its ResourceClaims. Empty names are skipped; a name
// may be visited more than once. These are the references upstream's Node
// authorizer graph draws edges for.
func PodReferences(pod *corev1.Pod, visit func(k Kind, name string)) {
	v := func(k Kind, name string) {
		if name != "" {
			visit(k, name)
		}
	}
	v(ServiceAccount, pod.Spec.ServiceAccountName)
	for _, r := range pod.Spec.ImagePullSecrets {
		v(Secret, r.Name)
	}
	visitContainers(&pod.Spec, func(c *corev1.Container) {
		for _, e := range c.EnvFrom {
			if e.SecretRef != nil {
				v(Secret, e.SecretRef.Name)
			}
			if e.ConfigMapRef != nil {
				v(ConfigMap, e.ConfigMapRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if e.ValueFrom.SecretKeyRef != nil {
				v(Secret, e.ValueFrom.SecretKeyRef.Name)
			}
			if e.ValueFrom.ConfigMapKeyRef != nil {
				v(ConfigMap, e.ValueFrom.ConfigMapKeyRef.Name)
			}
		}
	})
	for i := range pod.Spec.Volumes {
		vol := &pod.Spec.Volumes[i]
		volumeSecret(&vol.VolumeSource, func(name string) { v(Secret, name) })
		switch {
		case vol.ConfigMap != nil:
			v(ConfigMap, vol.ConfigMap.Name)
		case vol.Projected != nil:
			for _, s := range vol.Projected.Sources {
				if s.ConfigMap != nil {
					v(ConfigMap, s.ConfigMap.Name)
				}
			}
		case vol.PersistentVolumeClaim != nil:
			v(PersistentVolumeClaim, vol.PersistentVolumeClaim.ClaimName)
		case vol.Ephemeral != nil:
			v(PersistentVolumeClaim, pod.Name+"-"+vol.Name)
		}
	}
	podClaims(pod, func(name string) { v(ResourceClaim, name) })
}

// visitContainers calls fn for the init, regular and ephemeral containers.
func visitContainers(spec *corev1.PodSpec, fn func(c *corev1.Container)) {
	for i := range spec.InitContainers {
		fn(&spec.InitContainers[i])
	}
	for i := range spec.Containers {
		fn(&spec.Containers[i])
	}
	for i := range spec.EphemeralContainers {
		fn((*corev1.Container)(&spec.EphemeralContainers[i].EphemeralContainerCommon))
	}
}

// volumeSecret calls fn with the Secret a volume source names, if any.
func volumeSecret(s *corev1.VolumeSource, fn func(name string)) {
	ref := func(r *corev1.LocalObjectReference) {
		if r != nil {
			fn(r.Name)
		}
	}
	switch {
	case s.Secret != nil:
		fn(s.Secret.SecretName)
	case s.Projected != nil:
		for _, p := range s.Projected.Sources {
			if p.Secret != nil {
				fn(p.Secret.Name)
			}
		}
	case s.AzureFile != nil:
		fn(s.AzureFile.SecretName)
	case s.CephFS != nil:
		ref(s.CephFS.SecretRef)
	case s.Cinder != nil:
		ref(s.Cinder.SecretRef)
	case s.FlexVolume != nil:
		ref(s.FlexVolume.SecretRef)
	case s.RBD != nil:
		ref(s.RBD.SecretRef)
	case s.ScaleIO != nil:
		ref(s.ScaleIO.SecretRef)
	case s.ISCSI != nil:
		ref(s.ISCSI.SecretRef)
	case s.StorageOS != nil:
		ref(s.StorageOS.SecretRef)
	case s.CSI != nil:
		ref(s.CSI.NodePublishSecretRef)
	}
}

// podClaims calls fn with the ResourceClaims that exist for pod: claims it
// names, claims generated from its templates once the status records them,
// and its extended-resource claim.
func podClaims(pod *corev1.Pod, fn func(name string)) {
	for _, c := range pod.Spec.ResourceClaims {
		if c.ResourceClaimName != nil {
			fn(*c.ResourceClaimName)
			continue
		}
		for _, s := range pod.Status.ResourceClaimStatuses {
			if s.Name == c.Name && s.ResourceClaimName != nil {
				fn(*s.ResourceClaimName)
			}
		}
	}
	if s := pod.Status.ExtendedResourceClaimStatus; s != nil {
		fn(s.ResourceClaimName)
	}
}
