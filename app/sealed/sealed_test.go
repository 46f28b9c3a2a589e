package sealed

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"testing"
)

var (
	secretA = []byte("0123456789abcdef0123456789abcdef-A")
	secretB = []byte("0123456789abcdef0123456789abcdef-B")
)

func mustKeys(t *testing.T, secret []byte, previous ...[]byte) Keys {
	t.Helper()
	k, err := New(secret, previous...)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRoundTrip(t *testing.T) {
	k := mustKeys(t, secretA)
	for _, pt := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("certificate bytes "), 400)} {
		ct, err := k.Seal(Certificate, 42, pt)
		if err != nil {
			t.Fatal(err)
		}
		if len(ct) != len(pt)+Overhead {
			t.Errorf("ciphertext of %d bytes has %d, want %d", len(pt), len(ct), len(pt)+Overhead)
		}
		got, err := k.Open(Certificate, 42, ct)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, pt) {
			t.Fatalf("opened %q, sealed %q", got, pt)
		}
	}
	// Each seal draws a fresh nonce: the same secret sealed twice differs.
	a, _ := k.Seal(CertificatePassword, 1, []byte("hunter2"))
	b, _ := k.Seal(CertificatePassword, 1, []byte("hunter2"))
	if bytes.Equal(a, b) {
		t.Fatal("two seals of the same value are equal")
	}
}

func TestNoPlaintextInCiphertext(t *testing.T) {
	k := mustKeys(t, secretA)
	pt := []byte("contraseña-del-certificado-FNMT-2026")
	ct, err := k.Seal(CertificatePassword, 7, pt)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+4 <= len(pt); i++ {
		if bytes.Contains(ct, pt[i:i+4]) {
			t.Fatalf("ciphertext holds plaintext piece %q", pt[i:i+4])
		}
	}
	if bytes.Contains(ct, secretA[:8]) {
		t.Fatal("ciphertext holds part of the secret")
	}
}

func TestOpenRefuses(t *testing.T) {
	k := mustKeys(t, secretA)
	ct, err := k.Seal(Certificate, 42, []byte("PKCS#12 bytes"))
	if err != nil {
		t.Fatal(err)
	}
	tampered := func(i int) []byte {
		c := bytes.Clone(ct)
		c[i] ^= 0x01
		return c
	}
	cases := []struct {
		name  string
		keys  Keys
		p     Purpose
		owner int64
		ct    []byte
	}{
		{"wrong secret", mustKeys(t, secretB), Certificate, 42, ct},
		{"wrong owner", k, Certificate, 43, ct},
		{"wrong purpose", k, CertificatePassword, 42, ct},
		{"tampered version", k, Certificate, 42, tampered(0)},
		{"tampered key id", k, Certificate, 42, tampered(2)},
		{"tampered nonce", k, Certificate, 42, tampered(8)},
		{"tampered body", k, Certificate, 42, tampered(headerLen + 3)},
		{"tampered tag", k, Certificate, 42, tampered(len(ct) - 1)},
		{"truncated by one", k, Certificate, 42, ct[:len(ct)-1]},
		{"header only", k, Certificate, 42, ct[:headerLen]},
		{"empty", k, Certificate, 42, nil},
		{"extended", k, Certificate, 42, append(bytes.Clone(ct), 0)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pt, err := c.keys.Open(c.p, c.owner, c.ct)
			if !errors.Is(err, ErrOpen) {
				t.Fatalf("got %q, %v; want ErrOpen", pt, err)
			}
		})
	}
}

func TestNoSecret(t *testing.T) {
	if _, err := New([]byte("short")); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("a short secret: %v", err)
	}
	if _, err := New(secretA, []byte("short")); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("a short previous secret: %v", err)
	}
	var zero Keys
	if _, err := zero.Seal(Certificate, 1, []byte("x")); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("zero Keys sealed: %v", err)
	}
	if _, err := zero.Open(Certificate, 1, make([]byte, 64)); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("zero Keys opened: %v", err)
	}
}

// After PULSO_SECRET changes, the previous secret still opens old values,
// Current tells which need resealing, and Reseal moves them; once the
// previous secret is dropped, only the resealed value opens.
func TestRotation(t *testing.T) {
	old := mustKeys(t, secretA)
	ct, err := old.Seal(Certificate, 5, []byte("p12"))
	if err != nil {
		t.Fatal(err)
	}
	rotated := mustKeys(t, secretB, secretA)
	if rotated.Current(ct) {
		t.Fatal("a value of the previous secret counts as current")
	}
	if pt, err := rotated.Open(Certificate, 5, ct); err != nil || string(pt) != "p12" {
		t.Fatalf("the previous secret does not open its value: %q, %v", pt, err)
	}
	re, err := rotated.Reseal(Certificate, 5, ct)
	if err != nil {
		t.Fatal(err)
	}
	if !rotated.Current(re) {
		t.Fatal("a resealed value is not current")
	}
	onlyNew := mustKeys(t, secretB)
	if _, err := onlyNew.Open(Certificate, 5, ct); !errors.Is(err, ErrOpen) {
		t.Fatalf("the new secret alone opened the old value: %v", err)
	}
	if pt, err := onlyNew.Open(Certificate, 5, re); err != nil || string(pt) != "p12" {
		t.Fatalf("resealed value: %q, %v", pt, err)
	}
	if _, err := rotated.Reseal(Certificate, 6, ct); !errors.Is(err, ErrOpen) {
		t.Fatalf("Reseal for another owner: %v", err)
	}
}

// The key is derived with its own label: neither the raw secret (which
// signs CSRF cookies) nor the link-token key (HMAC(secret, label)) opens a
// sealed value, even given the right key id.
func TestKeyIsDerived(t *testing.T) {
	k := mustKeys(t, secretA)
	ct, err := k.Seal(Certificate, 1, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, secretA)
	m.Write([]byte("pulso\x00link-token\x00v1"))
	for name, raw := range map[string][]byte{"raw secret": secretA[:32], "link-token key": m.Sum(nil)} {
		block, err := aes.NewCipher(raw)
		if err != nil {
			t.Fatal(err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			t.Fatal(err)
		}
		other := Keys{keys: []key{{id: k.keys[0].id, aead: aead}}}
		if _, err := other.Open(Certificate, 1, ct); !errors.Is(err, ErrOpen) {
			t.Errorf("the %s opens a sealed value: %v", name, err)
		}
	}
}
