// Package etcdpeer keeps a control plane's etcd member advertising the
// node's current address. etcd reads --initial-advertise-peer-urls only when
// it bootstraps; a member whose node came back at a new IP (kinc-node
// readdress rewrote etcd.yaml) still lists its old peer URL in the
// membership until someone updates it. A one-member cluster never dials its
// peer, so nothing fails meanwhile, but `etcdctl member list` would show a
// stale address, and a second member could not join.
package etcdpeer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
)

// Member is what etcd.yaml says of this node's member.
type Member struct {
	Name, PeerURL string
	// ClientURL is the first loopback client URL (https://127.0.0.1:2379).
	ClientURL string
}

// FromManifest reads the member's name, advertised peer URL and loopback
// client URL from a kubeadm-style etcd static pod manifest.
func FromManifest(path string) (Member, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Member{}, err
	}
	var m Member
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "- "))
		flag, value, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		switch flag {
		case "--name":
			m.Name = value
		case "--initial-advertise-peer-urls":
			m.PeerURL, _, _ = strings.Cut(value, ",")
		case "--listen-client-urls":
			for _, u := range strings.Split(value, ",") {
				if strings.Contains(u, "://127.0.0.1:") && m.ClientURL == "" {
					m.ClientURL = u
				}
			}
		}
	}
	if m.Name == "" || m.PeerURL == "" || m.ClientURL == "" {
		return m, fmt.Errorf("%s: no --name, --initial-advertise-peer-urls or loopback --listen-client-urls (%+v)", path, m)
	}
	return m, nil
}

// MemberInfo is one member of the etcd cluster.
type MemberInfo struct {
	ID       uint64
	Name     string
	PeerURLs []string
}

// Cluster is the part of etcd's Cluster API Sync needs.
type Cluster interface {
	MemberList(ctx context.Context) ([]MemberInfo, error)
	MemberUpdate(ctx context.Context, id uint64, peerURLs []string) error
}

// Sync sets the peer URLs of the member named m.Name to [m.PeerURL] when
// they differ, and reports the URLs it replaced (nil when none).
func Sync(ctx context.Context, cluster Cluster, m Member) ([]string, error) {
	members, err := cluster.MemberList(ctx)
	if err != nil {
		return nil, fmt.Errorf("list etcd members: %w", err)
	}
	for _, mem := range members {
		if mem.Name != m.Name {
			continue
		}
		if slices.Equal(mem.PeerURLs, []string{m.PeerURL}) {
			return nil, nil
		}
		if err := cluster.MemberUpdate(ctx, mem.ID, []string{m.PeerURL}); err != nil {
			return nil, fmt.Errorf("update the peer URLs of etcd member %s: %w", m.Name, err)
		}
		return mem.PeerURLs, nil
	}
	return nil, fmt.Errorf("etcd has no member named %q", m.Name)
}

// HTTPCluster speaks etcd's JSON gateway (/v3/cluster/member/…) on a client
// URL: no gRPC client in kinc-node, which would double its size.
type HTTPCluster struct {
	// Endpoint is the client URL, e.g. https://127.0.0.1:2379.
	Endpoint string
	// Client carries the TLS identity (etcd's healthcheck client).
	Client *http.Client
}

// MemberList implements Cluster.
func (c HTTPCluster) MemberList(ctx context.Context) ([]MemberInfo, error) {
	var out struct {
		Members []struct {
			ID       string   `json:"ID"`
			Name     string   `json:"name"`
			PeerURLs []string `json:"peerURLs"`
		} `json:"members"`
	}
	if err := c.post(ctx, "/v3/cluster/member/list", struct{}{}, &out); err != nil {
		return nil, err
	}
	members := make([]MemberInfo, 0, len(out.Members))
	for _, m := range out.Members {
		id, err := strconv.ParseUint(m.ID, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("member %q: ID %q: %w", m.Name, m.ID, err)
		}
		members = append(members, MemberInfo{ID: id, Name: m.Name, PeerURLs: m.PeerURLs})
	}
	return members, nil
}

// MemberUpdate implements Cluster.
func (c HTTPCluster) MemberUpdate(ctx context.Context, id uint64, peerURLs []string) error {
	req := struct {
		ID       string   `json:"ID"`
		PeerURLs []string `json:"peerURLs"`
	}{strconv.FormatUint(id, 10), peerURLs}
	return c.post(ctx, "/v3/cluster/member/update", req, &struct{}{})
}

func (c HTTPCluster) post(ctx context.Context, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(c.Endpoint, "/")+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	client := c.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	payload, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("POST %s: %s: %s", path, resp.Status, bytes.TrimSpace(payload))
	}
	if err := json.Unmarshal(payload, out); err != nil {
		return fmt.Errorf("POST %s: %w", path, err)
	}
	return nil
}
