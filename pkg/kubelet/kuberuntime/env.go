package kuberuntime

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// configSourceAnnotation marks static pods ("file"); see pkg/kubelet/config.
const configSourceAnnotation = "kubernetes.io/config.source"

// configError is a problem with what a container references (a missing
// ConfigMap key, …): the container waits with CreateContainerConfigError.
type configError struct{ msg string }

func (e *configError) Error() string { return e.msg }

func configErrorf(format string, args ...any) error {
	return &configError{msg: fmt.Sprintf(format, args...)}
}

// containerEnv resolves envFrom and env in upstream's order (envFrom first,
// env overriding it), expanding $(VAR) references to earlier variables.
func (m *Manager) containerEnv(ctx context.Context, pod *v1.Pod, c *v1.Container, podIPs []string) ([]*runtimeapi.KeyValue, error) {
	vars := map[string]string{}
	var order []string
	set := func(k, v string) {
		if _, ok := vars[k]; !ok {
			order = append(order, k)
		}
		vars[k] = v
	}
	svc, err := m.serviceEnv(ctx, pod, pod.Annotations[configSourceAnnotation] == "file")
	if err != nil {
		return nil, err
	}
	svcKeys := make([]string, 0, len(svc))
	for k := range svc {
		svcKeys = append(svcKeys, k)
	}
	sort.Strings(svcKeys)
	for _, k := range svcKeys {
		set(k, svc[k])
	}
	for _, from := range c.EnvFrom {
		data, err := m.envFromData(ctx, pod.Namespace, from)
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			set(from.Prefix+k, data[k])
		}
	}
	for _, e := range c.Env {
		v, err := m.envValue(ctx, pod, c, e, vars, podIPs)
		if err != nil {
			return nil, err
		}
		set(e.Name, v)
	}
	out := make([]*runtimeapi.KeyValue, 0, len(order))
	for _, k := range order {
		out = append(out, &runtimeapi.KeyValue{Key: k, Value: []byte(vars[k])})
	}
	return out, nil
}

func (m *Manager) envFromData(ctx context.Context, ns string, from v1.EnvFromSource) (map[string]string, error) {
	data := map[string]string{}
	switch {
	case from.ConfigMapRef != nil:
		cm, err := m.configMap(ctx, ns, from.ConfigMapRef.Name, from.ConfigMapRef.Optional)
		if err != nil || cm == nil {
			return data, err
		}
		for k, v := range cm.Data {
			data[k] = v
		}
	case from.SecretRef != nil:
		s, err := m.secret(ctx, ns, from.SecretRef.Name, from.SecretRef.Optional)
		if err != nil || s == nil {
			return data, err
		}
		for k, v := range s.Data {
			data[k] = string(v)
		}
	}
	return data, nil
}

func (m *Manager) envValue(ctx context.Context, pod *v1.Pod, c *v1.Container, e v1.EnvVar, vars map[string]string, podIPs []string) (string, error) {
	if e.ValueFrom == nil {
		return expand(e.Value, vars), nil
	}
	vf := e.ValueFrom
	switch {
	case vf.ConfigMapKeyRef != nil:
		ref := vf.ConfigMapKeyRef
		cm, err := m.configMap(ctx, pod.Namespace, ref.Name, ref.Optional)
		if err != nil || cm == nil {
			return "", err
		}
		v, ok := cm.Data[ref.Key]
		if !ok && !isOptional(ref.Optional) {
			return "", configErrorf("couldn't find key %s in ConfigMap %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return v, nil
	case vf.SecretKeyRef != nil:
		ref := vf.SecretKeyRef
		s, err := m.secret(ctx, pod.Namespace, ref.Name, ref.Optional)
		if err != nil || s == nil {
			return "", err
		}
		v, ok := s.Data[ref.Key]
		if !ok && !isOptional(ref.Optional) {
			return "", configErrorf("couldn't find key %s in Secret %s/%s", ref.Key, pod.Namespace, ref.Name)
		}
		return string(v), nil
	case vf.FieldRef != nil:
		return m.podField(pod, vf.FieldRef.FieldPath, podIPs)
	case vf.ResourceFieldRef != nil:
		return m.containerResource(pod, c, vf.ResourceFieldRef)
	}
	return "", configErrorf("env %s: empty valueFrom", e.Name)
}

// podField resolves a downward API fieldPath.
func (m *Manager) podField(pod *v1.Pod, path string, podIPs []string) (string, error) {
	hostIPs := m.cfg.NodeIPs()
	first := func(ips []string) string {
		if len(ips) == 0 {
			return ""
		}
		return ips[0]
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP":
		return first(hostIPs), nil
	case "status.hostIPs":
		return strings.Join(hostIPs, ","), nil
	case "status.podIP":
		return first(podIPs), nil
	case "status.podIPs":
		return strings.Join(podIPs, ","), nil
	}
	for _, p := range []struct {
		prefix string
		m      map[string]string
	}{{"metadata.labels['", pod.Labels}, {"metadata.annotations['", pod.Annotations}} {
		if strings.HasPrefix(path, p.prefix) && strings.HasSuffix(path, "']") {
			return p.m[strings.TrimSuffix(strings.TrimPrefix(path, p.prefix), "']")], nil
		}
	}
	return "", configErrorf("unsupported fieldPath %q", path)
}

// containerResource resolves a resourceFieldRef as upstream does: a
// missing cpu or memory limit is the node's allocatable amount.
func (m *Manager) containerResource(pod *v1.Pod, c *v1.Container, ref *v1.ResourceFieldSelector) (string, error) {
	if ref.ContainerName != "" {
		c = nil
		for i := range pod.Spec.Containers {
			if pod.Spec.Containers[i].Name == ref.ContainerName {
				c = &pod.Spec.Containers[i]
			}
		}
		if c == nil {
			return "", configErrorf("resourceFieldRef: no container %q", ref.ContainerName)
		}
	}
	kind, name, ok := strings.Cut(ref.Resource, ".")
	if !ok {
		return "", configErrorf("resourceFieldRef: bad resource %q", ref.Resource)
	}
	list := c.Resources.Limits
	if kind == "requests" {
		list = c.Resources.Requests
	}
	q, ok := list[v1.ResourceName(name)]
	if !ok && kind == "limits" {
		switch name {
		case "cpu":
			q = *resource.NewMilliQuantity(m.cfg.NodeCPUMilli, resource.DecimalSI)
		case "memory":
			q = *resource.NewQuantity(m.cfg.NodeMemoryBytes, resource.BinarySI)
		}
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	if name == "cpu" {
		// Round up, as upstream does, so 250m with divisor 1 is "1".
		v := (q.MilliValue() + divisor.MilliValue() - 1) / divisor.MilliValue()
		return strconv.FormatInt(v, 10), nil
	}
	v := (q.Value() + divisor.Value() - 1) / divisor.Value()
	return strconv.FormatInt(v, 10), nil
}

func formatMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s=%q\n", k, m[k])
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func isOptional(p *bool) bool { return p != nil && *p }

// expand replaces $(VAR) with vars[VAR] when defined; $$ escapes a $.
func expand(s string, vars map[string]string) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			if end := strings.IndexByte(s[i:], ')'); end > 0 {
				name := s[i+2 : i+end]
				if v, ok := vars[name]; ok {
					b.WriteString(v)
				} else {
					b.WriteString(s[i : i+end+1])
				}
				i += end
				continue
			}
			b.WriteByte('$')
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func expandAll(in []string, vars map[string]string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}
