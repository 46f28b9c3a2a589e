package mercadolibre

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The sentinels follow the client rule of thumb of §4.2; match them with
// errors.Is. Each arrives wrapped in an *APIError that keeps the status and
// ML's message.
var (
	// ErrUnauthorized (401): the access token expired or was revoked; the
	// caller refreshes once and retries the call once.
	ErrUnauthorized = errors.New("mercadolibre: unauthorized")
	// ErrForbidden (403): another seller's resource, a blocked app or
	// missing scopes; retrying cannot help, the connection is broken.
	ErrForbidden = errors.New("mercadolibre: forbidden")
	// ErrNotFound (404): the resource does not exist; skip it.
	ErrNotFound = errors.New("mercadolibre: not found")
	// ErrInvalidGrant (400 invalid_grant from /oauth/token): the code or
	// refresh token is expired, already used or revoked (§1.7); the seller
	// must connect again.
	ErrInvalidGrant = errors.New("mercadolibre: invalid grant")
)

// DefaultRetryAfter is the wait suggested for a 429 without a Retry-After
// header. ML documents no such header (§4.1, §8), so most 429s land here;
// ten seconds is a polite first step for the exponential backoff ML asks
// for (§4.1).
const DefaultRetryAfter = 10 * time.Second

// APIError is a non-2xx answer that is neither a 429 nor a 5xx. Code and
// Message come from ML's error body when it has one (§4.2, §1.7); their
// exact values vary between services, so only Status and the sentinels are
// meant for decisions.
type APIError struct {
	Op      string // e.g. "GET /orders/search"
	Status  int
	Code    string // ML's "error" (or "code") field, e.g. "invalid_grant"
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("mercadolibre: %s: %d %s: %s", e.Op, e.Status, e.Code, e.Message)
}

// Unwrap maps the status to the sentinel the caller acts on.
func (e *APIError) Unwrap() error {
	switch {
	case e.Status == http.StatusUnauthorized:
		return ErrUnauthorized
	case e.Status == http.StatusForbidden:
		return ErrForbidden
	case e.Status == http.StatusNotFound:
		return ErrNotFound
	case e.Status == http.StatusBadRequest && e.Code == "invalid_grant":
		return ErrInvalidGrant
	}
	return nil
}

// RateLimited is a 429 (§4.1). RetryAfter is the server's Retry-After when
// it sent one, else DefaultRetryAfter.
type RateLimited struct {
	Op         string
	RetryAfter time.Duration
	Message    string
}

func (e *RateLimited) Error() string {
	return fmt.Sprintf("mercadolibre: %s: 429 rate limited (retry after %s): %s", e.Op, e.RetryAfter, e.Message)
}

// ServerError is a 5xx; the same call may succeed later. RetryAfter is
// set only when the server sent the header (503s sometimes do).
type ServerError struct {
	Op         string
	Status     int
	RetryAfter time.Duration
	Message    string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("mercadolibre: %s: %d server error: %s", e.Op, e.Status, e.Message)
}

// Retryable says whether repeating the same call later may succeed: 429,
// 5xx, network failures and timeouts (a context deadline included — the
// job retries with a fresh context). A cancelled context is not: somebody
// chose to stop.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var rl *RateLimited
	var se *ServerError
	switch {
	case errors.As(err, &rl), errors.As(err, &se):
		return true
	case errors.Is(err, context.Canceled):
		return false
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	}
	var ne net.Error // *url.Error satisfies it: every transport failure
	return errors.As(err, &ne)
}

// RetryAfter is the wait the server asked for: a 429's RetryAfter (never
// zero), a 5xx's Retry-After header, else 0 (the caller's own backoff).
func RetryAfter(err error) time.Duration {
	var rl *RateLimited
	if errors.As(err, &rl) {
		return rl.RetryAfter
	}
	var se *ServerError
	if errors.As(err, &se) {
		return se.RetryAfter
	}
	return 0
}

// statusError reads a failed answer's body for its message and classifies
// it. The body shapes differ between ML services (§4.2): message/error/
// status/cause, or code/message, or plain text from a proxy.
func statusError(op string, resp *http.Response, body io.Reader) error {
	raw, _ := io.ReadAll(io.LimitReader(body, 64<<10))
	var b struct {
		Message          string `json:"message"`
		Error            string `json:"error"`
		ErrorDescription string `json:"error_description"`
		Code             string `json:"code"`
	}
	code, msg := "", ""
	if json.Unmarshal(raw, &b) == nil {
		code, msg = b.Error, b.Message
		if code == "" {
			code = b.Code
		}
		if msg == "" {
			msg = b.ErrorDescription
		}
	}
	if msg == "" {
		msg = strings.TrimSpace(string(raw))
		if len(msg) > 200 {
			msg = msg[:200]
		}
	}
	if msg == "" {
		msg = http.StatusText(resp.StatusCode)
	}
	ra := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	switch {
	case resp.StatusCode == http.StatusTooManyRequests:
		if ra <= 0 {
			ra = DefaultRetryAfter
		}
		return &RateLimited{Op: op, RetryAfter: ra, Message: msg}
	case resp.StatusCode >= 500:
		return &ServerError{Op: op, Status: resp.StatusCode, RetryAfter: ra, Message: msg}
	}
	return &APIError{Op: op, Status: resp.StatusCode, Code: code, Message: msg}
}

// parseRetryAfter reads either form HTTP allows: delta seconds or a date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
