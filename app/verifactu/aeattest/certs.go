package aeattest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// CA is a certificate authority made for one test: it issues the fake
// AEAT's server certificate and the organisations' client certificates.
type CA struct {
	Cert *x509.Certificate
	Pool *x509.CertPool // holds Cert alone: a client's RootCAs or a server's ClientCAs
	key  crypto.Signer
}

func serial(tb TB) *big.Int {
	tb.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		tb.Fatal(err)
	}
	return n
}

func ecKey(tb TB) crypto.Signer {
	tb.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// NewCA makes a self-signed CA named name, valid from an hour ago for a
// year.
func NewCA(tb TB, name string) *CA {
	tb.Helper()
	key := ecKey(tb)
	tmpl := &x509.Certificate{
		SerialNumber:          serial(tb),
		Subject:               pkix.Name{CommonName: name, Organization: []string{"Pulso tests"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &CA{Cert: cert, Pool: pool, key: key}
}

func (ca *CA) issue(tb TB, tmpl *x509.Certificate, pub crypto.PublicKey) *x509.Certificate {
	tb.Helper()
	tmpl.SerialNumber = serial(tb)
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, pub, ca.key)
	if err != nil {
		tb.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		tb.Fatal(err)
	}
	return cert
}

// ServerCertificate issues a TLS server certificate for 127.0.0.1, ::1
// and localhost (where httptest listens).
func (ca *CA) ServerCertificate(tb TB) tls.Certificate {
	tb.Helper()
	key := ecKey(tb)
	cert := ca.issue(tb, &x509.Certificate{
		Subject:     pkix.Name{CommonName: "prewww1.aeat.es (fake)"},
		DNSNames:    []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		NotBefore:   time.Now().Add(-time.Hour),
		NotAfter:    time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, key.Public())
	return tls.Certificate{Certificate: [][]byte{cert.Raw}, PrivateKey: key, Leaf: cert}
}

// Client describes an organisation's certificate, as the FNMT issues
// them: the holder's name and NIF in the subject.
type Client struct {
	Name string // subject CN; default "DEMO VENTAS SL - B76543214"
	NIF  string // subject serialNumber "IDCES-<NIF>"; default B76543214
	// NotBefore and NotAfter default to an hour ago and a year ahead.
	NotBefore, NotAfter time.Time
	// RSA makes a 2048-bit RSA key, as the FNMT's certificates have,
	// instead of a (faster) P-256 one.
	RSA bool
	// Legacy encrypts the file with RC2-40/3DES and SHA-1, as files
	// exported by older browsers and Windows are; else AES-256 and SHA-256.
	Legacy bool
}

// ClientPKCS12 issues a client certificate and returns it as a PKCS#12
// file under password, holding the key, the certificate and the CA.
func (ca *CA) ClientPKCS12(tb TB, c Client, password string) []byte {
	tb.Helper()
	if c.Name == "" {
		c.Name = "DEMO VENTAS SL - B76543214"
	}
	if c.NIF == "" {
		c.NIF = "B76543214"
	}
	if c.NotBefore.IsZero() {
		c.NotBefore = time.Now().Add(-time.Hour)
	}
	if c.NotAfter.IsZero() {
		c.NotAfter = time.Now().Add(365 * 24 * time.Hour)
	}
	var key crypto.Signer = nil
	if c.RSA {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			tb.Fatal(err)
		}
		key = k
	} else {
		key = ecKey(tb)
	}
	cert := ca.issue(tb, &x509.Certificate{
		Subject:     pkix.Name{CommonName: c.Name, SerialNumber: "IDCES-" + c.NIF, Country: []string{"ES"}},
		NotBefore:   c.NotBefore,
		NotAfter:    c.NotAfter,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, key.Public())
	enc := pkcs12.Modern2023
	if c.Legacy {
		enc = pkcs12.LegacyRC2
	}
	p12, err := enc.Encode(key, cert, []*x509.Certificate{ca.Cert}, password)
	if err != nil {
		tb.Fatal(err)
	}
	return p12
}
