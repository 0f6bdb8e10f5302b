// Package kubeapply creates API objects from YAML manifests through an
// apiserver's REST API, as kubeadm's init phases create theirs: each object
// is POSTed in order, and one that already exists is left as it is (a
// create is retried safely). It knows the kinds kinc's manifests hold; any
// other is an error.
package kubeapply

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"
)

// resource is where objects of a kind are created.
type resource struct {
	plural     string
	namespaced bool
}

// kinds are the kinds Create knows, by apiVersion and kind.
func kinds() map[string]resource {
	return map[string]resource{
		"v1/ServiceAccount": {"serviceaccounts", true},
		"v1/ConfigMap":      {"configmaps", true},
		"v1/Secret":         {"secrets", true},
		"rbac.authorization.k8s.io/v1/ClusterRole":        {"clusterroles", false},
		"rbac.authorization.k8s.io/v1/ClusterRoleBinding": {"clusterrolebindings", false},
		"rbac.authorization.k8s.io/v1/Role":               {"roles", true},
		"rbac.authorization.k8s.io/v1/RoleBinding":        {"rolebindings", true},
	}
}

// Object is one document of a manifest.
type Object struct {
	APIVersion, Kind, Namespace, Name string
	// JSON is the document as JSON.
	JSON []byte
}

func (o Object) String() string {
	if o.Namespace != "" {
		return fmt.Sprintf("%s %s/%s", o.Kind, o.Namespace, o.Name)
	}
	return o.Kind + " " + o.Name
}

// Parse splits a manifest (YAML documents separated by "---") into its
// objects, in order; empty documents are skipped. Every object must have
// apiVersion, kind and metadata.name.
func Parse(manifest string) ([]Object, error) {
	r := utilyaml.NewYAMLReader(bufio.NewReader(strings.NewReader(manifest)))
	var out []Object
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		js, err := yaml.YAMLToJSON(doc)
		if err != nil {
			return nil, fmt.Errorf("document %d: %w", len(out)+1, err)
		}
		if t := bytes.TrimSpace(js); len(t) == 0 || bytes.Equal(t, []byte("null")) {
			continue
		}
		var head struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name      string `json:"name"`
				Namespace string `json:"namespace"`
			} `json:"metadata"`
		}
		if err := json.Unmarshal(js, &head); err != nil {
			return nil, fmt.Errorf("document %d: %w", len(out)+1, err)
		}
		if head.APIVersion == "" || head.Kind == "" || head.Metadata.Name == "" {
			return nil, fmt.Errorf("document %d: apiVersion, kind and metadata.name are required", len(out)+1)
		}
		out = append(out, Object{APIVersion: head.APIVersion, Kind: head.Kind, Namespace: head.Metadata.Namespace,
			Name: head.Metadata.Name, JSON: js})
	}
}

// Path returns the collection URL path o is created at
// ("/apis/rbac.authorization.k8s.io/v1/namespaces/kube-system/roles").
func Path(o Object) (string, error) {
	res, ok := kinds()[o.APIVersion+"/"+o.Kind]
	if !ok {
		return "", fmt.Errorf("%s: kind %s of %s is not one kinc creates", o, o.Kind, o.APIVersion)
	}
	prefix := "/apis/" + o.APIVersion
	if o.APIVersion == "v1" {
		prefix = "/api/v1"
	}
	switch {
	case res.namespaced && o.Namespace == "":
		return "", fmt.Errorf("%s: metadata.namespace is required", o)
	case !res.namespaced && o.Namespace != "":
		return "", fmt.Errorf("%s: a %s has no namespace", o, o.Kind)
	case res.namespaced:
		return prefix + "/namespaces/" + o.Namespace + "/" + res.plural, nil
	}
	return prefix + "/" + res.plural, nil
}

// Create creates every object of manifest at server (https://host:port)
// with client, in order, and stops at the first failure. An object that
// already exists is kept as it is.
func Create(ctx context.Context, client *http.Client, server, manifest string) error {
	objs, err := Parse(manifest)
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := create(ctx, client, server, o); err != nil {
			return err
		}
	}
	return nil
}

func create(ctx context.Context, client *http.Client, server string, o Object) error {
	path, err := Path(o)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, server+path, bytes.NewReader(o.JSON))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("create %s: %w", o, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var status struct {
		Reason  string `json:"reason"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &status)
	switch {
	case resp.StatusCode == http.StatusOK, resp.StatusCode == http.StatusCreated, resp.StatusCode == http.StatusAccepted:
		return nil
	case resp.StatusCode == http.StatusConflict && status.Reason == "AlreadyExists":
		return nil
	}
	msg := strings.TrimSpace(string(body))
	if status.Message != "" {
		msg = status.Message
	}
	return fmt.Errorf("create %s: %s: %s", o, resp.Status, msg)
}
