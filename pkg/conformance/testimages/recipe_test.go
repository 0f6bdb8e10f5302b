package testimages

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"image/jpeg"
	"net"
	"slices"
	"sort"
	"testing"
	"time"
)

func TestImagesMatchRecipe(t *testing.T) {
	t.Parallel()
	var built []string
	for _, img := range newRecipe().images {
		built = append(built, img.refs...)
	}
	want := Images()
	if len(want) != 12 {
		t.Errorf("%d images, want 12", len(want))
	}
	sort.Strings(built)
	sorted := slices.Clone(want)
	sort.Strings(sorted)
	if !slices.Equal(built, sorted) {
		t.Errorf("the recipe builds %v, Images lists %v", built, want)
	}
	if !slices.Equal(Images(), want) {
		t.Error("Images is not stable")
	}
}

func TestKey(t *testing.T) {
	t.Parallel()
	sums := map[string]string{BinaryAgnhost: "a", BinaryEtcd: "e", BinaryNonewprivs: "n", BinaryPause: "p", BinarySampleAPIServer: "s"}
	k := newRecipe().key(sums)
	if k2 := newRecipe().key(sums); k2 != k {
		t.Error("the key changes between two recipes of the same inputs (the generated TLS pair must not count)")
	}
	changed := map[string]string{}
	for n, s := range sums {
		changed[n] = s
	}
	changed[BinaryPause] = "p2"
	if newRecipe().key(changed) == k {
		t.Error("a changed binary keeps the key")
	}
	r := newRecipe()
	r.images[0].dockerfile += "RUN true\n"
	if r.key(sums) == k {
		t.Error("a changed Dockerfile keeps the key")
	}
}

func TestTLSPair(t *testing.T) {
	t.Parallel()
	p := &tlsPair{}
	crtPEM, err := p.cert()
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err := p.key()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(crtPEM, keyPEM); err != nil {
		t.Fatalf("certificate and key do not match: %v", err)
	}
	block, _ := pem.Decode(crtPEM)
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.NotAfter.Before(time.Date(2080, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("expires %v", cert.NotAfter)
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Errorf("%s: %v", host, err)
		}
	}
	if !cert.IPAddresses[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Errorf("IPs %v", cert.IPAddresses)
	}
}

func TestDemoJPEG(t *testing.T) {
	t.Parallel()
	a, b := demoJPEG(demoColors{1, 2, 3}), demoJPEG(demoColors{1, 2, 3})
	if !bytes.Equal(a, b) {
		t.Error("the picture is not the same every time")
	}
	img, err := jpeg.Decode(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 64 {
		t.Errorf("bounds %v", img.Bounds())
	}
}
