// Package mlfake is a fake Mercado Libre for tests and the dev demo: the
// OAuth authorization-code flow with single-use codes and rotating
// refresh tokens, order search and reads, packs, orders_v2 notifications
// with retries and /missed_feeds, and failure injection (429, 5xx, slow
// answers, expired tokens), at once or after a number of calls. It
// follows the checklists of the shared reference notes (mercadolibre.md
// §1.8, §2.10, §3); comments cite them.
//
// One host serves both the browser endpoint (/authorization) and the API
// (/oauth/token, /orders/…), so URL() is both AuthURL and APIURL.
//
// Knowingly left out: the 12-month search window and the possible hiding
// of cancelled orders in seller searches (§2.1, §8: unverified), PKCE,
// and every resource the voucher flow does not read.
package mlfake

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Server is the fake; safe for concurrent use.
type Server struct {
	mu  sync.Mutex
	url string
	now func() time.Time
	// lastStamp makes every last_updated the server writes strictly later
	// than the previous one, so "updated since" filters are exact even
	// when the clock does not move between two changes.
	lastStamp time.Time

	apps     map[string]app // by client_id
	firstApp string
	sellers  map[int64]string
	loggedIn int64

	codes     map[string]grant
	access    map[string]grant
	refresh   map[string]grant
	refreshes map[int64]int
	lifetime  time.Duration

	orders map[int64]*Order

	fails    []*rule
	slows    []*rule
	expiries []*rule
	calls    map[string]int

	callback      string
	notifyTries   int
	notifyBackoff time.Duration
	notifyTimeout time.Duration
	notifyHTTP    *http.Client
	missed        []notification
	inflight      sync.WaitGroup

	seedID, seedPack int64
}

type app struct{ secret, redirect string }

// grant is what a code or token stands for.
type grant struct {
	client  string
	user    int64
	expires time.Time // zero: no expiry (refresh tokens)
	// redirect is the URI a code was issued for (§1.2: must match at the
	// exchange).
	redirect string
}

type rule struct {
	prefix string
	status int
	delay  time.Duration
	// hold, when set, replaces delay: the request waits until it closes.
	hold <-chan struct{}
	// skip is how many matching requests go through untouched before the
	// rule starts to apply: faults in the middle of a run of calls.
	skip       int
	left       int
	retryAfter time.Duration
}

// AccessLifetime is ML's access-token life, expires_in 21600 (§1.6).
const AccessLifetime = 6 * time.Hour

// codeLifetime: MP documents 10 minutes for its identical flow (§1.2).
const codeLifetime = 10 * time.Minute

// New returns an empty fake, not listening: mount Handler() or use Start.
func New() *Server {
	return &Server{
		now:     time.Now,
		apps:    map[string]app{},
		sellers: map[int64]string{},
		codes:   map[string]grant{}, access: map[string]grant{}, refresh: map[string]grant{},
		refreshes: map[int64]int{},
		lifetime:  AccessLifetime,
		orders:    map[int64]*Order{},
		calls:     map[string]int{},
		// ML wants an answer within 500 ms and retries for about an hour
		// (§3); the fake keeps the deadline but compresses the hour into a
		// few quick attempts so tests stay fast.
		notifyTries:   5,
		notifyBackoff: 20 * time.Millisecond,
		notifyTimeout: 500 * time.Millisecond,
		notifyHTTP:    &http.Client{},
		seedID:        2000001000000000,
		seedPack:      2000009000000000,
	}
}

// Start serves a new fake on a loopback port. close waits for pending
// notification deliveries, then stops the server.
func Start() (s *Server, url string, close func()) {
	s = New()
	ts := httptest.NewServer(s.Handler())
	s.mu.Lock()
	s.url = ts.URL
	s.mu.Unlock()
	return s, ts.URL, func() { s.Drain(); ts.Close() }
}

// URL is the base of both AuthURL and APIURL once started; "" for a
// Server mounted by hand with Handler.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// SetClock replaces time.Now, for tests that need exact dates. Token and
// code expiry follow it too.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// AddApp registers an application. ML client ids are numeric and double
// as the application_id of notifications; a non-numeric id works but its
// notifications carry application_id 0.
func (s *Server) AddApp(clientID, secret, redirectURI string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.apps[clientID] = app{secret: secret, redirect: redirectURI}
	if s.firstApp == "" {
		s.firstApp = clientID
	}
}

// AddSeller creates an ML user who can log in and sell.
func (s *Server) AddSeller(userID int64, nickname string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sellers[userID] = nickname
}

// LoginAs picks the user whose browser is at /authorization: consent is
// automatic.
func (s *Server) LoginAs(userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loggedIn = userID
}

// SetTokenLifetime changes expires_in for tokens issued from now on
// (§1.8.5: let tests shorten it).
func (s *Server) SetTokenLifetime(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lifetime = d
}

// ExpireAccessTokens makes every access token issued so far answer 401
// (§1.8.4); refresh tokens keep working.
func (s *Server) ExpireAccessTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
}

// ExpireAccessTokensAfter lets skip requests whose path starts with
// pathPrefix through, then expires every access token issued so far just
// before the next one is handled, which therefore gets ML's real 401
// (§1.8.4): a token dying in the middle of a run of calls.
func (s *Server) ExpireAccessTokensAfter(pathPrefix string, skip int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expiries = append(s.expiries, &rule{prefix: pathPrefix, skip: skip, left: 1})
}

// Revoke plays the seller removing the app's grant (or changing their
// password): every token of the user dies, so the next refresh gets
// invalid_grant (§1.6, §1.8.5).
func (s *Server) Revoke(userID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range []map[string]grant{s.access, s.refresh, s.codes} {
		for k, g := range m {
			if g.user == userID {
				delete(m, k)
			}
		}
	}
}

// RefreshCount is how many refresh grants succeeded for the user.
func (s *Server) RefreshCount(userID int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refreshes[userID]
}

// FailNext makes the next n requests whose path starts with pathPrefix
// answer status with ML's error body (§4.2); retryAfter > 0 adds a
// Retry-After header in whole seconds (ML documents none, §4.1).
func (s *Server) FailNext(pathPrefix string, status, n int, retryAfter time.Duration) {
	s.FailAfter(pathPrefix, 0, status, n, retryAfter)
}

// FailAfter is FailNext once skip matching requests went through: the
// third page of a search failing, say.
func (s *Server) FailAfter(pathPrefix string, skip, status, n int, retryAfter time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, &rule{prefix: pathPrefix, status: status, skip: skip, left: n, retryAfter: retryAfter})
}

// SlowNext delays the next n matching requests by d before they are
// answered (or fail, if FailNext also matches). A client that gives up
// early frees the handler at once.
func (s *Server) SlowNext(pathPrefix string, d time.Duration, n int) {
	s.SlowAfter(pathPrefix, 0, d, n)
}

// SlowAfter is SlowNext once skip matching requests went through.
func (s *Server) SlowAfter(pathPrefix string, skip int, d time.Duration, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slows = append(s.slows, &rule{prefix: pathPrefix, delay: d, skip: skip, left: n})
}

// HoldAfter is a slow answer whose end the test decides: once skip
// matching requests went through, the next one waits until release is
// called (or its client gives up), then is answered from the data as it
// is then — a test can change orders while a client waits for a page.
// release may be called more than once.
func (s *Server) HoldAfter(pathPrefix string, skip int) (release func()) {
	ch := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.slows = append(s.slows, &rule{prefix: pathPrefix, hold: ch, skip: skip, left: 1})
	var once sync.Once
	return func() { once.Do(func() { close(ch) }) }
}

// Calls counts the requests seen whose path starts with pathPrefix,
// failed and slowed ones included.
func (s *Server) Calls(pathPrefix string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for p, c := range s.calls {
		if strings.HasPrefix(p, pathPrefix) {
			n += c
		}
	}
	return n
}

// take consumes one use of the first live rule matching path; a rule
// still skipping counts the request and lets it go on to the next rule.
func take(rules []*rule, path string) (rule, bool) {
	for _, r := range rules {
		if r.left <= 0 || !strings.HasPrefix(path, r.prefix) {
			continue
		}
		if r.skip > 0 {
			r.skip--
			continue
		}
		r.left--
		return *r, true
	}
	return rule{}, false
}

// Handler serves the fake's endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorization", s.authorize)
	mux.HandleFunc("POST /oauth/token", s.token)
	mux.HandleFunc("GET /orders/search", s.search)
	mux.HandleFunc("GET /orders/{id}", s.order)
	mux.HandleFunc("GET /packs/{id}", s.pack)
	mux.HandleFunc("GET /missed_feeds", s.missedFeeds)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeErr(w, http.StatusNotFound, "not_found", "resource "+r.URL.Path+" not found")
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[r.URL.Path]++
		slow, isSlow := take(s.slows, r.URL.Path)
		fail, isFail := take(s.fails, r.URL.Path)
		if _, expire := take(s.expiries, r.URL.Path); expire {
			clear(s.access)
		}
		s.mu.Unlock()
		if isSlow {
			// The server notices a client that gave up only once the
			// request's body is read: read it first, so a slowed POST
			// /oauth/token is let go of as promptly as a GET.
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err != nil {
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var timer <-chan time.Time
			if slow.hold == nil {
				t := time.NewTimer(slow.delay)
				defer t.Stop()
				timer = t.C
			}
			select {
			case <-timer:
			case <-slow.hold:
			case <-r.Context().Done():
				return
			}
		}
		if isFail {
			injected(w, r, fail)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

func injected(w http.ResponseWriter, r *http.Request, f rule) {
	if f.retryAfter > 0 {
		secs := int((f.retryAfter + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	switch {
	case f.status == http.StatusTooManyRequests && r.URL.Path == "/oauth/token":
		writeErr(w, f.status, "local_rate_limited", "Too Many Requests") // §1.7
	case f.status == http.StatusTooManyRequests:
		writeErr(w, f.status, "too_many_requests", "Too Many Requests") // §4.2
	case f.status == http.StatusUnauthorized:
		writeUnauthorized(w)
	case f.status == http.StatusForbidden:
		writeForbidden(w)
	default:
		code := strings.ReplaceAll(strings.ToLower(http.StatusText(f.status)), " ", "_")
		writeErr(w, f.status, code, http.StatusText(f.status))
	}
}

// writeErr writes ML's standard error body (§4.2).
func writeErr(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "error": code, "status": status, "cause": []any{}})
}

// writeUnauthorized uses the observed expired-token body (§4.2), whose
// "error" is not_found: one reason clients must go by the status.
func writeUnauthorized(w http.ResponseWriter) {
	writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "invalid_token", "error": "not_found", "status": 401, "cause": []any{}})
}

// writeForbidden uses the 403 body of ML's error-403 page (§4.2).
func writeForbidden(w http.ResponseWriter) {
	writeJSON(w, http.StatusForbidden, map[string]any{"status": 403, "error": "access_denied", "message": "access to the requested resource is forbidden", "code": "FORBIDDEN"})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// user resolves the bearer token of an API call; ok false means a 401 was
// written. The legacy access_token query parameter is refused so a client
// that still sends it fails loudly in tests (§1.6).
func (s *Server) user(w http.ResponseWriter, r *http.Request) (grant, bool) {
	tok, found := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	s.mu.Lock()
	g, known := s.access[tok]
	now := s.now()
	s.mu.Unlock()
	if r.URL.Query().Has("access_token") || !found || !known || !now.Before(g.expires) {
		writeUnauthorized(w)
		return grant{}, false
	}
	return g, true
}

// stamp is the next last_updated: now to the millisecond ML dates carry,
// strictly after the previous stamp. Callers hold s.mu.
func (s *Server) stamp() time.Time {
	t := s.now().Truncate(time.Millisecond)
	if !t.After(s.lastStamp) {
		t = s.lastStamp.Add(time.Millisecond)
	}
	s.lastStamp = t
	return t
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// appID is the application_id of notifications: the first app's numeric
// client id (§3).
func (s *Server) appID() int64 {
	id, _ := strconv.ParseInt(s.firstApp, 10, 64)
	return id
}
