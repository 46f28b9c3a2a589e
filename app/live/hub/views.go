package hub

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"sync"
	"time"

	"pulso/app/live"
	"pulso/app/web"
)

// Views: parts of a page the hub keeps current by itself. Most live
// fragments are rendered once per audience (Topic), which suits a card or a
// toast; a dashboard tile depends on the page's own filters too, which
// only the page knows. So the page tells its socket what it shows (a view
// name and its query, static/js/pulso.js), the view checks it for the
// session's user once, and when an event of the view's topics reaches the
// socket the hub renders the parts it may have moved, once per group of
// sockets that see the same thing, and pushes them. Without this every
// open page would fetch its parts after each event: 200 open dashboards
// meant 200 requests after a deal was won.
//
// Pushes are coalesced: while a group's render is queued, more events only
// widen what it re-renders; one group renders on one worker at a time, so
// an older rendering never lands after a newer one.

// View is one kind of live page part.
type View struct {
	// Topics are the events that may change the view.
	Topics []string
	// Open checks a page's query for the signed-in user p and returns what
	// renders the view for them. An error refuses the subscription (the
	// page keeps the parts it has, and reloads them on a resync).
	Open func(ctx context.Context, p *web.Principal, query url.Values) (Follower, error)
}

// Follower renders one subscribed view.
type Follower interface {
	// Key is equal for followers that render the same bytes for every
	// event (same org, scope, filters and language): each key renders once.
	Key() string
	// Render returns the out-of-band fragments of the parts that events of
	// these topics may have moved; no bytes, nothing is sent.
	Render(ctx context.Context, topics []string) ([]byte, error)
}

// PrincipalResolver returns the signed-in user of a session (by the stored
// hash of its cookie), or nil when it has ended.
type PrincipalResolver func(ctx context.Context, sessionHash []byte) (*web.Principal, error)

// HandleView registers a view under name, the name pages subscribe with.
func (h *Hub) HandleView(name string, v View) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.views[name] = v
}

// ResolvePrincipals names how a subscribing socket's user is found; without
// it (a hub built only to test fan-out) subscriptions are refused.
func (h *Hub) ResolvePrincipals(f PrincipalResolver) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.resolve = f
}

// following is a socket's subscription. It is replaced, never changed.
type following struct {
	view string
	key  string
	f    Follower
}

// subscription is what a page sends over its socket: the view it shows and
// that view's query ("" view: none).
type subscription struct {
	View  string `json:"view"`
	Query string `json:"query"`
}

// subscribeTimeout bounds the lookups one subscription may cost.
const subscribeTimeout = 5 * time.Second

// subscribe handles one message from a page. A message that is not a
// subscription, names an unknown view or a query the view refuses leaves
// the socket following nothing; the page is told which view it follows
// (ack), so a test or a script can wait for it.
func (h *Hub) subscribe(ctx context.Context, s *socket, msg []byte) {
	var sub subscription
	_ = json.Unmarshal(msg, &sub)
	h.mu.RLock()
	v, known := h.views[sub.View]
	resolve := h.resolve
	h.mu.RUnlock()
	var fl *following
	if known && resolve != nil {
		ctx, cancel := context.WithTimeout(ctx, subscribeTimeout)
		fl = h.open(ctx, s, sub, v, resolve)
		cancel()
	}
	h.mu.Lock()
	s.follow = fl
	h.mu.Unlock()
	name := ""
	if fl != nil {
		name = fl.view
	}
	s.enqueue(message{op: opText, data: ack(name)})
}

func (h *Hub) open(ctx context.Context, s *socket, sub subscription, v View, resolve PrincipalResolver) *following {
	q, err := url.ParseQuery(sub.Query)
	if err != nil {
		return nil
	}
	p, err := resolve(ctx, s.session)
	if err != nil {
		h.log.Warn("live view: principal lookup failed", "view", sub.View, "error", err)
		return nil
	}
	// The socket's audience was decided with the role it was opened with;
	// a changed role closes it (sessions.go), so it never follows as another.
	if p == nil || p.OrgID != s.orgID || p.UserID != s.userID || p.Role != s.role {
		return nil
	}
	f, err := v.Open(ctx, p, q)
	if err != nil {
		return nil
	}
	return &following{view: sub.View, key: sub.View + "\x00" + f.Key(), f: f}
}

// ack is the fragment that tells the page what its socket follows.
func ack(view string) []byte {
	return []byte(`<span id="live-view" hidden hx-swap-oob="true" data-view="` + view + `"></span>`)
}

// follow queues, for every socket of ev's org that follows a view of ev's
// topic and may hear of ev, a re-render of its view. The caller holds h.mu
// for reading.
func (h *Hub) follow(ev live.Event, owned bool) {
	for s := range h.orgs[ev.OrgID] {
		fl := s.follow
		if fl == nil || s.ending.Load() || !slices.Contains(h.views[fl.view].Topics, ev.Topic) || !s.mayReceive(ev, owned) {
			continue
		}
		h.pushes.add(fl, ev.Topic, s)
	}
}

// pushJob is one group's pending re-render.
type pushJob struct {
	fl      *following
	topics  []string
	sockets map[*socket]struct{}
}

// pusher queues and runs the views' re-renders.
type pusher struct {
	mu      sync.Mutex
	pending map[string]*pushJob // by key, not yet started
	order   []string            // pending keys, oldest first
	running map[string]bool     // keys a worker is rendering
	wake    chan struct{}
}

func newPusher() *pusher {
	return &pusher{pending: map[string]*pushJob{}, running: map[string]bool{}, wake: make(chan struct{}, 1)}
}

func (p *pusher) add(fl *following, topic string, s *socket) {
	p.mu.Lock()
	j := p.pending[fl.key]
	if j == nil {
		j = &pushJob{fl: fl, sockets: map[*socket]struct{}{}}
		p.pending[fl.key] = j
		p.order = append(p.order, fl.key)
	}
	if !slices.Contains(j.topics, topic) {
		j.topics = append(j.topics, topic)
	}
	j.sockets[s] = struct{}{}
	p.mu.Unlock()
	p.signal()
}

func (p *pusher) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// next takes the oldest pending job whose key no worker is rendering.
func (p *pusher) next() *pushJob {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, key := range p.order {
		if p.running[key] {
			continue
		}
		p.order = slices.Delete(p.order, i, i+1)
		j := p.pending[key]
		delete(p.pending, key)
		p.running[key] = true
		if len(p.order) > 0 {
			p.signal() // another worker may take the rest
		}
		return j
	}
	return nil
}

func (p *pusher) done(key string) {
	p.mu.Lock()
	delete(p.running, key)
	more := len(p.order) > 0
	p.mu.Unlock()
	if more {
		p.signal()
	}
}

// viewWorkers render views; renders read the database, so a few run at
// once, and one slow group does not hold up the others.
const viewWorkers = 4

// pushWorker renders queued views until ctx ends.
func (h *Hub) pushWorker(ctx context.Context) {
	for {
		j := h.pushes.next()
		if j == nil {
			select {
			case <-h.pushes.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		html, err := j.fl.f.Render(ctx, j.topics)
		h.pushes.done(j.fl.key)
		if err != nil {
			if ctx.Err() == nil {
				h.log.Error("render live view", "view", j.fl.view, "error", err)
			}
			continue
		}
		if len(html) == 0 {
			continue
		}
		to := make([]*socket, 0, len(j.sockets))
		h.mu.RLock()
		for s := range j.sockets {
			// A page that changed its filters since follows another key.
			if s.follow != nil && s.follow.key == j.fl.key {
				to = append(to, s)
			}
		}
		h.mu.RUnlock()
		// Queued outside the lock: a socket too far behind is dropped,
		// which takes the lock.
		for _, s := range to {
			s.enqueue(message{op: opText, data: html})
		}
		h.m.viewPushes.Inc()
	}
}
