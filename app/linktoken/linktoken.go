// Package linktoken makes the tokens that open something without a session:
// quote links, calendar feeds, web-form and inbox addresses, invites. The
// database keeps, for each, only a random nonce and the SHA-256 of the
// token; the token itself is HMAC(PULSO_SECRET, purpose, nonce). So a
// leaked backup or log of the database opens nothing (the secret is not in
// it), a presented token is found by its digest in one index probe, and the
// app can still show a token again (the rep copies a quote's link, the admin
// the form snippet) or put it into an e-mail when the job sends it.
//
// Changing PULSO_SECRET therefore changes every such token: links already
// given out stop working. Keep the secret as long as the links should live.
package linktoken

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"errors"
	"strings"
)

// Purpose names what a token opens. It is part of the derivation, so a
// token made for one purpose never opens another, even with the same nonce.
type Purpose string

const (
	Quote  Purpose = "quote"  // /q/{token}: a client's quote link
	Feed   Purpose = "feed"   // /agenda/feed/{token}.ics: a user's calendar
	Form   Purpose = "form"   // /f/{token}: a website's lead form
	Inbox  Purpose = "inbox"  // leads+{token}@domain: an org's inbox address
	Invite Purpose = "invite" // /invite/{token}: a one-time set-password link
	// Invoice is /i/{token}: one send of an invoice to a customer.
	Invoice Purpose = "invoice"
)

// format is how a purpose's token is written: how many bits of the HMAC it
// keeps and in which alphabet.
type format struct {
	bytes  int
	encode func([]byte) string
}

var base32Lower = base32.StdEncoding.WithPadding(base32.NoPadding)

var formats = map[Purpose]format{
	// 128 bits, 22 URL-safe characters: what quote links always were.
	Quote: {16, base64.RawURLEncoding.EncodeToString},
	// The feed route wants at least 32 characters.
	Feed: {32, base64.RawURLEncoding.EncodeToString},
	Form: {16, base64.RawURLEncoding.EncodeToString},
	// Lower-case base32: mail systems may change the case of a local part.
	Inbox:  {16, func(b []byte) string { return strings.ToLower(base32Lower.EncodeToString(b)) }},
	Invite: {32, base64.RawURLEncoding.EncodeToString},
	// As quote links: the customer's phone opens both the same way.
	Invoice: {16, base64.RawURLEncoding.EncodeToString},
}

// NonceBytes is the size of the random nonce stored with each token.
const NonceBytes = 16

// ErrNoSecret is returned when tokens are asked of Keys made without a
// secret (config always provides one; a zero Keys is a wiring mistake).
var ErrNoSecret = errors.New("linktoken: no PULSO_SECRET to derive tokens with")

// Keys derives tokens under the app's secret.
type Keys struct{ key []byte }

// derivationLabel separates these tokens from every other use of the
// secret (CSRF signs cookie values with it directly): it holds NUL bytes,
// which no cookie value can, so no other HMAC under the secret yields the
// sub-key.
const derivationLabel = "pulso\x00link-token\x00v1"

// New returns the Keys of secret; a secret shorter than 32 bytes gives
// Keys that refuse to derive.
func New(secret []byte) Keys {
	if len(secret) < 32 {
		return Keys{}
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(derivationLabel))
	return Keys{key: m.Sum(nil)}
}

// Minted is a new token and what is stored for it.
type Minted struct {
	Nonce []byte // stored: with the secret it gives the token back
	Token string // shown or sent, never stored
	Hash  []byte // stored: what a presented token is looked up by
}

// Mint makes a new token for p.
func (k Keys) Mint(p Purpose) (Minted, error) {
	nonce := make([]byte, NonceBytes)
	if _, err := rand.Read(nonce); err != nil {
		return Minted{}, err
	}
	token, err := k.Token(p, nonce)
	if err != nil {
		return Minted{}, err
	}
	return Minted{Nonce: nonce, Token: token, Hash: Hash(token)}, nil
}

// Token gives back the token of p for a stored nonce.
func (k Keys) Token(p Purpose, nonce []byte) (string, error) {
	f, ok := formats[p]
	switch {
	case len(k.key) == 0:
		return "", ErrNoSecret
	case !ok:
		return "", errors.New("linktoken: unknown purpose " + string(p))
	case len(nonce) == 0:
		return "", errors.New("linktoken: no nonce (a token made before tokens were derived cannot be shown again)")
	}
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(p))
	m.Write([]byte{0})
	m.Write(nonce)
	return f.encode(m.Sum(nil)[:f.bytes]), nil
}

// Hash is the digest a token is stored and looked up by. A plain SHA-256
// is enough: the token has at least 128 random-looking bits, so the digest
// cannot be walked back to it.
func Hash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
