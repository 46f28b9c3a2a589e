package aeat

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"pulso/app/verifactu/aeattest"
	"pulso/views/i18n"

	"software.sslmate.com/src/go-pkcs12"
)

func TestLoadCertificate(t *testing.T) {
	ca := aeattest.NewCA(t, "Test FNMT")
	now := time.Now()
	for _, c := range []struct {
		name string
		opt  aeattest.Client
	}{
		{"modern P-256", aeattest.Client{}},
		{"legacy RC2 RSA, as FNMT exports", aeattest.Client{RSA: true, Legacy: true, Name: "GARCIA LOPEZ ANA - 12345678Z", NIF: "12345678Z"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p12 := ca.ClientPKCS12(t, c.opt, "contraseña ñ 1")
			cert, err := LoadCertificate(p12, "contraseña ñ 1", now)
			if err != nil {
				t.Fatal(err)
			}
			want := c.opt.Name
			if want == "" {
				want = "DEMO VENTAS SL - B76543214"
			}
			if cert.Subject() != want {
				t.Errorf("subject %q, want %q", cert.Subject(), want)
			}
			if len(cert.Chain) != 1 || !cert.Chain[0].Equal(ca.Cert) {
				t.Errorf("the CA in the file is not kept for the handshake: %d certificates", len(cert.Chain))
			}
			if len(cert.tls.Certificate) != 2 || cert.tls.PrivateKey == nil {
				t.Errorf("TLS certificate: %d certificates, key %T", len(cert.tls.Certificate), cert.tls.PrivateKey)
			}
		})
	}
}

// Each refusal is its own error, so the form says what to fix.
func TestLoadCertificateRefuses(t *testing.T) {
	ca := aeattest.NewCA(t, "Test FNMT")
	now := time.Now()
	good := ca.ClientPKCS12(t, aeattest.Client{}, "buena")
	expired := ca.ClientPKCS12(t, aeattest.Client{NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}, "buena")
	future := ca.ClientPKCS12(t, aeattest.Client{NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour)}, "buena")
	trustStore, err := pkcs12.Modern2023.EncodeTrustStore([]*x509.Certificate{ca.Cert}, "buena")
	if err != nil {
		t.Fatal(err)
	}
	pemCert := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw})
	truncated := good[:len(good)/2]

	for _, c := range []struct {
		name     string
		p12      []byte
		password string
		want     *CertError
	}{
		{"wrong password", good, "mala", ErrWrongPassword},
		{"empty password", good, "", ErrWrongPassword},
		{"a PEM certificate", pemCert, "buena", ErrNotPKCS12},
		{"a DER certificate", ca.Cert.Raw, "buena", ErrNotPKCS12},
		{"a PDF", []byte("%PDF-1.7\n1 0 obj\n<< >>\nendobj\n"), "buena", ErrNotPKCS12},
		{"empty file", nil, "buena", ErrNotPKCS12},
		{"truncated file", truncated, "buena", ErrNotPKCS12},
		{"certificate without key", trustStore, "buena", ErrNoKey},
		{"expired", expired, "buena", ErrExpired},
		{"not yet valid", future, "buena", ErrNotYetValid},
	} {
		t.Run(c.name, func(t *testing.T) {
			cert, err := LoadCertificate(c.p12, c.password, now)
			if !errors.Is(err, c.want) {
				t.Fatalf("got %v, %v; want %q", cert, err, c.want)
			}
			var ce *CertError
			if !errors.As(err, &ce) || ce.Key == "" {
				t.Fatalf("%v has no message key for the form", err)
			}
		})
	}
}

// The form shows a refusal through its message key, in both languages.
func TestCertErrorsTranslated(t *testing.T) {
	for _, e := range []*CertError{ErrNotPKCS12, ErrWrongPassword, ErrUnsupported, ErrNoKey, ErrExpired, ErrNotYetValid} {
		for _, loc := range []string{"es", "en"} {
			if got := i18n.T(i18n.WithLocale(context.Background(), loc), e.Key); got == e.Key || got == "" {
				t.Errorf("%s has no %s text", e.Key, loc)
			}
		}
	}
}
