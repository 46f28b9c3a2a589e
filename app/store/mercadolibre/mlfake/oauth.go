package mlfake

import (
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// invalidGrantMsg is the body text ML really sends (§1.7).
const invalidGrantMsg = "Error validating grant. Your authorization code or refresh token may be expired or it was already used"

// authorize is the browser step (§1.2, §1.8.1): the logged-in user
// consents at once and goes back to the app with code and state. Errors
// are pages for a person, not JSON, as on the real host.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	a, known := s.apps[q.Get("client_id")]
	switch {
	case q.Get("response_type") != "code":
		http.Error(w, "response_type must be code", http.StatusBadRequest)
		return
	case !known:
		http.Error(w, "unknown application", http.StatusBadRequest)
		return
	case q.Get("redirect_uri") != a.redirect:
		http.Error(w, "redirect_uri does not match the application's", http.StatusBadRequest)
		return
	}
	if _, ok := s.sellers[s.loggedIn]; !ok {
		http.Error(w, "nobody is logged in (mlfake: call LoginAs)", http.StatusUnauthorized)
		return
	}
	// TG-<24 hex>-<user_id> (§1.2).
	code := fmt.Sprintf("TG-%s-%d", randHex(12), s.loggedIn)
	s.codes[code] = grant{client: q.Get("client_id"), user: s.loggedIn, redirect: a.redirect, expires: s.now().Add(codeLifetime)}
	back, err := url.Parse(a.redirect)
	if err != nil {
		http.Error(w, "bad redirect_uri", http.StatusBadRequest)
		return
	}
	bq := back.Query()
	bq.Set("code", code)
	if st := q.Get("state"); st != "" {
		bq.Set("state", st)
	}
	back.RawQuery = bq.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// token is POST /oauth/token for both grants (§1.3–1.5, §1.8.2–3).
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	// §1.3: credentials belong in the body; a client putting them in the
	// URL is the bug this catches.
	if r.URL.RawQuery != "" {
		writeErr(w, http.StatusBadRequest, "invalid_request", "parameters must be sent in the request body")
		return
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/x-www-form-urlencoded" {
		writeErr(w, http.StatusBadRequest, "invalid_request", "content-type must be application/x-www-form-urlencoded")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		writeErr(w, http.StatusBadRequest, "invalid_request", "malformed body")
		return
	}
	f := r.PostForm
	for k, v := range f {
		if len(v) > 1 {
			writeErr(w, http.StatusBadRequest, "invalid_request", "duplicated parameter "+k)
			return
		}
	}
	client := f.Get("client_id")
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[client]
	if !ok || f.Get("client_secret") != a.secret {
		writeErr(w, http.StatusBadRequest, "invalid_client", "invalid client_id or client_secret")
		return
	}
	now := s.now()
	var user int64
	switch f.Get("grant_type") {
	case "authorization_code":
		code := f.Get("code")
		g, ok := s.codes[code]
		// Single use: a code is spent by its first presentation, right or
		// wrong (§1.2).
		delete(s.codes, code)
		if !ok || g.client != client || !now.Before(g.expires) || f.Get("redirect_uri") != g.redirect {
			writeErr(w, http.StatusBadRequest, "invalid_grant", invalidGrantMsg)
			return
		}
		user = g.user
	case "refresh_token":
		rt := f.Get("refresh_token")
		g, ok := s.refresh[rt]
		if !ok || g.client != client {
			writeErr(w, http.StatusBadRequest, "invalid_grant", invalidGrantMsg)
			return
		}
		// Rotation (§1.6): the presented token dies here, under the lock,
		// so of two concurrent refreshes with it exactly one succeeds.
		delete(s.refresh, rt)
		s.refreshes[g.user]++
		user = g.user
	case "":
		writeErr(w, http.StatusBadRequest, "invalid_request", "missing grant_type")
		return
	default:
		writeErr(w, http.StatusBadRequest, "unsupported_grant_type", "unsupported grant_type")
		return
	}
	// APP_USR-<client_id>-<MMddHH>-<hash>-<user_id> and TG-<24 hex>-<user_id>
	// (§1.5).
	access := fmt.Sprintf("APP_USR-%s-%s-%s-%d", client, now.UTC().Format("010215"), randHex(16), user)
	refresh := fmt.Sprintf("TG-%s-%d", randHex(12), user)
	s.access[access] = grant{client: client, user: user, expires: now.Add(s.lifetime)}
	s.refresh[refresh] = grant{client: client, user: user}
	secs := int64((s.lifetime + time.Second - 1) / time.Second)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token":  access,
		"token_type":    "Bearer",
		"expires_in":    max(secs, 1),
		"scope":         "offline_access read write",
		"user_id":       user,
		"refresh_token": refresh,
	})
}

// TokenFor issues an access token for userID as if it had gone through
// the code flow, for demos and tests that are not about OAuth.
func (s *Server) TokenFor(clientID string, userID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	access := fmt.Sprintf("APP_USR-%s-%s-%s-%s", clientID, now.UTC().Format("010215"), randHex(16), strconv.FormatInt(userID, 10))
	s.access[access] = grant{client: clientID, user: userID, expires: now.Add(s.lifetime)}
	return access
}
