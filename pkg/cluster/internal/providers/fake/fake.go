// Package fake is an in-memory providers.Provider and nodes.Node for tests:
// nodes record the commands run in them and the files copied into them, and
// answer commands through a handler.
package fake

import (
	"archive/tar"
	"bytes"
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"

	"github.com/kinc-dev/kinc/pkg/cluster/config"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers"
	"github.com/kinc-dev/kinc/pkg/cluster/internal/providers/common"
	"github.com/kinc-dev/kinc/pkg/cluster/nodes"
	"github.com/kinc-dev/kinc/pkg/exec"
)

// Handler answers a command run in a node: what it prints and its error.
type Handler func(node string, argv []string, stdin []byte) (stdout string, err error)

// Provider is an in-memory providers.Provider. Zero values of its exported
// fields are fine; it is safe for concurrent use.
type Provider struct {
	// Images are the local images by reference (value: ID).
	Images map[string]string
	// Handler answers commands; nil: every command succeeds silently.
	Handler Handler
	// Endpoint is what APIServerEndpoint returns.
	Endpoint string
	// InfoErr and ProvisionErr make Info and Provision fail.
	InfoErr, ProvisionErr error

	mu       sync.Mutex // guards the fields below
	clusters map[string][]*Node
	calls    []string
}

var _ providers.Provider = &Provider{}

// Calls returns the provider methods called so far, in order.
func (p *Provider) Calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.calls...)
}

func (p *Provider) record(call string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, call)
}

// AddNode adds a node container to cluster.
func (p *Provider) AddNode(cluster, name, role string) *Node {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.clusters == nil {
		p.clusters = map[string][]*Node{}
	}
	n := &Node{name: name, role: role, handler: p.handle, Files: map[string][]byte{}}
	p.clusters[cluster] = append(p.clusters[cluster], n)
	return n
}

func (p *Provider) handle(node string, argv []string, stdin []byte) (string, error) {
	if p.Handler == nil {
		return "", nil
	}
	return p.Handler(node, argv, stdin)
}

// Info implements providers.Provider.
func (p *Provider) Info(context.Context) (*providers.Info, error) {
	p.record("Info")
	if p.InfoErr != nil {
		return nil, p.InfoErr
	}
	return &providers.Info{Name: "fake"}, nil
}

// ImageID implements providers.Provider.
func (p *Provider) ImageID(_ context.Context, ref string) (string, error) {
	p.record("ImageID " + ref)
	if id, ok := p.Images[ref]; ok {
		return id, nil
	}
	return "", fmt.Errorf("image %q: %w", ref, providers.ErrImageNotFound)
}

// SaveImages implements providers.Provider: the archive is the refs' names.
func (p *Provider) SaveImages(_ context.Context, refs []string) (io.ReadCloser, error) {
	p.record("SaveImages " + strings.Join(refs, ","))
	return io.NopCloser(strings.NewReader("archive:" + strings.Join(refs, ","))), nil
}

// Provision implements providers.Provider.
func (p *Provider) Provision(_ context.Context, cfg *config.Cluster) ([]nodes.Node, error) {
	p.record("Provision " + cfg.Name)
	if p.ProvisionErr != nil {
		return nil, p.ProvisionErr
	}
	var out []nodes.Node
	for i, name := range common.NodeNames(cfg) {
		out = append(out, p.AddNode(cfg.Name, name, string(cfg.Nodes[i].Role)))
	}
	return out, nil
}

// ListClusters implements providers.Provider.
func (p *Provider) ListClusters(context.Context) ([]string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := []string{}
	for c, list := range p.clusters {
		if len(list) > 0 {
			names = append(names, c)
		}
	}
	sort.Strings(names)
	return names, nil
}

// ListNodes implements providers.Provider.
func (p *Provider) ListNodes(_ context.Context, cluster string) ([]nodes.Node, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []nodes.Node
	for _, n := range p.clusters[cluster] {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// DeleteNodes implements providers.Provider.
func (p *Provider) DeleteNodes(_ context.Context, list []nodes.Node) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls = append(p.calls, fmt.Sprintf("DeleteNodes %d", len(list)))
	gone := map[string]bool{}
	for _, n := range list {
		gone[n.String()] = true
	}
	for c, ns := range p.clusters {
		var keep []*Node
		for _, n := range ns {
			if !gone[n.name] {
				keep = append(keep, n)
			}
		}
		p.clusters[c] = keep
	}
	return nil
}

// APIServerEndpoint implements providers.Provider.
func (p *Provider) APIServerEndpoint(context.Context, string) (string, error) {
	return p.Endpoint, nil
}

// CollectLogs implements providers.Provider.
func (p *Provider) CollectLogs(_ context.Context, dir string, list []nodes.Node) error {
	p.record(fmt.Sprintf("CollectLogs %s %d", dir, len(list)))
	return nil
}

// Node is an in-memory node.
type Node struct {
	name, role string
	handler    Handler
	// IPAddress is what IP returns (default 10.0.0.2).
	IPAddress string

	mu sync.Mutex // guards Files and Commands
	// Files copied in, by absolute path.
	Files map[string][]byte
	// Commands run, as space-joined argv.
	Commands []string
}

var _ nodes.Node = &Node{}

func (n *Node) String() string { return n.name }

// Role implements nodes.Node.
func (n *Node) Role() string { return n.role }

// IP implements nodes.Node.
func (n *Node) IP(context.Context) (string, error) {
	if n.IPAddress == "" {
		return "10.0.0.2", nil
	}
	return n.IPAddress, nil
}

// SerialLogs implements nodes.Node.
func (n *Node) SerialLogs(_ context.Context, w io.Writer) error {
	_, err := io.WriteString(w, "booted\n")
	return err
}

// File returns a copied-in file.
func (n *Node) File(path string) ([]byte, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	d, ok := n.Files[path]
	return d, ok
}

// Cmds returns the commands run so far.
func (n *Node) Cmds() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.Commands...)
}

// CopyInto implements nodes.Node: regular files of the tar land in Files.
func (n *Node) CopyInto(_ context.Context, dir string, r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if hdr.Typeflag != tar.TypeReg {
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return err
		}
		n.mu.Lock()
		n.Files[strings.TrimSuffix(dir, "/")+"/"+hdr.Name] = data
		n.mu.Unlock()
	}
}

// CommandContext implements exec.Cmder.
func (n *Node) CommandContext(_ context.Context, name string, args ...string) exec.Cmd {
	return &cmd{node: n, argv: append([]string{name}, args...)}
}

type cmd struct {
	node   *Node
	argv   []string
	stdin  io.Reader
	stdout io.Writer
}

func (c *cmd) SetEnv(...string) exec.Cmd      { return c }
func (c *cmd) SetStdin(r io.Reader) exec.Cmd  { c.stdin = r; return c }
func (c *cmd) SetStdout(w io.Writer) exec.Cmd { c.stdout = w; return c }
func (c *cmd) SetStderr(io.Writer) exec.Cmd   { return c }

func (c *cmd) Run() error {
	var in []byte
	if c.stdin != nil {
		var b bytes.Buffer
		if _, err := io.Copy(&b, c.stdin); err != nil {
			return err
		}
		in = b.Bytes()
	}
	c.node.mu.Lock()
	c.node.Commands = append(c.node.Commands, strings.Join(c.argv, " "))
	c.node.mu.Unlock()
	out, err := c.node.handler(c.node.name, c.argv, in)
	if c.stdout != nil {
		_, _ = io.WriteString(c.stdout, out)
	}
	if err != nil {
		return &exec.RunError{Command: c.argv, Output: []byte(out), Inner: err}
	}
	return nil
}
