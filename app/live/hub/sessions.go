package hub

import (
	"context"
	"time"

	"pulso/app/web"
)

// A socket lives only as long as its session, and only with the rights it
// was opened with. Two paths find the ones to close, and both end in one
// batched query (the SessionChecker), never a query per socket:
//
//   - Principal events (a logout, a deactivation, a role change, an expiry
//     cut short: triggers write them, migration 0012) reach every process
//     through the outbox poller; auth.WatchSessions calls Recheck for the
//     user, and their sockets are checked at once, so they close within a
//     poll plus one query.
//   - A session that simply runs out announces nothing. Each socket knows
//     when its session ends unless used again; a periodic sweep
//     (Config.SessionCheck) checks the sockets whose end has passed. Most
//     are found extended by use elsewhere and learn their new end; the
//     rest close. A new socket is checked at the next sweep too, which
//     closes the gap between the upgrade's session lookup (possibly from a
//     cache a poll behind) and the socket joining the hub.

// SessionState is what a socket's session is now.
type SessionState struct {
	// Role is the user's role now; a socket opened with another role is
	// closed (its audience was decided with the old one).
	Role web.Role
	// EndsAt is when the session ends unless used again.
	EndsAt time.Time
}

// SessionChecker returns, keyed by string(hash), the sessions among hashes
// that still open something; a hash left out has ended.
type SessionChecker func(ctx context.Context, hashes [][]byte) (map[string]SessionState, error)

// checkBatch bounds the hashes sent in one query.
const checkBatch = 1000

// CheckSessions names how sockets' sessions are checked. Without it (a hub
// built only to test fan-out) sockets are never checked.
func (h *Hub) CheckSessions(f SessionChecker) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checker = f
}

// Recheck asks for the sockets of a user to be checked now: their session
// may have ended or their rights changed. It does not wait.
func (h *Hub) Recheck(orgID, userID int64) {
	h.mu.Lock()
	h.pending[member{orgID, userID}] = struct{}{}
	h.mu.Unlock()
	select {
	case h.recheck <- struct{}{}:
	default: // a check is already due
	}
}

// sessionChecker runs the checks until ctx ends.
func (h *Hub) sessionChecker(ctx context.Context) {
	t := time.NewTicker(h.cfg.SessionCheck)
	defer t.Stop()
	for {
		sweep := false
		select {
		case <-t.C:
			sweep = true
		case <-h.recheck:
		case <-ctx.Done():
			return
		}
		h.checkSessions(ctx, sweep)
	}
}

// checkSessions checks the sockets of the users named by Recheck and, on a
// sweep, every socket whose session's known end has passed.
func (h *Hub) checkSessions(ctx context.Context, sweep bool) {
	now := time.Now()
	h.mu.Lock()
	check := h.checker
	pending := h.pending
	h.pending = map[member]struct{}{}
	var due []*socket
	if sweep {
		for _, set := range h.orgs {
			for s := range set {
				if _, ok := pending[member{s.orgID, s.userID}]; ok || !now.Before(s.checkAt) {
					due = append(due, s)
				}
			}
		}
	} else {
		for k := range pending {
			for s := range h.orgs[k.org] {
				if s.userID == k.user {
					due = append(due, s)
				}
			}
		}
	}
	h.mu.Unlock()
	if check == nil || len(due) == 0 {
		return
	}
	for len(due) > 0 {
		n := min(len(due), checkBatch)
		batch := due[:n]
		due = due[n:]
		hashes := make([][]byte, 0, n)
		seen := make(map[string]bool, n)
		for _, s := range batch {
			if !seen[string(s.session)] {
				seen[string(s.session)] = true
				hashes = append(hashes, s.session)
			}
		}
		open, err := check(ctx, hashes)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Warn("live session check failed; retrying", "error", err)
			}
			// The users asked about are asked about again at the next sweep;
			// due sockets stay due.
			h.mu.Lock()
			for k := range pending {
				h.pending[k] = struct{}{}
			}
			h.mu.Unlock()
			return
		}
		h.mu.Lock()
		for _, s := range batch {
			if st, ok := open[string(s.session)]; ok && st.Role == s.role {
				s.checkAt = st.EndsAt
			}
		}
		h.mu.Unlock()
		for _, s := range batch {
			if st, ok := open[string(s.session)]; !ok || st.Role != s.role {
				h.m.ended.Inc()
				s.end(closeSessionEnded)
			}
		}
	}
}
