package aeat

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"strings"
	"time"

	"software.sslmate.com/src/go-pkcs12"
)

// CertError is why an uploaded certificate was refused. Its Error is the
// Spanish text; Key is the message id in views/i18n, for the form.
type CertError struct {
	Key string
	es  string
}

func (e *CertError) Error() string { return e.es }

// The refusals a certificate form shows, told apart so the admin knows
// whether to pick another file or retype the password.
var (
	ErrNotPKCS12     = &CertError{"verifactu.cert_not_pkcs12", "no es un certificado PKCS#12 (.p12 o .pfx)"}
	ErrWrongPassword = &CertError{"verifactu.cert_wrong_password", "contraseña incorrecta"}
	ErrUnsupported   = &CertError{"verifactu.cert_unsupported", "el archivo PKCS#12 usa un cifrado que Pulso no puede leer; expórtelo de nuevo"}
	ErrNoKey         = &CertError{"verifactu.cert_no_key", "el archivo no contiene la clave privada del certificado"}
	ErrExpired       = &CertError{"verifactu.cert_expired", "el certificado ha caducado"}
	ErrNotYetValid   = &CertError{"verifactu.cert_not_yet_valid", "el certificado todavía no es válido"}
)

// Certificate is an organisation's certificate, ready for client TLS.
type Certificate struct {
	Leaf *x509.Certificate
	// Chain is what the file held besides the certificate (its CAs),
	// sent in the handshake so the AEAT can build the path.
	Chain []*x509.Certificate
	tls   tls.Certificate
}

// Subject is the holder as the certificate names it (the FNMT writes the
// name and NIF in the CN).
func (c *Certificate) Subject() string { return c.Leaf.Subject.CommonName }

// NotAfter is when the certificate expires (to warn the admin ahead).
func (c *Certificate) NotAfter() time.Time { return c.Leaf.NotAfter }

// LoadCertificate reads a PKCS#12 file (.p12, .pfx) with its password and
// checks that it is valid at now. It refuses, with a *CertError: what is
// not PKCS#12 (ErrNotPKCS12), the wrong password (ErrWrongPassword), a
// file without the key or whose key is not the certificate's (ErrNoKey),
// an encryption the library cannot read (ErrUnsupported), and a
// certificate expired (ErrExpired) or not yet valid (ErrNotYetValid).
func LoadCertificate(p12 []byte, password string, now time.Time) (*Certificate, error) {
	key, leaf, chain, err := pkcs12.DecodeChain(p12, password)
	if err != nil {
		var ni pkcs12.NotImplementedError
		switch {
		case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
			return nil, ErrWrongPassword
		case errors.As(err, &ni):
			return nil, ErrUnsupported
		case strings.Contains(err.Error(), "private key missing"):
			// go-pkcs12 says "private key missing" (its only sign of it)
			// for a certificate-only file (a .cer wrapped in
			// PKCS#12, a trust store).
			return nil, ErrNoKey
		default:
			return nil, ErrNotPKCS12
		}
	}
	signer, ok := key.(crypto.Signer)
	if !ok || leaf == nil {
		return nil, ErrNoKey
	}
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(leaf.PublicKey) {
		return nil, ErrNoKey
	}
	switch {
	case now.Before(leaf.NotBefore):
		return nil, ErrNotYetValid
	case now.After(leaf.NotAfter):
		return nil, ErrExpired
	}
	c := &Certificate{Leaf: leaf, Chain: chain}
	c.tls = tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: signer, Leaf: leaf}
	for _, ca := range chain {
		c.tls.Certificate = append(c.tls.Certificate, ca.Raw)
	}
	return c, nil
}
