package manager

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
)

// TestCSRSigningFlags: --cluster-signing-duration defaults to a year; the
// general pair serves every signer, per-signer flags only theirs; the
// pairs are checked as upstream.
func TestCSRSigningFlags(t *testing.T) {
	f := writeFiles(t)
	if o := NewOptions(); o.ClusterSigningDuration != 8760*time.Hour || len(o.signerFiles()) != 0 {
		t.Errorf("defaults: duration %s, signers %v", o.ClusterSigningDuration, o.signerFiles())
	}
	o := parse(t, f.kubeadmArgs()...)
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := o.signerFiles(); len(got) != 4 || got[0].cert != f.caCrt || got[3].key != f.caKey {
		t.Errorf("kubeadm flags: %v", got)
	}
	o = parse(t, "--cluster-signing-kubelet-serving-cert-file="+f.caCrt, "--cluster-signing-kubelet-serving-key-file="+f.caKey, "--cluster-signing-duration=1h")
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	if got := o.signerFiles(); len(got) != 1 || got[0].signer != certificatesv1.KubeletServingSignerName || o.ClusterSigningDuration != time.Hour {
		t.Errorf("per-signer flags: %v, %s", got, o.ClusterSigningDuration)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster-signing-kubelet-client-key-file=" + f.caKey}, `"cluster-signing-kube-apiserver-client": cannot specify key without cert`},
		{[]string{"--cluster-signing-legacy-unknown-cert-file=" + f.caCrt}, `"cluster-signing-legacy-unknown": cannot specify cert without key`},
		{[]string{"--cluster-signing-kube-apiserver-client-cert-file=" + f.otherCrt, "--cluster-signing-kube-apiserver-client-key-file=" + f.caKey},
			`"cluster-signing-kube-apiserver": certificate "other" does not match its private key`},
		{append(f.kubeadmArgs(), "--cluster-signing-kubelet-serving-cert-file="+f.caCrt, "--cluster-signing-kubelet-serving-key-file="+f.caKey),
			"cannot specify --cluster-signing-{cert,key}-file and other --cluster-signing-*-file flags at the same time"},
		{[]string{"--cluster-signing-duration=0s"}, "--cluster-signing-duration 0s must be positive"},
	} {
		err := parse(t, tc.args...).Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v; want an error containing %q", tc.args, err, tc.want)
		}
	}
}

// TestCSRSigningSkippedWithoutFiles: no signing files, no signer (as
// upstream); the three CSR controllers have constructors.
func TestCSRSigningSkippedWithoutFiles(t *testing.T) {
	cc := Context{Options: NewOptions(), Logger: slog.New(slog.DiscardHandler)}
	c, err := newCSRSigningController(context.Background(), cc)
	if c != nil || err != nil {
		t.Errorf("without files: %v, %v", c, err)
	}
	for _, d := range Known() {
		if strings.HasPrefix(d.Name, "certificatesigningrequest-") && d.New == nil {
			t.Errorf("%s has no constructor", d.Name)
		}
	}
}
