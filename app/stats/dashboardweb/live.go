package dashboardweb

import (
	"bytes"
	"context"
	"net/url"
	"slices"
	"time"

	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/web"
	dashboardview "pulso/views/dashboard"
	"pulso/views/i18n"
)

// LiveView is the name an open dashboard (and a rep's numbers on their
// home) follows over its socket.
const LiveView = "dashboard"

// topicEvents maps the live topics that move tiles to the tiles' event
// names (tileDef.events).
var topicEvents = map[string]string{
	live.TopicOpportunity: "deals",
	live.TopicQuote:       "quotes",
	live.TopicTask:        "tasks",
	live.TopicInvoice:     "invoices",
}

// RegisterLive lets open dashboards follow their tiles: an event re-renders
// the tiles it may move, once per group of dashboards with the same scope,
// filters and language, and the hub pushes them (hub/views.go). A page's
// own GETs of a tile are for a resync after its socket reconnects.
func (h *Handler) RegisterLive(lh *hub.Hub) {
	topics := make([]string, 0, len(topicEvents))
	for t := range topicEvents {
		topics = append(topics, t)
	}
	slices.Sort(topics)
	lh.HandleView(LiveView, hub.View{Topics: topics, Open: h.follow})
}

// follower is one followed dashboard: its viewer and query, checked.
type follower struct {
	h      *Handler
	p      *web.Principal
	query  url.Values
	locale string
	key    string
}

// follow checks a page's filters for p exactly as the page's request did
// (a bad or out-of-scope filter is refused).
func (h *Handler) follow(ctx context.Context, p *web.Principal, q url.Values) (hub.Follower, error) {
	locale := p.Locale
	if locale == "" {
		locale = i18n.Default
	}
	f := &follower{h: h, p: p, query: q, locale: locale}
	r, err := h.requestOf(ctx, f.get, p, locale, time.Now())
	if err != nil {
		return nil, err
	}
	f.key = r.key()
	return f, nil
}

func (f *follower) Key() string { return f.key }

// Render re-renders, out of band, the tiles of the page that events of
// topics may move. The filters are read again, as a reload would: the
// month may have turned, a team changed.
func (f *follower) Render(ctx context.Context, topics []string) ([]byte, error) {
	r, err := f.h.requestOf(ctx, f.get, f.p, f.locale, time.Now())
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	for _, def := range tiles {
		if !def.may(f.p.Role) || (r.compact && !isCompact(def.name)) || !def.movedBy(topics) {
			continue
		}
		t, err := r.tile(def)
		if err != nil {
			return nil, err
		}
		t.OOB = true
		if err := dashboardview.TileView(t).Render(r.ctx, &buf); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

func (f *follower) get(k string, _ ...string) string { return f.query.Get(k) }

// movedBy reports whether events of one of topics may move the tile.
func (t tileDef) movedBy(topics []string) bool {
	for _, topic := range topics {
		if slices.Contains(t.events, topicEvents[topic]) {
			return true
		}
	}
	return false
}
