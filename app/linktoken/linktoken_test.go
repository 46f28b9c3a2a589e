package linktoken_test

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"regexp"
	"strings"
	"testing"

	"pulso/app/linktoken"
)

var secret = []byte(strings.Repeat("k", 32))

// Each purpose writes its token in the form its route or address accepts.
func TestFormats(t *testing.T) {
	t.Parallel()
	keys := linktoken.New(secret)
	for _, tt := range []struct {
		p    linktoken.Purpose
		want *regexp.Regexp
	}{
		{linktoken.Quote, regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)},
		{linktoken.Feed, regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)},
		{linktoken.Form, regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)},
		{linktoken.Inbox, regexp.MustCompile(`^[a-z2-7]{26}$`)},
		{linktoken.Invite, regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`)},
		{linktoken.Invoice, regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)},
	} {
		m, err := keys.Mint(tt.p)
		if err != nil {
			t.Fatal(err)
		}
		if !tt.want.MatchString(m.Token) {
			t.Errorf("%s token %q does not match %s", tt.p, m.Token, tt.want)
		}
		if sum := sha256.Sum256([]byte(m.Token)); !bytes.Equal(m.Hash, sum[:]) || !bytes.Equal(linktoken.Hash(m.Token), m.Hash) {
			t.Errorf("%s: the stored hash is not the token's SHA-256", tt.p)
		}
		if len(m.Nonce) != linktoken.NonceBytes || strings.Contains(string(m.Nonce), m.Token) {
			t.Errorf("%s: nonce %x", tt.p, m.Nonce)
		}
		again, err := keys.Token(tt.p, m.Nonce)
		if err != nil || again != m.Token {
			t.Errorf("%s: the nonce gives %q back, want %q (%v)", tt.p, again, m.Token, err)
		}
	}
}

// A token depends on the secret, the purpose and the nonce: a leaked nonce
// alone opens nothing, and one purpose's token never opens another.
func TestSeparation(t *testing.T) {
	t.Parallel()
	keys := linktoken.New(secret)
	nonce := []byte("0123456789abcdef")
	quote, _ := keys.Token(linktoken.Quote, nonce)
	form, _ := keys.Token(linktoken.Form, nonce)
	other, _ := linktoken.New([]byte(strings.Repeat("j", 32))).Token(linktoken.Quote, nonce)
	next, _ := keys.Token(linktoken.Quote, []byte("0123456789abcdeg"))
	if quote == form || quote == other || quote == next {
		t.Errorf("tokens collide: quote %s, form %s, other secret %s, next nonce %s", quote, form, other, next)
	}
	a, _ := keys.Mint(linktoken.Quote)
	b, _ := keys.Mint(linktoken.Quote)
	if a.Token == b.Token || bytes.Equal(a.Nonce, b.Nonce) {
		t.Error("two mints gave the same token")
	}
}

// Keys without a usable secret, a missing nonce (a row from before
// migration 0031) and an unknown purpose are refused, never a weak token.
func TestRefusals(t *testing.T) {
	t.Parallel()
	nonce := []byte("0123456789abcdef")
	for name, keys := range map[string]linktoken.Keys{"zero": {}, "short secret": linktoken.New([]byte("short")), "nil": linktoken.New(nil)} {
		if _, err := keys.Token(linktoken.Quote, nonce); !errors.Is(err, linktoken.ErrNoSecret) {
			t.Errorf("%s keys: %v, want ErrNoSecret", name, err)
		}
		if _, err := keys.Mint(linktoken.Quote); !errors.Is(err, linktoken.ErrNoSecret) {
			t.Errorf("%s keys mint: %v, want ErrNoSecret", name, err)
		}
	}
	keys := linktoken.New(secret)
	if _, err := keys.Token(linktoken.Quote, nil); err == nil {
		t.Error("a token without a nonce")
	}
	if _, err := keys.Token("session", nonce); err == nil {
		t.Error("a token for an unknown purpose")
	}
}
