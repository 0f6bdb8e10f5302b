package nodeimage

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/kinc-dev/kinc/pkg/exec"
	"github.com/kinc-dev/kinc/pkg/version"
)

// Labels of the node image.
const (
	LabelDigest  = "io.kinc.node-image.digest" // digest of every input (Result.Digest)
	LabelRecipe  = "io.kinc.node-image.recipe" // hash of the rootfs recipe
	LabelVersion = "io.kinc.version"           // kinc version that built it
)

// stopSignal is how systemd, the node's PID 1, is asked to shut down.
const stopSignal = "SIGRTMIN+3"

// importChanges are the Dockerfile instructions `docker import` applies: the
// node runs systemd as PID 1 with container=docker, and stops on SIGRTMIN+3
// like kind's nodes. Engines before API 1.42 (Docker 23) reject STOPSIGNAL
// there; withStopSignal false leaves it to setStopSignal.
func importChanges(digest, recipeHash string, withStopSignal bool) []string {
	changes := []string{
		`ENTRYPOINT ["/usr/local/bin/kinc-entrypoint", "/sbin/init"]`,
		"ENV container=docker",
		fmt.Sprintf("LABEL %s=%s %s=%s %s=%s", LabelDigest, digest, LabelRecipe, recipeHash,
			LabelVersion, strconv.Quote(version.Version())),
	}
	if withStopSignal {
		changes = append(changes, "STOPSIGNAL "+stopSignal)
	}
	return changes
}

// checkDocker makes sure an engine answers and returns its API version.
func (b *builder) checkDocker(ctx context.Context) (apiVersion, error) {
	if _, err := b.lookPath("docker"); err != nil {
		return apiVersion{}, fmt.Errorf("docker not found: install Docker (on Debian as root: apt-get install -y docker.io, or run hack/ensure-docker.sh)")
	}
	lines, err := exec.OutputLines(b.cmder.CommandContext(ctx, "docker", "version", "--format", "{{.Server.APIVersion}}"))
	if err != nil {
		return apiVersion{}, fmt.Errorf("the Docker engine does not answer (start it, e.g. hack/ensure-docker.sh or 'systemctl start docker'): %w", err)
	}
	return parseAPIVersion(strings.Join(lines, ""))
}

// apiVersion is a Docker engine API version, e.g. 1.41.
type apiVersion struct{ major, minor int }

func (v apiVersion) atLeast(major, minor int) bool {
	return v.major > major || v.major == major && v.minor >= minor
}

func parseAPIVersion(s string) (apiVersion, error) {
	var v apiVersion
	if _, err := fmt.Sscanf(strings.TrimSpace(s), "%d.%d", &v.major, &v.minor); err != nil {
		return v, fmt.Errorf("unexpected Docker API version %q: %w", s, err)
	}
	return v, nil
}

// setStopSignal derives from image id one with STOPSIGNAL set, for engines
// whose import cannot set it: a metadata-only Dockerfile step on the classic
// builder, which those engines all have. It returns the new image's ID.
func (b *builder) setStopSignal(ctx context.Context, id string) (string, error) {
	dockerfile := fmt.Sprintf("FROM %s\nSTOPSIGNAL %s\n", id, stopSignal)
	lines, err := exec.OutputLines(b.cmder.CommandContext(ctx, "docker", "build", "--quiet", "-").
		SetEnv("DOCKER_BUILDKIT=0").SetStdin(strings.NewReader(dockerfile)))
	if err != nil {
		return "", fmt.Errorf("set the stop signal of the node image: %w", err)
	}
	if len(lines) == 0 {
		return "", fmt.Errorf("set the stop signal of the node image: docker build printed no image ID")
	}
	return strings.TrimSpace(lines[len(lines)-1]), nil
}

// inspect returns the Go-template field of an image, or an error when there
// is no such image.
func (b *builder) inspect(ctx context.Context, ref, format string) (string, error) {
	lines, err := exec.OutputLines(b.cmder.CommandContext(ctx, "docker", "image", "inspect", "--format", format, ref))
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(strings.Join(lines, "\n")), nil
}

// imageCurrent tells whether b.image exists and was built from inputs with
// this digest, and returns its ID.
func (b *builder) imageCurrent(ctx context.Context, digest string) (string, bool) {
	out, err := b.inspect(ctx, b.image, `{{.Id}} {{index .Config.Labels "`+LabelDigest+`"}}`)
	if err != nil {
		return "", false
	}
	id, got, _ := strings.Cut(out, " ")
	return id, got == digest
}

func (b *builder) imageSize(ctx context.Context) (int64, error) {
	out, err := b.inspect(ctx, b.image, "{{.Size}}")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(out, 10, 64)
}

// tag names image id b.image and each extra tag.
func (b *builder) tag(ctx context.Context, id string) error {
	for _, ref := range append([]string{b.image}, b.extraTags...) {
		if err := b.cmder.CommandContext(ctx, "docker", "tag", id, ref).Run(); err != nil {
			return fmt.Errorf("tag %s as %s: %w", id, ref, err)
		}
	}
	return nil
}

// dockerImport streams a root filesystem tarball, written by write, into
// `docker import` and returns the new image's ID. The image gets no name
// here: only a complete build is named, so a failed one never leaves a
// truncated image under a name that later looks current.
func (b *builder) dockerImport(ctx context.Context, changes []string, write func(io.Writer) error) (string, error) {
	args := []string{"import", "--message", "kinc build node-image"}
	for _, c := range changes {
		args = append(args, "--change", c)
	}
	args = append(args, "-")

	pr, pw := io.Pipe()
	writeErr := make(chan error, 1)
	go func() {
		err := write(pw)
		pw.CloseWithError(err)
		writeErr <- err
	}()
	var out strings.Builder
	runErr := b.cmder.CommandContext(ctx, "docker", args...).SetStdin(pr).SetStdout(&out).Run()
	// Unblock the writer if docker stopped reading early.
	pr.CloseWithError(io.ErrClosedPipe)
	werr := <-writeErr
	if runErr != nil {
		return "", fmt.Errorf("docker import of %s: %w", b.image, runErr)
	}
	id := strings.TrimSpace(out.String())
	if werr != nil {
		if id != "" {
			_ = b.cmder.CommandContext(ctx, "docker", "image", "rm", id).Run()
		}
		return "", fmt.Errorf("write the node image's filesystem: %w", werr)
	}
	return id, nil
}
