package hub

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fasthttp/websocket"

	"pulso/app/live"
	"pulso/app/web"
)

type op uint8

const (
	opText op = iota
	opPing
	opClose
)

// WebSocket close codes (RFC 6455 §7.4.1, IANA registry; 4000-4999 are
// private use). static/js/pulso.js acts on each.
const (
	closeGoingAway = websocket.CloseGoingAway // 1001: server shutting down
	// closeSessionEnded: the socket's session ended or its role changed
	// (sessions.go). The page reloads, which shows the login page or the
	// page as the new role.
	closeSessionEnded = 4001
	// closeTooMany refuses a socket beyond Config.MaxPerUser or MaxPerOrg.
	// The htmx extension retries only abnormal closes, so the page stays
	// offline instead of knocking every few seconds.
	closeTooMany = 4429
)

type message struct {
	op   op
	code int
	data []byte
}

// socket is one browser connection of one user of one org. It owns no
// goroutine for writing: enqueue schedules it onto the hub's writer pool.
type socket struct {
	hub    *Hub
	conn   *websocket.Conn
	orgID  int64
	userID int64
	role   web.Role
	locale string
	team   map[int64]struct{} // users a manager may follow
	// session is the stored hash of the session cookie the socket was
	// opened with; checkAt (guarded by hub.mu) is when it is next checked.
	session []byte
	checkAt time.Time
	// follow is the view the page follows, or nil (views.go); guarded by
	// hub.mu.
	follow *following
	// ending is set once the socket is to close for its session: it
	// receives no more events while its close is written.
	ending atomic.Bool

	mu        sync.Mutex
	queue     []message
	scheduled bool
	closed    bool
	// writing is true while a writer uses conn; the socket's goroutine waits
	// for it to end before returning, because the library recycles the
	// connection as soon as the handler returns.
	writing bool
	idle    *sync.Cond
}

// mayReceive is the audience rule: an event about a user reaches that user,
// the managers above them and admins; an org-wide event reaches everyone,
// except that an event of an owned topic with no subject (an unowned deal)
// reaches only those who see unowned records (web.Role.SeesAll).
func (s *socket) mayReceive(ev live.Event, owned bool) bool {
	if ev.OrgID != s.orgID {
		return false
	}
	if ev.SubjectUserID == nil {
		return !owned || s.role.SeesAll()
	}
	// Whoever sees every record (admins, accountants) hears of every one;
	// the same rule as their lists (web.Scope), or a read-only board would
	// go stale.
	if s.role.SeesAll() || *ev.SubjectUserID == s.userID {
		return true
	}
	_, inTeam := s.team[*ev.SubjectUserID]
	return s.role == web.RoleManager && inTeam
}

// enqueue queues m, scheduling the socket for writing. A socket whose queue
// is full is too slow to keep: it is dropped, never waited for.
func (s *socket) enqueue(m message) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= s.hub.cfg.QueueLen && m.op == opText {
		s.mu.Unlock()
		s.hub.m.dropped.Inc()
		s.kill()
		return
	}
	s.queue = append(s.queue, m)
	schedule := !s.scheduled
	s.scheduled = true
	s.mu.Unlock()
	if schedule {
		s.hub.work <- s
	}
}

// writer drains scheduled sockets; one socket is written by at most one
// writer at a time (the scheduled flag), as the WebSocket library requires.
func (h *Hub) writer(ctx context.Context) {
	for {
		var s *socket
		select {
		case s = <-h.work:
		case <-ctx.Done():
			return
		}
		for {
			s.mu.Lock()
			batch := s.queue
			s.queue = nil
			if len(batch) == 0 || s.closed {
				s.scheduled = false
				s.mu.Unlock()
				break
			}
			s.writing = true
			s.mu.Unlock()
			ok := s.writeAll(batch)
			s.mu.Lock()
			s.writing = false
			s.idle.Broadcast()
			s.mu.Unlock()
			if !ok {
				s.kill()
				break
			}
		}
	}
}

func (s *socket) writeAll(batch []message) bool {
	for _, m := range batch {
		deadline := time.Now().Add(s.hub.cfg.WriteTimeout)
		var err error
		switch m.op {
		case opText:
			if err = s.conn.SetWriteDeadline(deadline); err == nil {
				err = s.conn.WriteMessage(websocket.TextMessage, m.data)
			}
			if err == nil {
				s.hub.m.delivered.Inc()
			}
		case opPing:
			err = s.conn.WriteControl(websocket.PingMessage, nil, deadline)
		case opClose:
			_ = s.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(m.code, ""), deadline)
			return false
		}
		if err != nil {
			s.hub.m.dropped.Inc()
			return false
		}
	}
	return true
}

// waitWriters blocks until no writer is using the connection (writes have
// deadlines, so this is bounded).
func (s *socket) waitWriters() {
	s.mu.Lock()
	for s.writing {
		s.idle.Wait()
	}
	s.mu.Unlock()
}

// end closes the socket with code after what is already queued for it,
// and stops new events from reaching it.
func (s *socket) end(code int) {
	if s.ending.Swap(true) {
		return
	}
	s.enqueue(message{op: opClose, code: code})
}

// kill closes the connection; the socket's reader then returns and the hub
// forgets it.
func (s *socket) kill() {
	s.mu.Lock()
	already := s.closed
	s.closed = true
	s.queue = nil
	s.mu.Unlock()
	if !already {
		_ = s.conn.Close()
	}
	s.hub.remove(s)
}
