package testimages

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// inputs writes stand-in binaries and returns Options for them.
func inputs(t *testing.T, h *fakeHost, logger *recordingLogger) Options {
	t.Helper()
	dir := t.TempDir()
	bins := map[string]string{}
	for _, n := range BinaryNames() {
		p := filepath.Join(dir, n)
		if err := os.WriteFile(p, []byte("binary "+n), 0o600); err != nil {
			t.Fatal(err)
		}
		bins[n] = p
	}
	clock := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	return Options{
		Cmder: h, Logger: logger, CacheDir: filepath.Join(dir, "cache"), Binaries: bins,
		Now: func() time.Time { clock = clock.Add(time.Second); return clock },
	}
}

func newTestBuilder(t *testing.T, opts Options) *builder {
	t.Helper()
	b, err := newBuilder(opts)
	if err != nil {
		t.Fatal(err)
	}
	b.geteuid = func() int { return 0 }
	b.check = func(string, string) error { return nil }
	b.mounts = func() ([]string, error) { return nil, nil }
	return b
}

func TestBuildFromNothing(t *testing.T) {
	t.Parallel()
	h, logger := newFakeHost(), &recordingLogger{}
	opts := inputs(t, h, logger)
	res, err := newTestBuilder(t, opts).build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Images, Images()) {
		t.Errorf("images %v, want %v", res.Images, Images())
	}
	if filepath.Dir(res.Archive) != opts.CacheDir || !strings.HasPrefix(filepath.Base(res.Archive), "test-images-") {
		t.Errorf("archive %s not in the cache directory %s", res.Archive, opts.CacheDir)
	}
	if _, err := os.Stat(res.Archive); err != nil {
		t.Errorf("no archive: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(opts.CacheDir, "*")); len(left) != 1 {
		t.Errorf("cache directory holds %v, want the archive alone (no work directory, no .tmp)", left)
	}
	for _, want := range []string{"debootstrap --variant=minbase --include=bind9-dnsutils,", "tar --numeric-owner", "docker import --change ENV PATH="} {
		if h.count(want) != 1 {
			t.Errorf("want one %q, ran:\n%s", want, strings.Join(h.commands(), "\n"))
		}
	}
	if n := h.count("DOCKER_BUILDKIT=0 docker build"); n != 11 {
		t.Errorf("%d docker builds (classic builder), want 11", n)
	}
	if h.count("docker save -o "+res.Archive+".tmp "+strings.Join(Images(), " ")) != 1 {
		t.Errorf("no docker save of every image into the archive, ran:\n%s", strings.Join(h.commands(), "\n"))
	}
	if n := h.count("docker image rm"); n != 0 {
		t.Errorf("%d images removed after a first build", n)
	}
	// Images are built after those they start FROM.
	order := map[string]int{}
	for i, c := range h.commands() {
		if strings.Contains(c, "docker build") {
			order[strings.Fields(c)[5]] = i
		}
	}
	if order[refNautilus] < order[refAgnhost] || order[refKitten] < order[refAgnhost] {
		t.Errorf("demo images built before agnhost: %v", order)
	}
	if !strings.Contains(logger.text(), "this takes a few minutes") {
		t.Errorf("no progress lines:\n%s", logger.text())
	}
}

func TestDockerfiles(t *testing.T) {
	t.Parallel()
	h := newFakeHost()
	if _, err := newTestBuilder(t, inputs(t, h, &recordingLogger{})).build(context.Background()); err != nil {
		t.Fatal(err)
	}
	base := newRecipe().baseRef
	for _, tc := range []struct {
		ref      string
		contains []string
		files    []string
	}{
		{refAgnhost, []string{"FROM " + base + "\n", `ENTRYPOINT ["/agnhost"]`, `CMD ["pause"]`, "mkdir /uploads",
			"ln -s agnhost /agnhost-2", "useradd -u 1000", "groupadd -g 50000 group-defined-in-image", "WORKDIR /"},
			[]string{"agnhost 755", "localhost.crt 644", "localhost.key 644"}},
		{refBusybox, []string{"FROM scratch\n", "COPY --from=debian /bin/busybox /bin/busybox", "--install -s /bin", `CMD ["sh"]`}, []string{"passwd 644", "group 644"}},
		{refPause, []string{"FROM scratch\n", `ENTRYPOINT ["/pause"]`}, []string{"pause 755"}},
		{refNginx, []string{`CMD ["nginx", "-g", "daemon off;"]`, "/usr/share/nginx/html/", "EXPOSE 80"}, []string{"nginx.conf 644", "index.html 644"}},
		{refNautilus, []string{"FROM " + refAgnhost + "\n", "COPY nautilus.jpg data.json /", `CMD ["test-webserver"]`}, []string{"nautilus.jpg 644", "data.json 644"}},
		{refKitten, []string{"COPY kitten.jpg data.json /"}, []string{"kitten.jpg 644"}},
		{refNonewprivs, []string{"COPY nnp /usr/local/bin/nnp", "chmod 4755 /usr/local/bin/nnp", `CMD ["nnp"]`}, []string{"nnp 755"}},
		{refNonroot, []string{"USER 1234"}, nil},
		{refSampleAPIServer, []string{`ENTRYPOINT ["/sample-apiserver"]`}, []string{"sample-apiserver 755"}},
		{refEtcd, []string{"COPY etcd /usr/local/bin/etcd"}, []string{"etcd 755"}},
		{refGlibcDNSTesting, []string{"FROM " + base}, nil},
	} {
		df, ok := h.dockerfiles[tc.ref]
		if !ok {
			t.Errorf("%s: not built", tc.ref)
			continue
		}
		for _, s := range tc.contains {
			if !strings.Contains(df, s) {
				t.Errorf("%s: Dockerfile lacks %q:\n%s", tc.ref, s, df)
			}
		}
		for _, f := range tc.files {
			if !slices.Contains(h.contexts[tc.ref], f) {
				t.Errorf("%s: context lacks %q: %v", tc.ref, f, h.contexts[tc.ref])
			}
		}
	}
}

func TestBuildCachedAndRebuilt(t *testing.T) {
	t.Parallel()
	h, logger := newFakeHost(), &recordingLogger{}
	opts := inputs(t, h, logger)
	first, err := newTestBuilder(t, opts).build(context.Background())
	if err != nil {
		t.Fatal(err)
	}

	// The same inputs: the cached archive, no command at all.
	again := newFakeHost()
	opts.Cmder = again
	second, err := newTestBuilder(t, opts).build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.Archive != first.Archive {
		t.Errorf("archive %s, want the cached %s", second.Archive, first.Archive)
	}
	if cmds := again.commands(); len(cmds) != 0 {
		t.Errorf("commands ran for cached inputs: %v", cmds)
	}
	if !strings.Contains(logger.text(), "Using cached test images") {
		t.Errorf("log does not say the archive is cached:\n%s", logger.text())
	}

	// A changed binary: a new archive, built on the base already in Docker;
	// the old archive is removed.
	if err := os.WriteFile(opts.Binaries[BinaryAgnhost], []byte("agnhost, rebuilt"), 0o755); err != nil {
		t.Fatal(err)
	}
	rebuild := newFakeHost()
	rebuild.baseExists = true
	rebuild.ids, rebuild.builds = maps.Clone(h.ids), h.builds // the images of the first build
	opts.Cmder = rebuild
	third, err := newTestBuilder(t, opts).build(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if third.Archive == first.Archive {
		t.Error("a changed binary kept the archive name")
	}
	if rebuild.count("debootstrap") != 0 || rebuild.count("DOCKER_BUILDKIT=0 docker build") != 11 {
		t.Errorf("rebuild ran:\n%s", strings.Join(rebuild.commands(), "\n"))
	}
	// The images the references named before are removed, each once,
	// children (kitten) before parents (agnhost).
	rms := []string{}
	for _, c := range rebuild.commands() {
		if strings.HasPrefix(c, "docker image rm ") {
			rms = append(rms, strings.TrimPrefix(c, "docker image rm "))
		}
	}
	kitten, agnhost := slices.Index(rms, h.ids[refKitten]), slices.Index(rms, h.ids[refAgnhost])
	if len(rms) != 11 || kitten < 0 || agnhost < kitten {
		t.Errorf("removed %v; the first build's images were %v", rms, h.ids)
	}
	if _, err := os.Stat(first.Archive); !os.IsNotExist(err) {
		t.Errorf("the old archive is still there (%v)", err)
	}
}

func TestBuildErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		edit  func(o *Options, h *fakeHost)
		want  string
		noRun bool
	}{
		{"no cache dir", func(o *Options, _ *fakeHost) { o.CacheDir = "" }, "Options.CacheDir", true},
		{"missing binary", func(o *Options, _ *fakeHost) { delete(o.Binaries, BinaryEtcd) }, "no path given for binaries etcd", true},
		{"unknown binary", func(o *Options, _ *fakeHost) { o.Binaries["kubelet"] = "/x" }, "unknown binaries kubelet", true},
		{"binary not built", func(o *Options, _ *fakeHost) { o.Binaries[BinaryPause] = "/nonexistent/pause" }, "the pause binary", true},
		{"no docker", func(_ *Options, h *fakeHost) { h.missing["docker"] = true }, "hack/ensure-docker.sh", false},
		{"docker down", func(_ *Options, h *fakeHost) { h.fail["docker version"] = true }, "does not answer", false},
		{"no debootstrap", func(_ *Options, h *fakeHost) { h.missing["debootstrap"] = true }, "apt-get install -y debootstrap", false},
		{"debootstrap fails", func(_ *Options, h *fakeHost) { h.fail["debootstrap"] = true }, "debootstrap failed", false},
		{"build fails", func(_ *Options, h *fakeHost) { h.fail["docker build"] = true }, "docker build of " + refAgnhost, false},
		{"save fails", func(_ *Options, h *fakeHost) { h.fail["docker save"] = true }, "docker save", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newFakeHost()
			opts := inputs(t, h, &recordingLogger{})
			tc.edit(&opts, h)
			var err error
			if b, nerr := newBuilder(opts); nerr != nil {
				err = nerr
			} else {
				b.geteuid = func() int { return 0 }
				b.check = func(string, string) error { return nil }
				_, err = b.build(context.Background())
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
			if tc.noRun && len(h.commands()) > 0 {
				t.Errorf("commands ran: %v", h.commands())
			}
			if left, _ := filepath.Glob(filepath.Join(opts.CacheDir, "*")); opts.CacheDir != "" && len(left) != 0 {
				t.Errorf("left behind: %v", left)
			}
		})
	}
}

func TestNotRoot(t *testing.T) {
	t.Parallel()
	h := newFakeHost()
	b := newTestBuilder(t, inputs(t, h, &recordingLogger{}))
	b.geteuid = func() int { return 1000 }
	if _, err := b.build(context.Background()); err == nil || !strings.Contains(err.Error(), "needs root") {
		t.Fatalf("error %v, want one saying debootstrap needs root", err)
	}
}

func TestCheckBinary(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux executables")
	}
	self, err := os.Executable() // an ELF for this machine
	if err != nil {
		t.Fatal(err)
	}
	if err := checkBinary(BinaryAgnhost, self); err != nil {
		t.Errorf("this test binary: %v", err)
	}
	text := filepath.Join(t.TempDir(), "agnhost")
	if err := os.WriteFile(text, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := checkBinary(BinaryAgnhost, text); err == nil || !strings.Contains(err.Error(), "not a Linux executable") {
		t.Errorf("a script: %v", err)
	}
	if err := checkBinary(BinaryPause, "/bin/sh"); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("a dynamic pause: %v", err)
	}
}
