package checkout

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Webhook is a verified notification: which resource changed. It says
// nothing trustworthy about the payment's state; fetch it with
// Provider.Payment.
type Webhook struct {
	RequestID string    // x-request-id: the same across duplicates and retries of one event
	DataID    string    // data.id: the payment id when Type is "payment"
	Type      string    // "payment", ...
	Action    string    // "payment.created", "payment.updated", ...
	TS        time.Time // when the provider signed this delivery
}

// Verification failures. The receiver answers all of them with a 4xx and
// applies nothing; they are distinct for logs and metrics: ErrSignature is
// a forgery or a wrong secret, ErrStale a replay (or a badly skewed clock),
// ErrMalformed something that is not a notification at all.
var (
	ErrSignature = errors.New("checkout: webhook signature does not match")
	ErrStale     = errors.New("checkout: webhook timestamp outside tolerance")
	ErrMalformed = errors.New("checkout: malformed webhook")
)

// DefaultTolerance is how far a delivery's ts may be from now when Verify
// is given no tolerance. Each delivery is signed when sent, so minutes
// cover clock skew and queueing; a recorded request replayed later fails.
const DefaultTolerance = 5 * time.Minute

// Header names, lower-case as the provider sends them; http.Header
// canonicalises either way.
const (
	HeaderSignature = "x-signature"
	HeaderRequestID = "x-request-id"
)

// maxHeader bounds what Verify parses from the signature and request-id
// headers: real ones are under 100 bytes.
const maxHeader = 512

// Sign returns the x-signature value for a delivery: ts in Unix seconds
// and v1, the hex HMAC-SHA256 of the manifest with secret. The fake
// provider signs with it, and tests forge with it.
func Sign(secret []byte, requestID, dataID string, ts time.Time) string {
	t := strconv.FormatInt(ts.Unix(), 10)
	return "ts=" + t + ",v1=" + hex.EncodeToString(mac(secret, dataID, requestID, t))
}

// mac is HMAC-SHA256 over the documented manifest. The ts goes in as the
// header wrote it (not re-formatted) since that is what was signed. An
// alphanumeric data.id is signed lower-cased, per the same documentation;
// payment ids are digits, so it only matters for other resources.
func mac(secret []byte, dataID, requestID, ts string) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte("id:" + strings.ToLower(dataID) + ";request-id:" + requestID + ";ts:" + ts + ";"))
	return h.Sum(nil)
}

// Verify checks a webhook delivery and returns what it names. body is the
// raw request body. The signature is checked before the age, so a stale
// error means a genuine delivery that is too old (a replay), never a
// forgery. tolerance <= 0 means DefaultTolerance.
//
// Only data.id, x-request-id and ts are signed: Type and Action could be
// altered in transit without failing Verify, one more reason to act on the
// fetched payment alone.
//
// A duplicate (same RequestID) within the tolerance passes again: Verify
// is stateless, the caller's apply-once on Payment.ID absorbs it.
func Verify(secret []byte, header http.Header, body []byte, now time.Time, tolerance time.Duration) (Webhook, error) {
	if len(secret) == 0 {
		// An unset secret would make every forger's empty-key HMAC valid.
		return Webhook{}, fmt.Errorf("%w: no webhook secret configured", ErrSignature)
	}
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	sig := header.Get(HeaderSignature)
	if sig == "" {
		return Webhook{}, fmt.Errorf("%w: no %s header", ErrMalformed, HeaderSignature)
	}
	tsRaw, v1, err := parseSignature(sig)
	if err != nil {
		return Webhook{}, err
	}
	requestID := header.Get(HeaderRequestID)
	if requestID == "" || len(requestID) > maxHeader {
		return Webhook{}, fmt.Errorf("%w: no or oversized %s header", ErrMalformed, HeaderRequestID)
	}
	w, err := parseBody(body)
	if err != nil {
		return Webhook{}, err
	}
	w.RequestID = requestID
	if !hmac.Equal(v1, mac(secret, w.DataID, requestID, tsRaw)) {
		return Webhook{}, ErrSignature
	}
	w.TS = parseTS(tsRaw)
	if d := now.Sub(w.TS); d > tolerance || d < -tolerance {
		return Webhook{}, fmt.Errorf("%w: signed %s, now %s", ErrStale, w.TS.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339))
	}
	return w, nil
}

// parseSignature reads "ts=<digits>,v1=<64 hex>". Parts may carry spaces
// and come in any order; unknown keys (a future v2) are ignored; a repeated
// key is refused rather than guessed between.
func parseSignature(s string) (ts string, v1 []byte, err error) {
	if len(s) > maxHeader {
		return "", nil, fmt.Errorf("%w: oversized %s", ErrMalformed, HeaderSignature)
	}
	var v1hex string
	var seenTS, seenV1 bool
	for _, part := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return "", nil, fmt.Errorf("%w: %s part %q is not key=value", ErrMalformed, HeaderSignature, part)
		}
		switch strings.TrimSpace(k) {
		case "ts":
			if seenTS {
				return "", nil, fmt.Errorf("%w: ts given twice", ErrMalformed)
			}
			seenTS, ts = true, strings.TrimSpace(v)
		case "v1":
			if seenV1 {
				return "", nil, fmt.Errorf("%w: v1 given twice", ErrMalformed)
			}
			seenV1, v1hex = true, strings.TrimSpace(v)
		}
	}
	// 13+ digits would be milliseconds; 19 digits already overflow what
	// parseTS handles, and no honest clock is there.
	if !digits(ts) || len(ts) > 16 {
		return "", nil, fmt.Errorf("%w: ts %q is not a Unix time", ErrMalformed, ts)
	}
	v1, err = hex.DecodeString(v1hex)
	if err != nil || len(v1) != sha256.Size {
		return "", nil, fmt.Errorf("%w: v1 is not a hex SHA-256", ErrMalformed)
	}
	return ts, v1, nil
}

// parseTS reads the header's ts. The documented example is Unix seconds;
// some SDK examples show milliseconds (13 digits), so those are read as
// such instead of landing some 50,000 years off and failing as stale.
func parseTS(ts string) time.Time {
	n, _ := strconv.ParseInt(ts, 10, 64) // digits, at most 16: fits
	if len(ts) >= 13 {
		return time.UnixMilli(n)
	}
	return time.Unix(n, 0)
}

// parseBody reads the notification's JSON. data.id is a string in payment
// notifications; a bare number is accepted too and kept as written, since
// it is signed as text.
func parseBody(body []byte) (Webhook, error) {
	var n struct {
		Type   string `json:"type"`
		Action string `json:"action"`
		Data   struct {
			ID json.RawMessage `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return Webhook{}, fmt.Errorf("%w: body: %v", ErrMalformed, err)
	}
	id, ok := idText(n.Data.ID)
	if !ok || id == "" {
		return Webhook{}, fmt.Errorf("%w: body has no data.id", ErrMalformed)
	}
	if n.Type == "" {
		return Webhook{}, fmt.Errorf("%w: body has no type", ErrMalformed)
	}
	return Webhook{DataID: id, Type: n.Type, Action: n.Action}, nil
}

// idText reads an id the provider may write as a JSON string or number.
func idText(raw json.RawMessage) (string, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if raw[0] == '"' {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		return s, true
	}
	if !digits(string(raw)) {
		return "", false
	}
	return string(raw), true
}
