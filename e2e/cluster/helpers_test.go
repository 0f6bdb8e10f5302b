//go:build e2e

package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/pkg/cluster"
	"github.com/kinc-dev/kinc/pkg/cluster/constants"
)

// fakeNodeImage is a one-binary stand-in for the node image: PID 1 waits
// for a stop signal, and as `systemctl` (a link to it) it reports a booted
// system, as `cat` it prints files. It lets the provider's create, list,
// exec, copy and delete paths run without the real node image.
const fakeNodeImage = "kinc-e2e-fakenode:latest"

const fakeNodeMain = `package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

func main() {
	switch filepath.Base(os.Args[0]) {
	case "systemctl":
		fmt.Println("running")
		return
	case "cat":
		for _, f := range os.Args[1:] {
			data, err := os.ReadFile(f)
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Stdout.Write(data)
		}
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGTERM, syscall.SIGINT, syscall.Signal(34+3))
	<-c
}
`

// buildFakeNodeImage builds and imports fakeNodeImage (docker import).
func buildFakeNodeImage(t *testing.T, cli *client.Client) {
	t.Helper()
	dir := t.TempDir()
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("main.go", fakeNodeMain)
	write("go.mod", "module fakenode\n\ngo 1.21\n")
	build := exec.Command("go", "build", "-o", "init", ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build fake node: %v\n%s", err, out)
	}
	bin, err := os.ReadFile(filepath.Join(dir, "init"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range []string{"var/", "run/", "tmp/", "proc/", "sys/", "dev/", "etc/", "bin/", "usr/", "usr/bin/", "lib/", "lib/modules/"} {
		must(t, tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755}))
	}
	must(t, tw.WriteHeader(&tar.Header{Name: "init", Mode: 0o755, Size: int64(len(bin))}))
	_, err = tw.Write(bin)
	must(t, err)
	for _, link := range []string{"usr/bin/systemctl", "bin/cat"} {
		must(t, tw.WriteHeader(&tar.Header{Name: link, Typeflag: tar.TypeSymlink, Linkname: "/init"}))
	}
	must(t, tw.Close())
	rc, err := cli.ImageImport(context.Background(), image.ImportSource{Source: &buf, SourceName: "-"}, fakeNodeImage,
		image.ImportOptions{Changes: []string{`CMD ["/init"]`}})
	if err != nil {
		t.Fatalf("docker import: %v", err)
	}
	_, _ = io.Copy(io.Discard, rc)
	rc.Close()
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// containers returns the containers labelled as nodes of cluster name.
func containers(t testing.TB, cli *client.Client, name string) []container.Summary {
	t.Helper()
	list, err := cli.ContainerList(context.Background(), container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", constants.ClusterLabelKey+"="+name))})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// newProvider returns a library provider whose kubeconfig is a file of the
// test.
func newProvider(t testing.TB, kubeconfigPath string) *cluster.Provider {
	t.Helper()
	getenv := func(k string) string {
		if k == "KUBECONFIG" {
			return kubeconfigPath
		}
		return os.Getenv(k)
	}
	p, err := cluster.NewProvider(cluster.ProviderWithEnv(getenv, os.UserHomeDir))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// cleanupCluster deletes what a killed earlier run may have left, now and
// when the test ends.
func cleanupCluster(t testing.TB, cli *client.Client, name string) {
	t.Helper()
	clean := func() {
		for _, c := range containers(t, cli, name) {
			_ = cli.ContainerRemove(context.Background(), c.ID, container.RemoveOptions{Force: true, RemoveVolumes: true})
		}
	}
	clean()
	t.Cleanup(clean)
}
