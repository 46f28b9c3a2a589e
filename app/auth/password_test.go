package auth

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

func TestHashVerifyRoundtrip(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{
		"correct horse battery",
		"ñandú-contraseña-€",
		strings.Repeat("x", MaxPasswordLen),
		"", // the hash functions do not judge length; the forms do
	} {
		hash, err := HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
			t.Errorf("hash %q does not record the expected algorithm and parameters", hash)
		}
		ok, err := VerifyPassword(hash, pw)
		if err != nil || !ok {
			t.Errorf("VerifyPassword(hash of %q, same) = %v, %v; want true, nil", pw, ok, err)
		}
		ok, err = VerifyPassword(hash, pw+"x")
		if err != nil || ok {
			t.Errorf("VerifyPassword(hash of %q, other) = %v, %v; want false, nil", pw, ok, err)
		}
	}
}

func TestWrongPassword(t *testing.T) {
	t.Parallel()
	hash, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{"", "correct horse batter", "Correct horse battery", "correct horse battery ", "correct horse battery\x00"} {
		ok, err := VerifyPassword(hash, pw)
		if err != nil || ok {
			t.Errorf("VerifyPassword(%q) = %v, %v; want false, nil", pw, ok, err)
		}
	}
}

func TestHashesAreSalted(t *testing.T) {
	t.Parallel()
	a, err := HashPassword("same password here")
	if err != nil {
		t.Fatal(err)
	}
	b, err := HashPassword("same password here")
	if err != nil {
		t.Fatal(err)
	}
	if a == b {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	if strings.Split(a, "$")[4] == strings.Split(b, "$")[4] {
		t.Fatal("two hashes share a salt")
	}
}

// A hash made with other parameters (an older policy) still verifies,
// because the parameters travel with the hash.
func TestVerifyUsesRecordedParameters(t *testing.T) {
	t.Parallel()
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte("old password 1"), salt, 1, 64, 2, 24)
	b64 := base64.RawStdEncoding
	hash := fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=2$%s$%s", b64.EncodeToString(salt), b64.EncodeToString(key))
	if ok, err := VerifyPassword(hash, "old password 1"); err != nil || !ok {
		t.Fatalf("VerifyPassword = %v, %v; want true, nil", ok, err)
	}
	if ok, err := VerifyPassword(hash, "old password 2"); err != nil || ok {
		t.Fatalf("VerifyPassword(wrong) = %v, %v; want false, nil", ok, err)
	}
}

func TestVerifyMalformedHash(t *testing.T) {
	t.Parallel()
	good, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(good, "$")
	salt, key := parts[4], parts[5]
	with := func(params string) string { return "$argon2id$v=19$" + params + "$" + salt + "$" + key }
	for name, hash := range map[string]string{
		"empty":               "",
		"dollar":              "$",
		"plain text":          "correct horse battery",
		"bcrypt":              "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":             "$argon2i$v=19$m=19456,t=2,p=1$" + salt + "$" + key,
		"too few parts":       "$argon2id$v=19$m=19456,t=2,p=1$" + salt,
		"too many parts":      good + "$extra",
		"no leading dollar":   strings.TrimPrefix(good, "$"),
		"old version":         "$argon2id$v=16$m=19456,t=2,p=1$" + salt + "$" + key,
		"version not number":  "$argon2id$v=x$m=19456,t=2,p=1$" + salt + "$" + key,
		"params missing":      with(""),
		"params garbage":      with("m=a,t=b,p=c"),
		"params reordered":    with("t=2,m=19456,p=1"),
		"negative memory":     with("m=-1,t=2,p=1"),
		"zero memory":         with("m=0,t=2,p=1"),
		"zero time":           with("m=19456,t=0,p=1"),
		"zero threads":        with("m=19456,t=2,p=0"),
		"absurd memory":       with("m=4294967295,t=2,p=1"),
		"memory overflows":    with("m=4294967296,t=2,p=1"),
		"just over 1GiB":      with("m=1048577,t=2,p=1"),
		"absurd time":         with("m=19456,t=4294967295,p=1"),
		"threads overflow":    with("m=19456,t=2,p=256"),
		"salt not base64":     "$argon2id$v=19$m=19456,t=2,p=1$!!!!$" + key,
		"key not base64":      "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$%%%%",
		"empty key":           "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "$",
		"padded std base64":   "$argon2id$v=19$m=19456,t=2,p=1$" + salt + "==$" + key,
		"only separators":     "$$$$$",
		"unicode in params":   with("m=１９４５６,t=2,p=1"),
		"whitespace params":   with("m= ,t= ,p= "),
		"huge version number": "$argon2id$v=99999999999999999999$m=19456,t=2,p=1$" + salt + "$" + key,
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := VerifyPassword(hash, "correct horse battery")
			if err == nil || ok {
				t.Errorf("VerifyPassword(%q) = %v, %v; want false and an error", hash, ok, err)
			}
		})
	}
}

// FuzzVerifyPassword: whatever a tampered or corrupt row holds, verifying
// against it returns an answer or an error; it never panics.
func FuzzVerifyPassword(f *testing.F) {
	good, err := HashPassword("correct horse battery")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good, "correct horse battery")
	f.Add(good, "")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$AAAA", "x")
	f.Add("$argon2id$v=19$m=4294967295,t=1,p=1$c2FsdA$AAAA", "x")
	f.Add("$argon2id$v=19$m=8,t=1,p=255$$AA", "x")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$$", "")
	f.Add("$$$$$", "")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, hash, password string) {
		if tooCostly(hash) {
			// Legal but expensive parameters (up to 1 GiB) would make the
			// fuzzer crawl or run out of memory; they are not what it is for.
			t.Skip()
		}
		ok, err := VerifyPassword(hash, password)
		if err != nil && ok {
			t.Fatalf("VerifyPassword(%q) = true with error %v", hash, err)
		}
	})
}

// tooCostly reads the cost parameters the same way VerifyPassword does.
func tooCostly(hash string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 {
		return false
	}
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false
	}
	return mem > 64*1024 || iters > 4 || len(parts[5]) > 1<<12
}

func TestSafeNext(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/account", "/account"},
		{"/admin/users?x=1#top", "/admin/users?x=1#top"},
		{"/a//b", "/a//b"},
		{"//evil.example", "/"},
		{"//evil.example/path", "/"},
		{"///evil.example", "/"},
		{"/\\evil.example", "/"},
		{"\\\\evil.example", "/"},
		{"https://evil.example", "/"},
		{"http://evil.example/", "/"},
		{"HTTPS://evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"data:text/html,hi", "/"},
		{"evil.example", "/"},
		{"account", "/"},
		{" /account", "/"},
		{"/\t/evil.example", "/"}, // browsers drop tabs and would see //evil.example
		{"/\n/evil.example", "/"},
		{"/\r/evil.example", "/"},
		{"/%zz", "/"},
	} {
		if got := safeNext(tt.in); got != tt.want {
			t.Errorf("safeNext(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
