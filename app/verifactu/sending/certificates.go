package sending

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"pulso/app/sealed"
	"pulso/app/verifactu/aeat"
	"pulso/queries"
)

// MaxCertificateBytes bounds an uploaded PKCS#12 file: a certificate with
// its key and chain is a few kilobytes.
const MaxCertificateBytes = 256 << 10

// FieldError is a refused certificate upload: the form field and the
// message id in views/i18n.
type FieldError struct {
	Field string // "certificate" or "password"
	Key   string
}

func (e *FieldError) Error() string { return "sending: " + e.Field + ": " + e.Key }

// ErrNoCertificate: the org has uploaded no certificate; its records wait.
var ErrNoCertificate = errors.New("sending: the org has no VERI*FACTU certificate")

// Facts are what may be shown of a stored certificate: never the file nor
// its password.
type Facts struct {
	Subject    string
	NIF        string // "" when the certificate names none Pulso recognises
	NotAfter   time.Time
	UploadedAt time.Time
	UploadedBy *int64
}

// Certificates keeps each org's certificate sealed (app/sealed, bound to
// the org and to its purpose).
type Certificates struct {
	Keys sealed.Keys
}

// Save checks an uploaded PKCS#12 file with its password at now and
// stores both sealed, with the certificate's public facts in clear,
// replacing the org's previous certificate. A file Pulso cannot use is
// refused with a *FieldError (not PKCS#12, wrong password, no private
// key, expired, not yet valid, an encryption it cannot read) and nothing
// is stored. Chains stopped by a missing or refused certificate may send
// again at once.
func (c Certificates) Save(ctx context.Context, tx pgx.Tx, orgID int64, p12 []byte, password string, by *int64, now time.Time) (Facts, error) {
	switch {
	case len(p12) == 0:
		return Facts{}, &FieldError{"certificate", "verifactu.cert_required"}
	case len(p12) > MaxCertificateBytes:
		return Facts{}, &FieldError{"certificate", "verifactu.cert_too_big"}
	}
	cert, err := aeat.LoadCertificate(p12, password, now)
	if err != nil {
		var ce *aeat.CertError
		if errors.As(err, &ce) {
			field := "certificate"
			if ce == aeat.ErrWrongPassword {
				field = "password"
			}
			return Facts{}, &FieldError{field, ce.Key}
		}
		return Facts{}, err
	}
	sp12, err := c.Keys.Seal(sealed.Certificate, orgID, p12)
	if err != nil {
		return Facts{}, err
	}
	spw, err := c.Keys.Seal(sealed.CertificatePassword, orgID, []byte(password))
	if err != nil {
		return Facts{}, err
	}
	subject := cert.Subject()
	if subject == "" {
		subject = cert.Leaf.Subject.String()
	}
	if r := []rune(subject); len(r) > 500 {
		subject = string(r[:500])
	}
	q := queries.New(tx)
	row, err := q.UpsertVerifactuCertificate(ctx, queries.UpsertVerifactuCertificateParams{OrgID: orgID, P12Sealed: sp12, PasswordSealed: spw,
		Subject: subject, Nif: NIFOf(cert.Leaf), NotAfter: cert.NotAfter(), UploadedBy: by, UploadedAt: now})
	if err != nil {
		return Facts{}, err
	}
	if err := q.RetryVerifactuSendersOfOrg(ctx, orgID); err != nil {
		return Facts{}, err
	}
	return Facts{Subject: row.Subject, NIF: row.Nif, NotAfter: row.NotAfter, UploadedAt: row.UploadedAt, UploadedBy: row.UploadedBy}, nil
}

// Load opens the org's certificate for sending, checked at now: an
// expired one is an *aeat.CertError (ErrExpired), no certificate is
// ErrNoCertificate.
func (c Certificates) Load(ctx context.Context, q *queries.Queries, orgID int64, now time.Time) (*aeat.Certificate, error) {
	row, err := q.GetVerifactuCertificate(ctx, orgID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNoCertificate
	}
	if err != nil {
		return nil, err
	}
	p12, err := c.Keys.Open(sealed.Certificate, orgID, row.P12Sealed)
	if err != nil {
		return nil, err
	}
	pw, err := c.Keys.Open(sealed.CertificatePassword, orgID, row.PasswordSealed)
	if err != nil {
		return nil, err
	}
	defer clear(pw)
	return aeat.LoadCertificate(p12, string(pw), now)
}

// Stored returns the public facts of the org's certificate; ok is false
// when it has none.
func Stored(ctx context.Context, q *queries.Queries, orgID int64) (f Facts, ok bool, err error) {
	row, err := q.GetVerifactuCertificateFacts(ctx, orgID)
	if errors.Is(err, pgx.ErrNoRows) {
		return Facts{}, false, nil
	}
	if err != nil {
		return Facts{}, false, err
	}
	return Facts{Subject: row.Subject, NIF: row.Nif, NotAfter: row.NotAfter, UploadedAt: row.UploadedAt, UploadedBy: row.UploadedBy}, true, nil
}

// oidOrganizationIdentifier is X.520 organizationIdentifier, where
// certificates of a company's representative carry "VATES-<NIF>".
var oidOrganizationIdentifier = asn1.ObjectIdentifier{2, 5, 4, 97}

var nifInText = regexp.MustCompile(`\b([0-9A-Z][0-9]{7}[0-9A-Z])\b`)

// NIFOf is the NIF a certificate names: the FNMT writes it in the
// subject's serialNumber ("IDCES-B76543214"), a representative's
// certificate also in organizationIdentifier ("VATES-B76543214"), and
// most in the CN ("EMPRESA SL - B76543214"). "" when none is found.
func NIFOf(c *x509.Certificate) string {
	var cands []string
	for _, n := range c.Subject.Names {
		if n.Type.Equal(oidOrganizationIdentifier) {
			if s, ok := n.Value.(string); ok {
				cands = append(cands, s)
			}
		}
	}
	cands = append(cands, c.Subject.SerialNumber, c.Subject.CommonName)
	for _, s := range cands {
		s = strings.ToUpper(strings.TrimSpace(s))
		for _, p := range []string{"IDCES-", "VATES-", "ES"} {
			if t, ok := strings.CutPrefix(s, p); ok && len(t) == 9 && nifInText.MatchString(t) {
				return t
			}
		}
		if m := nifInText.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	return ""
}
