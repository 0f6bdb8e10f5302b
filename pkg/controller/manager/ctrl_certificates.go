package manager

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"
	certificatesv1 "k8s.io/api/certificates/v1"
	certificatesv1beta1 "k8s.io/api/certificates/v1beta1"

	"github.com/kinc-dev/kinc/pkg/controller"
	"github.com/kinc-dev/kinc/pkg/controller/certificates"
	"github.com/kinc-dev/kinc/pkg/controller/certificates/approver"
	"github.com/kinc-dev/kinc/pkg/controller/certificates/cleaner"
	"github.com/kinc-dev/kinc/pkg/controller/certificates/signer"
)

// The CSR controllers' worker counts, as upstream (no flags).
const (
	csrSigningWorkers   = certificates.DefaultConcurrentSyncs
	csrApprovingWorkers = certificates.DefaultConcurrentSyncs
	csrCleanerWorkers   = 1
)

// CSRSigningOptions are the certificatesigningrequest-signing-controller's
// flags besides --cluster-signing-cert-file and --cluster-signing-key-file
// (Options.ClusterSigningCertFile/KeyFile): one CA per built-in signer,
// exclusive with those, and the longest lifetime given.
type CSRSigningOptions struct {
	KubeletServingCertFile, KubeletServingKeyFile           string
	KubeletClientCertFile, KubeletClientKeyFile             string
	KubeAPIServerClientCertFile, KubeAPIServerClientKeyFile string
	LegacyUnknownCertFile, LegacyUnknownKeyFile             string
	// ClusterSigningDuration is --cluster-signing-duration (8760h).
	ClusterSigningDuration time.Duration
}

// NewCSRSigningOptions returns upstream's defaults.
func NewCSRSigningOptions() CSRSigningOptions {
	return CSRSigningOptions{ClusterSigningDuration: signer.DefaultDuration}
}

// AddFlags registers upstream's per-signer --cluster-signing-* flags and
// --cluster-signing-duration.
func (o *CSRSigningOptions) AddFlags(fs *pflag.FlagSet) {
	for _, f := range []struct {
		name, signer string
		cert, key    *string
	}{
		{"kubelet-serving", certificatesv1.KubeletServingSignerName, &o.KubeletServingCertFile, &o.KubeletServingKeyFile},
		{"kubelet-client", certificatesv1.KubeAPIServerClientKubeletSignerName, &o.KubeletClientCertFile, &o.KubeletClientKeyFile},
		{"kube-apiserver-client", certificatesv1.KubeAPIServerClientSignerName, &o.KubeAPIServerClientCertFile, &o.KubeAPIServerClientKeyFile},
		{"legacy-unknown", certificatesv1beta1.LegacyUnknownSignerName, &o.LegacyUnknownCertFile, &o.LegacyUnknownKeyFile},
	} {
		fs.StringVar(f.cert, "cluster-signing-"+f.name+"-cert-file", *f.cert, "Filename containing a PEM-encoded X509 CA certificate used to issue certificates for the "+f.signer+" signer.  If specified, --cluster-signing-{cert,key}-file must not be set.")
		fs.StringVar(f.key, "cluster-signing-"+f.name+"-key-file", *f.key, "Filename containing a PEM-encoded RSA or ECDSA private key used to sign certificates for the "+f.signer+" signer.  If specified, --cluster-signing-{cert,key}-file must not be set.")
	}
	fs.DurationVar(&o.ClusterSigningDuration, "cluster-signing-duration", o.ClusterSigningDuration, "The max length of duration signed certificates will be given.  Individual CSRs may request shorter certs by setting spec.expirationSeconds.")
}

// signerFile is one signer's CA files.
type signerFile struct{ signer, cert, key string }

// perSigner returns the per-signer flags' files, in upstream's order,
// with upstream's flag group names.
func (o *CSRSigningOptions) perSigner() []signerFile {
	return []signerFile{
		{certificatesv1.KubeletServingSignerName, o.KubeletServingCertFile, o.KubeletServingKeyFile},
		{certificatesv1.KubeAPIServerClientKubeletSignerName, o.KubeletClientCertFile, o.KubeletClientKeyFile},
		{certificatesv1.KubeAPIServerClientSignerName, o.KubeAPIServerClientCertFile, o.KubeAPIServerClientKeyFile},
		{certificatesv1beta1.LegacyUnknownSignerName, o.LegacyUnknownCertFile, o.LegacyUnknownKeyFile},
	}
}

// anySpecific reports whether a per-signer flag is set.
func (o *CSRSigningOptions) anySpecific() bool {
	for _, f := range o.perSigner() {
		if f.cert != "" || f.key != "" {
			return true
		}
	}
	return false
}

// signerFiles returns the CA files of each signer the controller signs
// for, as upstream chooses them: with any per-signer flag, the signers
// given one (the others are skipped); else every signer with
// --cluster-signing-cert-file/--cluster-signing-key-file when both are
// set; else none.
func (o *Options) signerFiles() []signerFile {
	if o.anySpecific() {
		var out []signerFile
		for _, f := range o.perSigner() {
			if f.cert != "" || f.key != "" {
				out = append(out, f)
			}
		}
		return out
	}
	if o.ClusterSigningCertFile == "" || o.ClusterSigningKeyFile == "" {
		return nil
	}
	var out []signerFile
	for _, name := range signer.Signers() {
		out = append(out, signerFile{name, o.ClusterSigningCertFile, o.ClusterSigningKeyFile})
	}
	return out
}

// validateCSRSigning checks the per-signer flags as upstream (a cert and
// its key together, never with --cluster-signing-{cert,key}-file), that
// each pair holds one CA certificate and its key, and that
// --cluster-signing-duration is positive.
func (o *Options) validateCSRSigning() error {
	var errs []error
	groups := []string{"cluster-signing-kubelet-serving", "cluster-signing-kube-apiserver-client", "cluster-signing-kube-apiserver", "cluster-signing-legacy-unknown"}
	for i, f := range o.perSigner() {
		switch {
		case f.cert == "" && f.key != "":
			errs = append(errs, fmt.Errorf("%q: cannot specify key without cert", groups[i]))
		case f.cert != "" && f.key == "":
			errs = append(errs, fmt.Errorf("%q: cannot specify cert without key", groups[i]))
		case f.cert != "":
			if err := checkCA(f.cert, f.key); err != nil {
				errs = append(errs, fmt.Errorf("%q: %w", groups[i], err))
			}
		}
	}
	if (o.ClusterSigningCertFile != "" || o.ClusterSigningKeyFile != "") && o.anySpecific() {
		errs = append(errs, errors.New("cannot specify --cluster-signing-{cert,key}-file and other --cluster-signing-*-file flags at the same time"))
	}
	if o.ClusterSigningDuration <= 0 {
		errs = append(errs, fmt.Errorf("--cluster-signing-duration %s must be positive", o.ClusterSigningDuration))
	}
	return errors.Join(errs...)
}

// checkCA checks that certFile holds exactly one certificate matching the
// key in keyFile.
func checkCA(certFile, keyFile string) error {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return err
	}
	_, err = signer.ParseCA(certPEM, keyPEM)
	return err
}

// newCSRSigningController is upstream's
// certificatesigningrequest-signing-controller under the service account
// certificate-controller: skipped without signing files, as upstream; the
// CA files are reread when they change.
func newCSRSigningController(_ context.Context, cc Context) (controller.Controller, error) {
	files := cc.Options.signerFiles()
	if len(files) == 0 {
		cc.Logger.Info("Skipping CSR signer controller because no csr cert/key was specified", "controller", "certificatesigningrequest-signing-controller")
		return nil, nil
	}
	cas := map[string]signer.CAProvider{}
	for _, f := range files {
		ca, err := signer.NewFileCA(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("failed to init %s certificate controller: %w", f.signer, err)
		}
		cas[f.signer] = ca
	}
	for _, name := range signer.Signers() {
		if cas[name] == nil {
			cc.Logger.Info("Skipping CSR signer controller because specific files were specified for other signers and not this one", "controller", name)
		}
	}
	client, err := cc.NewClient("certificate-controller")
	if err != nil {
		return nil, err
	}
	return signer.New(client, cc.InformerFactory.Certificates().V1().CertificateSigningRequests(), signer.Options{
		CAs: cas, Duration: cc.Options.ClusterSigningDuration, Logger: cc.Logger, Clock: cc.Clock})
}

// newCSRApprovingController is upstream's
// certificatesigningrequest-approving-controller under the service account
// certificate-controller.
func newCSRApprovingController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("certificate-controller")
	if err != nil {
		return nil, err
	}
	return approver.New(client, cc.InformerFactory.Certificates().V1().CertificateSigningRequests(),
		approver.Options{Logger: cc.Logger, Clock: cc.Clock}), nil
}

// newCSRCleanerController is upstream's
// certificatesigningrequest-cleaner-controller under the service account
// certificate-controller.
func newCSRCleanerController(_ context.Context, cc Context) (controller.Controller, error) {
	client, err := cc.NewClient("certificate-controller")
	if err != nil {
		return nil, err
	}
	return cleaner.New(client, cc.InformerFactory.Certificates().V1().CertificateSigningRequests(),
		cleaner.Options{Logger: cc.Logger, Clock: cc.Clock}), nil
}
