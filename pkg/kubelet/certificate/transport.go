package certificate

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/connrotation"
)

// Transport makes cfg present current()'s certificate on every TLS
// handshake (nil: none) instead of its own, as upstream's kubelet
// transport: cfg gets a transport of its own (its TLS file and data
// fields are cleared). The returned function closes every connection the
// transport opened, so the next requests handshake with the new
// certificate; call it after a rotation.
func Transport(cfg *rest.Config, current func() *tls.Certificate) (closeAll func(), err error) {
	tlsCfg, err := rest.TLSConfigFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("unable to configure TLS for the rest client: %w", err)
	}
	if tlsCfg == nil {
		tlsCfg = &tls.Config{}
	}
	tlsCfg.Certificates = nil
	tlsCfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		if c := current(); c != nil {
			return c, nil
		}
		return &tls.Certificate{}, nil
	}
	d := connrotation.NewDialer((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext)
	cfg.Transport = utilnet.SetTransportDefaults(&http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     tlsCfg,
		MaxIdleConnsPerHost: 25,
		DialContext:         d.DialContext,
	})
	cfg.TLSClientConfig = rest.TLSClientConfig{}
	return d.CloseAll, nil
}
