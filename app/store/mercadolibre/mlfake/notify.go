package mlfake

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// notification is the §3 body.
type notification struct {
	ID            string `json:"_id"`
	Resource      string `json:"resource"`
	UserID        int64  `json:"user_id"`
	Topic         string `json:"topic"`
	ApplicationID int64  `json:"application_id"`
	Attempts      int    `json:"attempts"`
	Sent          string `json:"sent"`
	Received      string `json:"received"`
}

// utcMillis is how notification timestamps are written: UTC (§3).
const utcMillis = "2006-01-02T15:04:05.000Z"

// SetCallback sets the app's callback URL (§3). Empty stops deliveries:
// new notifications then go straight to /missed_feeds.
func (s *Server) SetCallback(url string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.callback = url
}

// SetNotifyRetry sets how many attempts a notification gets and the pause
// between them. ML retries for about an hour (§3, §8: exact schedule
// unknown); the default, 5 attempts 20 ms apart, compresses that.
func (s *Server) SetNotifyRetry(attempts int, backoff time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notifyTries, s.notifyBackoff = max(attempts, 1), backoff
}

// Notify sends an orders_v2 notification for the order now, in the
// background: POST to the callback, retried with attempts+1 on any answer
// but 200 or on no answer within 500 ms, and kept for /missed_feeds once
// the attempts run out (§3). Drain waits for the outcome.
func (s *Server) Notify(orderID int64) { s.NotifyDuplicate(orderID, 1) }

// NotifyDuplicate sends the same notification (same _id and resource)
// times times, each delivered and retried on its own: ML's delivery is
// at-least-once (§3).
func (s *Server) NotifyDuplicate(orderID int64, times int) {
	s.mu.Lock()
	o, ok := s.orders[orderID]
	if !ok {
		s.mu.Unlock()
		panic("mlfake: Notify of unknown order " + strconv.FormatInt(orderID, 10))
	}
	n := notification{
		ID:            fmt.Sprintf("%s-%s-%s-%s-%s", randHex(4), randHex(2), randHex(2), randHex(2), randHex(6)),
		Resource:      "/orders/" + strconv.FormatInt(orderID, 10),
		UserID:        o.SellerID,
		Topic:         "orders_v2",
		ApplicationID: s.appID(),
		Received:      s.now().UTC().Format(utcMillis),
	}
	target, tries, backoff, timeout := s.callback, s.notifyTries, s.notifyBackoff, s.notifyTimeout
	if target == "" {
		for range times {
			n.Attempts = 0
			s.missed = append(s.missed, n)
		}
		s.mu.Unlock()
		return
	}
	s.inflight.Add(times)
	s.mu.Unlock()
	for range times {
		go func() {
			defer s.inflight.Done()
			s.deliver(target, n, tries, backoff, timeout)
		}()
	}
}

func (s *Server) deliver(target string, n notification, tries int, backoff, timeout time.Duration) {
	for attempt := 1; attempt <= tries; attempt++ {
		if attempt > 1 {
			time.Sleep(backoff)
		}
		s.mu.Lock()
		n.Attempts = attempt
		n.Sent = s.now().UTC().Format(utcMillis)
		s.mu.Unlock()
		if s.post(target, n, timeout) {
			return
		}
	}
	s.mu.Lock()
	s.missed = append(s.missed, n)
	s.mu.Unlock()
}

// post reports whether the receiver took the notification: 200 within
// the deadline (§3).
func (s *Server) post(target string, n notification, timeout time.Duration) bool {
	body, _ := json.Marshal(n)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.notifyHTTP.Do(req)
	if err != nil {
		return false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Drain waits until every notification sent so far was delivered or given
// up on.
func (s *Server) Drain() { s.inflight.Wait() }

// missedFeeds is GET /missed_feeds?app_id= (§3): notifications that ran
// out of attempts, filtered by topic and paged. The reference gives no
// body; {"messages": […], "paging": {…}} is a plausible shape.
func (s *Server) missedFeeds(w http.ResponseWriter, r *http.Request) {
	g, ok := s.user(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	app, err := strconv.ParseInt(q.Get("app_id"), 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", "app_id is required")
		return
	}
	if strconv.FormatInt(app, 10) != g.client {
		writeForbidden(w)
		return
	}
	limit, offset := 50, 0
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 0 || limit > 50 {
			writeErr(w, http.StatusBadRequest, "bad_request", "invalid limit "+v)
			return
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			writeErr(w, http.StatusBadRequest, "bad_request", "invalid offset "+v)
			return
		}
	}
	topic := q.Get("topic")
	s.mu.Lock()
	var hits []notification
	for _, n := range s.missed {
		if n.ApplicationID == app && (topic == "" || n.Topic == topic) {
			hits = append(hits, n)
		}
	}
	s.mu.Unlock()
	total := len(hits)
	hits = hits[min(offset, total):min(offset+limit, total)]
	if hits == nil {
		hits = []notification{}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"messages": hits,
		"paging":   map[string]any{"total": total, "offset": offset, "limit": limit},
	})
}
