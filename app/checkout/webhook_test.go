package checkout

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Sign follows the documented manifest byte for byte: computed here
// independently from the literal string the provider's docs describe.
func TestSignKnownManifest(t *testing.T) {
	secret := []byte("s3cret")
	ts := time.Unix(1704908010, 0)
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("id:123456;request-id:bb56a2f1-6aae-46ac-982e-9dcd3581d08e;ts:1704908010;"))
	want := "ts=1704908010,v1=" + hex.EncodeToString(h.Sum(nil))
	if got := Sign(secret, "bb56a2f1-6aae-46ac-982e-9dcd3581d08e", "123456", ts); got != want {
		t.Fatalf("Sign = %s\nwant  %s", got, want)
	}
	// An alphanumeric data.id is signed lower-cased.
	h = hmac.New(sha256.New, secret)
	h.Write([]byte("id:abc123;request-id:r1;ts:1704908010;"))
	want = "ts=1704908010,v1=" + hex.EncodeToString(h.Sum(nil))
	if got := Sign(secret, "r1", "ABC123", ts); got != want {
		t.Fatalf("Sign(ABC123) = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	secret := []byte("webhook-secret")
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"id":5000000001,"live_mode":false,"type":"payment","action":"payment.created","api_version":"v1","data":{"id":"1000000001"}}`)
	hdr := func(sig, reqID string) http.Header {
		h := http.Header{}
		if sig != "" {
			h.Set("x-signature", sig)
		}
		if reqID != "" {
			h.Set("x-request-id", reqID)
		}
		return h
	}
	good := Sign(secret, "req-1", "1000000001", now.Add(-30*time.Second))

	w, err := Verify(secret, hdr(good, "req-1"), body, now, time.Minute)
	if err != nil {
		t.Fatalf("genuine delivery: %v", err)
	}
	if w.DataID != "1000000001" || w.RequestID != "req-1" || w.Type != "payment" || w.Action != "payment.created" || !w.TS.Equal(now.Add(-30*time.Second)) {
		t.Fatalf("webhook = %+v", w)
	}

	v1 := good[strings.Index(good, "v1="):]
	msTS := "ts=" + "1799999990000" + ","
	hm := hmac.New(sha256.New, secret)
	hm.Write([]byte("id:1000000001;request-id:req-1;ts:1799999990000;"))
	msSig := msTS + "v1=" + hex.EncodeToString(hm.Sum(nil))

	for _, tc := range []struct {
		name   string
		secret []byte
		h      http.Header
		body   string
		tol    time.Duration
		want   error
	}{
		{"reordered parts and spaces", secret, hdr(" "+v1+" , ts="+good[3:strings.Index(good, ",")], "req-1"), string(body), time.Minute, nil},
		{"millisecond ts", secret, hdr(msSig, "req-1"), string(body), time.Minute, nil},
		{"numeric data.id", secret, hdr(good, "req-1"), `{"type":"payment","data":{"id":1000000001}}`, time.Minute, nil},
		{"zero tolerance means default", secret, hdr(good, "req-1"), string(body), 0, nil},

		{"tampered data.id", secret, hdr(good, "req-1"), strings.Replace(string(body), "1000000001", "1000000002", 1), time.Minute, ErrSignature},
		{"tampered request id", secret, hdr(good, "req-2"), string(body), time.Minute, ErrSignature},
		{"tampered ts", secret, hdr(strings.Replace(good, "ts=17999999", "ts=17999998", 1), "req-1"), string(body), time.Hour, ErrSignature},
		{"wrong secret", []byte("other"), hdr(good, "req-1"), string(body), time.Minute, ErrSignature},
		{"no secret configured", nil, hdr(good, "req-1"), string(body), time.Minute, ErrSignature},
		{"flipped signature bit", secret, hdr(good[:len(good)-1]+flip(good[len(good)-1]), "req-1"), string(body), time.Minute, ErrSignature},

		{"stale", secret, hdr(Sign(secret, "req-1", "1000000001", now.Add(-10*time.Minute)), "req-1"), string(body), time.Minute, ErrStale},
		{"from the future", secret, hdr(Sign(secret, "req-1", "1000000001", now.Add(2*time.Minute)), "req-1"), string(body), time.Minute, ErrStale},
		{"stale under default tolerance", secret, hdr(Sign(secret, "req-1", "1000000001", now.Add(-6*time.Minute)), "req-1"), string(body), 0, ErrStale},

		{"missing signature header", secret, hdr("", "req-1"), string(body), time.Minute, ErrMalformed},
		{"missing request id", secret, hdr(good, ""), string(body), time.Minute, ErrMalformed},
		{"garbage header", secret, hdr("garbage", "req-1"), string(body), time.Minute, ErrMalformed},
		{"empty values", secret, hdr("ts=,v1=", "req-1"), string(body), time.Minute, ErrMalformed},
		{"no v1", secret, hdr("ts=1800000000", "req-1"), string(body), time.Minute, ErrMalformed},
		{"non-hex v1", secret, hdr("ts=1800000000,v1="+strings.Repeat("zz", 32), "req-1"), string(body), time.Minute, ErrMalformed},
		{"short v1", secret, hdr("ts=1800000000,v1=abcd", "req-1"), string(body), time.Minute, ErrMalformed},
		{"negative ts", secret, hdr("ts=-1,"+v1, "req-1"), string(body), time.Minute, ErrMalformed},
		{"repeated ts", secret, hdr(good+",ts=1", "req-1"), string(body), time.Minute, ErrMalformed},
		{"oversized header", secret, hdr(good+",x="+strings.Repeat("a", 600), "req-1"), string(body), time.Minute, ErrMalformed},
		{"body not JSON", secret, hdr(good, "req-1"), "id=1000000001", time.Minute, ErrMalformed},
		{"body without data.id", secret, hdr(good, "req-1"), `{"type":"payment","data":{}}`, time.Minute, ErrMalformed},
		{"body with object data.id", secret, hdr(good, "req-1"), `{"type":"payment","data":{"id":{"x":1}}}`, time.Minute, ErrMalformed},
		{"body without type", secret, hdr(good, "req-1"), `{"data":{"id":"1000000001"}}`, time.Minute, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Verify(tc.secret, tc.h, []byte(tc.body), now, tc.tol)
			if tc.want == nil && err != nil {
				t.Fatalf("want accepted, got %v", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("want %v, got %v", tc.want, err)
			}
		})
	}
}

func flip(c byte) string {
	if c == '0' {
		return "1"
	}
	return "0"
}

func TestAmounts(t *testing.T) {
	for s, ok := range map[string]bool{
		"49.00": true, "0.01": true, "1234567.89": true, "999999999999.99": true,
		"49": false, "49.0": false, "49.000": false, "049.00": false, "0.00": false, "-1.00": false,
		"1e3": false, "49,00": false, " 49.00": false, ".50": false, "1.2.3": false, "1000000000000.00": false, "": false,
	} {
		if validAmount(s) != ok {
			t.Errorf("validAmount(%q) = %v, want %v", s, !ok, ok)
		}
	}
	for in, want := range map[string]string{
		"49": "49.00", "49.5": "49.50", "49.50": "49.50", "49.500": "49.50", "0.01": "0.01", "007": "7.00", "0": "0.00",
		"49.505": "", "4.95e1": "", "-49": "", "": "", "49.": "", ".5": "", "1234567890123": "",
	} {
		got, ok := normalAmount(in)
		if got != want || ok != (want != "") {
			t.Errorf("normalAmount(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
