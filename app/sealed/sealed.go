// Package sealed keeps small secrets encrypted at rest: an org's PKCS#12
// certificate and its password (VERI*FACTU sending), later the OAuth
// tokens of a store integration. The database holds only ciphertext; the
// key comes from PULSO_SECRET, which is not in the database, so a leaked
// backup or log reveals no secret.
//
// A ciphertext is
//
//	version (1 byte, 1) | key id (4 bytes) | nonce (12 bytes) | AES-256-GCM ciphertext and tag
//
// The key is HKDF-SHA256 of the secret with a label of its own, so it is
// never the key that signs CSRF cookies (the secret itself) nor the one that
// derives link tokens (app/linktoken). The key id names which secret sealed
// a value, so that after PULSO_SECRET changes the previous secret can still
// open old values while Reseal moves them to the new one. The associated
// data binds the ciphertext to its purpose and its owner (the org's id): a
// value copied into another org's row, or into another column of the same
// row, does not open.
package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strconv"
)

// Purpose says what a sealed value is. It is part of the associated data,
// so a value sealed for one purpose never opens as another.
type Purpose string

const (
	// Certificate is an org's PKCS#12 file (VERI*FACTU client certificate).
	Certificate Purpose = "verifactu-certificate"
	// CertificatePassword is the password of that file.
	CertificatePassword Purpose = "verifactu-certificate-password"
	// StoreAccess and StoreRefresh are a connected store seller's OAuth
	// tokens (app/store).
	StoreAccess  Purpose = "store-access-token"
	StoreRefresh Purpose = "store-refresh-token"
)

const (
	version   = 1
	keyIDLen  = 4
	nonceLen  = 12
	headerLen = 1 + keyIDLen + nonceLen
	// hkdfInfo separates this key from every other use of the secret.
	hkdfInfo = "pulso\x00sealed\x00aes-256-gcm\x00v1"
	// Overhead is how many bytes a ciphertext has beyond its plaintext.
	Overhead = headerLen + 16
)

var (
	// ErrNoSecret: Keys made without a usable secret (config always
	// provides one; a zero Keys is a wiring mistake).
	ErrNoSecret = errors.New("sealed: no PULSO_SECRET to derive the key from")
	// ErrOpen: the value does not open: it was sealed under a secret this
	// process does not have, for another owner or purpose, or it was
	// changed or cut. Which of these is not told, on purpose.
	ErrOpen = errors.New("sealed: the value cannot be opened")
)

type key struct {
	id   [keyIDLen]byte
	aead cipher.AEAD
}

// Keys seals under the current secret and opens under it or the previous
// ones.
type Keys struct {
	keys []key // keys[0] seals
}

// New derives the keys of secret (which seals and opens) and of previous
// secrets (which only open, until their values are resealed). Every
// secret must have at least 32 bytes, as config requires of PULSO_SECRET.
func New(secret []byte, previous ...[]byte) (Keys, error) {
	var k Keys
	for _, s := range append([][]byte{secret}, previous...) {
		if len(s) < 32 {
			return Keys{}, ErrNoSecret
		}
		raw, err := hkdf.Key(sha256.New, s, nil, hkdfInfo, 32)
		if err != nil {
			return Keys{}, err
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return Keys{}, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return Keys{}, err
		}
		// The id is a digest of the key, not of the secret, and only 32
		// bits of it: enough to pick the key, useless to guess the secret.
		sum := sha256.Sum256(append([]byte("pulso\x00sealed\x00key-id\x00"), raw...))
		kk := key{aead: aead}
		copy(kk.id[:], sum[:keyIDLen])
		k.keys = append(k.keys, kk)
	}
	return k, nil
}

// additional is the associated data: the header and what the value is
// and whose.
func additional(header []byte, p Purpose, owner int64) []byte {
	ad := make([]byte, 0, len(header)+len(p)+24)
	ad = append(ad, header...)
	ad = append(ad, p...)
	ad = append(ad, 0)
	return strconv.AppendInt(ad, owner, 10)
}

// Seal encrypts plaintext for owner (an org's id) and purpose.
func (k Keys) Seal(p Purpose, owner int64, plaintext []byte) ([]byte, error) {
	if len(k.keys) == 0 {
		return nil, ErrNoSecret
	}
	if p == "" {
		return nil, errors.New("sealed: no purpose")
	}
	cur := k.keys[0]
	out := make([]byte, headerLen, headerLen+len(plaintext)+cur.aead.Overhead())
	out[0] = version
	copy(out[1:], cur.id[:])
	if _, err := rand.Read(out[1+keyIDLen : headerLen]); err != nil {
		return nil, err
	}
	return cur.aead.Seal(out, out[1+keyIDLen:headerLen], plaintext, additional(out[:headerLen], p, owner)), nil
}

// Open decrypts what Seal gave for the same owner and purpose.
func (k Keys) Open(p Purpose, owner int64, sealed []byte) ([]byte, error) {
	if len(k.keys) == 0 {
		return nil, ErrNoSecret
	}
	if len(sealed) < Overhead || sealed[0] != version {
		return nil, ErrOpen
	}
	header := sealed[:headerLen]
	for _, kk := range k.keys {
		if !bytes.Equal(kk.id[:], sealed[1:1+keyIDLen]) {
			continue
		}
		pt, err := kk.aead.Open(nil, sealed[1+keyIDLen:headerLen], sealed[headerLen:], additional(header, p, owner))
		if err == nil {
			return pt, nil
		}
	}
	return nil, ErrOpen
}

// Current says whether sealed was sealed under the current secret; when
// not, Reseal it after a change of PULSO_SECRET.
func (k Keys) Current(sealed []byte) bool {
	return len(k.keys) > 0 && len(sealed) >= Overhead && sealed[0] == version &&
		bytes.Equal(sealed[1:1+keyIDLen], k.keys[0].id[:])
}

// Reseal opens a value under any known secret and seals it again under
// the current one.
func (k Keys) Reseal(p Purpose, owner int64, sealed []byte) ([]byte, error) {
	pt, err := k.Open(p, owner, sealed)
	if err != nil {
		return nil, err
	}
	defer clear(pt)
	return k.Seal(p, owner, pt)
}
