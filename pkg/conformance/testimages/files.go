package testimages

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"math/big"
	"net"
	"sync"
	"time"
)

// tlsDescription stands for porter's TLS pair in the cache key: it is new
// on every build, but made the same way.
const tlsDescription = "self-signed ECDSA P-256 for localhost, 127.0.0.1 and ::1, 2020-01-01 to 2084-01-01"

// tlsPair makes porter's localhost.crt and localhost.key once, on first use,
// so both files of one build belong together.
type tlsPair struct {
	once      sync.Once
	crt, pkey []byte
	err       error
}

func (p *tlsPair) make() { p.crt, p.pkey, p.err = selfSignedLocalhost() }

func (p *tlsPair) cert() ([]byte, error) { p.once.Do(p.make); return p.crt, p.err }
func (p *tlsPair) key() ([]byte, error)  { p.once.Do(p.make); return p.pkey, p.err }

// selfSignedLocalhost returns a PEM certificate and PKCS#8 key as upstream's
// porter files: a server certificate for localhost, 127.0.0.1 and ::1,
// valid until 2084. Its validity starts in 2020 so that clock skew between
// machines never matters.
func selfSignedLocalhost() (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{Organization: []string{"Acme Co"}, CommonName: "localhost"},
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2084, 1, 1, 0, 0, 0, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("create the certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
	return certPEM, keyPEM, nil
}

// demoColors is the colour of a demo picture.
type demoColors struct{ r, g, b uint8 }

// demoImage is nautilus or kitten: agnhost's test-webserver serving
// /<name>.jpg and /data.json, which names the picture (kubectl's Update Demo
// spec reads it through the pod proxy; the ImageVolume spec reads
// data.json from the mounted image).
func demoImage(name, ref string, c demoColors) spec {
	return spec{
		name:       name,
		refs:       []string{ref},
		dockerfile: fmt.Sprintf(demoDockerfile, name),
		files: []file{
			{name: name + ".jpg", mode: 0o644, data: demoJPEG(c)},
			{name: "data.json", mode: 0o644, data: []byte(fmt.Sprintf("{\n  \"image\": \"%s.jpg\"\n}\n", name))},
		},
	}
}

// demoJPEG draws a small gradient picture (the same bytes every time).
func demoJPEG(c demoColors) []byte {
	const size = 64
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.Set(x, y, color.RGBA{
				R: uint8(int(c.r) * (size + x) / (2 * size)),
				G: uint8(int(c.g) * (size + y) / (2 * size)),
				B: c.b,
				A: 0xff,
			})
		}
	}
	var buf bytes.Buffer
	// Encoding an in-memory RGBA picture into a buffer cannot fail.
	_ = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 80})
	return buf.Bytes()
}
