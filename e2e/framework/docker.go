//go:build e2e

package framework

import (
	"context"
	"os"
	"testing"

	"github.com/docker/docker/client"

	"github.com/kinc-dev/kinc/internal/testenv"
	"github.com/kinc-dev/kinc/pkg/version"
)

// DockerClient returns a client of the local engine, closed when tb ends;
// when the engine does not answer, tb is skipped, or fails under CI
// (testenv.Missing).
func DockerClient(tb testing.TB) *client.Client {
	tb.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := cli.Ping(context.Background()); err != nil {
		testenv.Missing(tb, "no Docker engine answers: %v (run hack/ensure-docker.sh, or make e2e)", err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// NodeImage returns the node image to test: $KINC_E2E_NODE_IMAGE, else this
// version's, else kinc/node:latest; without any tb is skipped, or fails
// under CI (make node-image builds one; make e2e and make test do it first).
func NodeImage(tb testing.TB, cli *client.Client) string {
	tb.Helper()
	if img := os.Getenv("KINC_E2E_NODE_IMAGE"); img != "" {
		return img
	}
	for _, img := range []string{version.NodeImage(), version.LatestNodeImage} {
		if _, err := cli.ImageInspect(context.Background(), img); err == nil {
			return img
		}
	}
	testenv.Missing(tb, "neither %s nor %s is present (build one with `make node-image`)", version.NodeImage(), version.LatestNodeImage)
	return ""
}
