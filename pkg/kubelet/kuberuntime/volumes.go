package kuberuntime

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	authenticationv1 "k8s.io/api/authentication/v1"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// volumeDir is where a pod volume's content lives on the node:
// <root>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name> (hostPath: the path).
func (m *Manager) volumeDir(pod *v1.Pod, vol *v1.Volume) string {
	if vol.HostPath != nil {
		return vol.HostPath.Path
	}
	plugin := "empty-dir"
	switch {
	case vol.ConfigMap != nil:
		plugin = "configmap"
	case vol.Secret != nil:
		plugin = "secret"
	case vol.DownwardAPI != nil:
		plugin = "downward-api"
	case vol.Projected != nil:
		plugin = "projected"
	}
	return filepath.Join(m.PodDir(pod), "volumes", "kubernetes.io~"+plugin, vol.Name)
}

// readOnlyVolume: ConfigMap, Secret, downward API and projected volumes are
// always mounted read-only.
func readOnlyVolume(vol *v1.Volume) bool {
	return vol.ConfigMap != nil || vol.Secret != nil || vol.DownwardAPI != nil || vol.Projected != nil
}

// prepareVolumes creates or refreshes every volume of the pod on disk, at
// most once per VolumeRefresh (the first sync always writes them). A
// projected service-account token is requested again once 80% of its life
// has passed (tokenManager) and its file replaced atomically (renamed over).
func (m *Manager) prepareVolumes(ctx context.Context, pod *v1.Pod) error {
	m.mu.Lock()
	last, ok := m.volumesAt[pod.UID]
	m.mu.Unlock()
	if ok && m.clock.Since(last) < m.cfg.VolumeRefresh {
		return nil
	}
	for i := range pod.Spec.Volumes {
		vol := &pod.Spec.Volumes[i]
		if err := m.prepareVolume(ctx, pod, vol); err != nil {
			return fmt.Errorf("volume %q: %w", vol.Name, err)
		}
	}
	m.mu.Lock()
	m.volumesAt[pod.UID] = m.clock.Now()
	m.mu.Unlock()
	return nil
}

func (m *Manager) prepareVolume(ctx context.Context, pod *v1.Pod, vol *v1.Volume) error {
	dir := m.volumeDir(pod, vol)
	switch {
	case vol.HostPath != nil:
		return prepareHostPath(vol.HostPath)
	case vol.EmptyDir != nil:
		return os.MkdirAll(dir, 0o777)
	case vol.ConfigMap != nil:
		files, err := m.configMapFiles(ctx, pod.Namespace, &vol.ConfigMap.LocalObjectReference, vol.ConfigMap.Items, vol.ConfigMap.Optional)
		if err != nil {
			return err
		}
		return writeFiles(dir, files, mode(vol.ConfigMap.DefaultMode, 0o644))
	case vol.Secret != nil:
		files, err := m.secretFiles(ctx, pod.Namespace, vol.Secret.SecretName, vol.Secret.Items, vol.Secret.Optional)
		if err != nil {
			return err
		}
		return writeFiles(dir, files, mode(vol.Secret.DefaultMode, 0o644))
	case vol.DownwardAPI != nil:
		files, err := m.downwardFiles(pod, vol.DownwardAPI.Items)
		if err != nil {
			return err
		}
		return writeFiles(dir, files, mode(vol.DownwardAPI.DefaultMode, 0o644))
	case vol.Projected != nil:
		files := map[string][]byte{}
		for _, src := range vol.Projected.Sources {
			part, err := m.projectedFiles(ctx, pod, src, vol.Projected.DefaultMode)
			if err != nil {
				return err
			}
			for k, v := range part {
				files[k] = v
			}
		}
		return writeFiles(dir, files, mode(vol.Projected.DefaultMode, 0o644))
	}
	return fmt.Errorf("unsupported volume type")
}

func (m *Manager) projectedFiles(ctx context.Context, pod *v1.Pod, src v1.VolumeProjection, _ *int32) (map[string][]byte, error) {
	switch {
	case src.ConfigMap != nil:
		return m.configMapFiles(ctx, pod.Namespace, &src.ConfigMap.LocalObjectReference, src.ConfigMap.Items, src.ConfigMap.Optional)
	case src.Secret != nil:
		return m.secretFiles(ctx, pod.Namespace, src.Secret.Name, src.Secret.Items, src.Secret.Optional)
	case src.DownwardAPI != nil:
		return m.downwardFiles(pod, src.DownwardAPI.Items)
	case src.ServiceAccountToken != nil:
		if m.objects == nil {
			return nil, fmt.Errorf("service account token: no apiserver")
		}
		sat := src.ServiceAccountToken
		exp := int64(3600)
		if sat.ExpirationSeconds != nil {
			exp = *sat.ExpirationSeconds
		}
		var aud []string
		if sat.Audience != "" {
			aud = []string{sat.Audience}
		}
		sa := pod.Spec.ServiceAccountName
		if sa == "" {
			sa = "default"
		}
		tr, err := m.tokens.token(ctx, pod.Namespace, sa, &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
			Audiences: aud, ExpirationSeconds: &exp,
			BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID}}})
		if err != nil {
			return nil, fmt.Errorf("service account token: %w", err)
		}
		return map[string][]byte{sat.Path: []byte(tr.Status.Token)}, nil
	}
	return nil, nil
}

func (m *Manager) configMap(ctx context.Context, ns, name string, optional *bool) (*v1.ConfigMap, error) {
	if m.objects == nil {
		return nil, configErrorf("configmap %q: no apiserver", name)
	}
	cm, err := m.objects.GetConfigMap(ctx, ns, name)
	if apierrors.IsNotFound(err) {
		if isOptional(optional) {
			return nil, nil
		}
		return nil, configErrorf("configmap %q not found", name)
	}
	return cm, err
}

func (m *Manager) secret(ctx context.Context, ns, name string, optional *bool) (*v1.Secret, error) {
	if m.objects == nil {
		return nil, configErrorf("secret %q: no apiserver", name)
	}
	s, err := m.objects.GetSecret(ctx, ns, name)
	if apierrors.IsNotFound(err) {
		if isOptional(optional) {
			return nil, nil
		}
		return nil, configErrorf("secret %q not found", name)
	}
	return s, err
}

func (m *Manager) configMapFiles(ctx context.Context, ns string, ref *v1.LocalObjectReference, items []v1.KeyToPath, optional *bool) (map[string][]byte, error) {
	cm, err := m.configMap(ctx, ns, ref.Name, optional)
	if err != nil || cm == nil {
		return map[string][]byte{}, err
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return pick(data, items, optional, "configmap "+ref.Name)
}

func (m *Manager) secretFiles(ctx context.Context, ns, name string, items []v1.KeyToPath, optional *bool) (map[string][]byte, error) {
	s, err := m.secret(ctx, ns, name, optional)
	if err != nil || s == nil {
		return map[string][]byte{}, err
	}
	return pick(s.Data, items, optional, "secret "+name)
}

func pick(data map[string][]byte, items []v1.KeyToPath, optional *bool, what string) (map[string][]byte, error) {
	if len(items) == 0 {
		return data, nil
	}
	out := map[string][]byte{}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if isOptional(optional) {
				continue
			}
			return nil, configErrorf("%s has no key %q", what, it.Key)
		}
		out[it.Path] = v
	}
	return out, nil
}

func (m *Manager) downwardFiles(pod *v1.Pod, items []v1.DownwardAPIVolumeFile) (map[string][]byte, error) {
	out := map[string][]byte{}
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = m.podField(pod, it.FieldRef.FieldPath, nil)
		case it.ResourceFieldRef != nil:
			v, err = m.containerResource(pod, &pod.Spec.Containers[0], it.ResourceFieldRef)
		}
		if err != nil {
			return nil, err
		}
		out[it.Path] = []byte(v)
	}
	return out, nil
}

// writeFiles writes files (relative paths) under dir, replacing changed
// content and removing files no longer present.
func writeFiles(dir string, files map[string][]byte, perm os.FileMode) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for rel, data := range files {
		if strings.Contains(rel, "..") || filepath.IsAbs(rel) {
			return fmt.Errorf("invalid path %q", rel)
		}
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if old, err := os.ReadFile(p); err == nil && string(old) == string(data) {
			continue
		}
		tmp := p + ".kinc-tmp"
		if err := os.WriteFile(tmp, data, perm); err != nil {
			return err
		}
		if err := os.Rename(tmp, p); err != nil {
			return err
		}
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if _, ok := files[e.Name()]; !ok && !e.IsDir() {
			_ = os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	return nil
}

func mode(m *int32, def os.FileMode) os.FileMode {
	if m == nil {
		return def
	}
	return os.FileMode(*m)
}
