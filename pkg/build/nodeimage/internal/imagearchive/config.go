package imagearchive

import (
	"encoding/json"
	"strings"
)

// imageConfig is the OCI image configuration (the subset kinc sets).
type imageConfig struct {
	Created      string         `json:"created"`
	Architecture string         `json:"architecture"`
	OS           string         `json:"os"`
	Config       runtimeConfig  `json:"config"`
	RootFS       rootFS         `json:"rootfs"`
	History      []historyEntry `json:"history"`
}

type runtimeConfig struct {
	Env        []string `json:"Env,omitempty"`
	Entrypoint []string `json:"Entrypoint,omitempty"`
	Cmd        []string `json:"Cmd,omitempty"`
	WorkingDir string   `json:"WorkingDir,omitempty"`
}

type rootFS struct {
	Type    string   `json:"type"`
	DiffIDs []string `json:"diff_ids"`
}

type historyEntry struct {
	Created   string `json:"created"`
	CreatedBy string `json:"created_by"`
}

func configOf(img Image, diffID string) imageConfig {
	created := epoch().Format("2006-01-02T15:04:05Z")
	return imageConfig{
		Created:      created,
		Architecture: img.Architecture,
		OS:           img.OS,
		Config:       runtimeConfig{Env: img.Env, Entrypoint: img.Entrypoint, Cmd: img.Cmd, WorkingDir: img.WorkingDir},
		RootFS:       rootFS{Type: "layers", DiffIDs: []string{diffID}},
		History:      []historyEntry{{Created: created, CreatedBy: "kinc build node-image"}},
	}
}

// dockerManifestEntry is one element of a Docker archive's manifest.json.
type dockerManifestEntry struct {
	Config   string   `json:"Config"`
	RepoTags []string `json:"RepoTags"`
	Layers   []string `json:"Layers"`
}

// indexes returns index.json (one manifest descriptor per tag, named for
// containerd) and the Docker manifest.json.
func indexes(img Image, manifest, config, layer Descriptor) (index, docker []byte, err error) {
	platform := &Platform{Architecture: img.Architecture, OS: img.OS}
	var descs []Descriptor
	for _, ref := range img.RepoTags {
		d := manifest
		d.Platform = platform
		d.Annotations = map[string]string{annotationImageName: ref, annotationRefName: tagOf(ref)}
		descs = append(descs, d)
	}
	index, err = json.Marshal(struct {
		SchemaVersion int          `json:"schemaVersion"`
		MediaType     string       `json:"mediaType"`
		Manifests     []Descriptor `json:"manifests"`
	}{2, MediaTypeIndex, descs})
	if err != nil {
		return nil, nil, err
	}
	docker, err = json.Marshal([]dockerManifestEntry{{
		Config:   blobPath(config),
		RepoTags: img.RepoTags,
		Layers:   []string{blobPath(layer)},
	}})
	return index, docker, err
}

// tagOf returns the tag of a reference ("registry.k8s.io/pause:3.10" → "3.10"),
// or "latest" when it has none.
func tagOf(ref string) string {
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[i+1:]
	}
	return "latest"
}
