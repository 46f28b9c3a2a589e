package auth

import (
	"crypto/rand"
	"encoding/base64"

	"pulso/app/linktoken"
)

// NewToken returns a random 256-bit token for a cookie, and the digest
// that is stored in its place (linktoken.Hash: sessions and links are
// stored and looked up the same way).
func NewToken() (token string, hash []byte) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	return token, linktoken.Hash(token)
}
