package kuberuntime

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	v1 "k8s.io/api/core/v1"
)

// serviceEnv returns the docker-links style variables upstream gives every
// container: for the "kubernetes" service of the default namespace always,
// and for the services of the pod's namespace unless enableServiceLinks is
// false. Pods from the apiserver need the services read (a failure makes the
// container wait); static pods start without them when no apiserver answers.
func (m *Manager) serviceEnv(ctx context.Context, pod *v1.Pod, static bool) (map[string]string, error) {
	env := map[string]string{}
	if m.objects == nil {
		return env, nil
	}
	// Do not let an unreachable apiserver hold up a static pod for long.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	var services []v1.Service
	if pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks {
		list, err := m.objects.ListServices(ctx, pod.Namespace)
		if err != nil {
			if static {
				return env, nil
			}
			return nil, configErrorf("services have not been read, cannot construct envvars: %v", err)
		}
		services = list
	}
	if pod.Namespace != v1.NamespaceDefault {
		list, err := m.objects.ListServices(ctx, v1.NamespaceDefault)
		if err != nil && !static {
			return nil, configErrorf("services have not been read, cannot construct envvars: %v", err)
		}
		for _, s := range list {
			if s.Name == "kubernetes" {
				services = append(services, s)
			}
		}
	}
	sort.Slice(services, func(i, j int) bool { return services[i].Name < services[j].Name })
	for _, s := range services {
		ip := s.Spec.ClusterIP
		if ip == "" || ip == v1.ClusterIPNone || len(s.Spec.Ports) == 0 {
			continue
		}
		prefix := strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
		host := ip
		if strings.Contains(ip, ":") {
			host = "[" + ip + "]"
		}
		env[prefix+"_SERVICE_HOST"] = ip
		env[prefix+"_SERVICE_PORT"] = strconv.Itoa(int(s.Spec.Ports[0].Port))
		for i, p := range s.Spec.Ports {
			port := strconv.Itoa(int(p.Port))
			proto := strings.ToLower(string(p.Protocol))
			if proto == "" {
				proto = "tcp"
			}
			if p.Name != "" {
				env[prefix+"_SERVICE_PORT_"+strings.ToUpper(strings.ReplaceAll(p.Name, "-", "_"))] = port
			}
			url := fmt.Sprintf("%s://%s:%s", proto, host, port)
			if i == 0 {
				env[prefix+"_PORT"] = url
			}
			pp := prefix + "_PORT_" + port + "_" + strings.ToUpper(proto)
			env[pp] = url
			env[pp+"_PROTO"] = proto
			env[pp+"_PORT"] = port
			env[pp+"_ADDR"] = ip
		}
	}
	return env, nil
}
