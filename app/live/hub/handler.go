package hub

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"pulso/app/web"
	"pulso/queries"
)

// Locals that carry the upgrading request's user into the socket goroutine.
const (
	teamKey    = "pulso.live.team"
	userKey    = "pulso.live.user"
	requestKey = "pulso.live.request"
)

// Handler serves GET /ws: signed-in users from our own origin only.
func (h *Hub) Handler() fiber.Handler {
	upgrade := websocket.New(h.serve, websocket.Config{
		// Small buffers and a shared write pool: most sockets are idle
		// most of the time, and memory per socket is what limits a node.
		ReadBufferSize:  512,
		WriteBufferSize: 1024,
		WriteBufferPool: &sync.Pool{},
	})
	return func(c *fiber.Ctx) error {
		p := web.CurrentPrincipal(c)
		// A socket is bound to its session (sessions.go): without one to
		// check it could not be closed when access ends.
		if p == nil || len(p.SessionHash) == 0 || !h.originAllowed(c.Get(fiber.HeaderOrigin)) {
			return web.NewError(fiber.StatusUnauthorized, "error.unauthorized", nil)
		}
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		var team map[int64]struct{} // nil unless a manager: most sockets are reps'
		if p.Role == web.RoleManager {
			team = map[int64]struct{}{}
			ids, err := h.q.ListTeamIDs(c.UserContext(), queries.ListTeamIDsParams{OrgID: p.OrgID, ManagerID: &p.UserID})
			if err != nil {
				return err
			}
			for _, id := range ids {
				team[id] = struct{}{}
			}
		}
		c.Locals(teamKey, team)
		c.Locals(userKey, p)
		c.Locals(requestKey, c.Context())
		stripForUpgrade(&c.Request().Header)
		return upgrade(c)
	}
}

// upgradeHeaders are the request headers the WebSocket handshake reads.
var upgradeHeaders = map[string]bool{
	"Host": true, "Connection": true, "Upgrade": true, "Origin": true,
	"Sec-Websocket-Key": true, "Sec-Websocket-Version": true,
	"Sec-Websocket-Extensions": true, "Sec-Websocket-Protocol": true,
}

// stripForUpgrade drops every other request header (cookies included; the
// session was already read). contrib/websocket copies all headers, cookies
// and query args of the upgrade request into maps that live as long as the
// socket, about 1.5 KB of a browser's request nobody reads again.
func stripForUpgrade(h *fasthttp.RequestHeader) {
	var drop []string
	h.VisitAll(func(k, _ []byte) {
		if !upgradeHeaders[string(k)] {
			drop = append(drop, string(k))
		}
	})
	for _, k := range drop {
		h.Del(k)
	}
}

// originAllowed compares the browser's Origin with PULSO_BASE_URL's, so
// another site cannot open a socket with the user's cookie.
func (h *Hub) originAllowed(origin string) bool {
	if origin == "" {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Scheme+"://"+u.Host, h.cfg.Origin)
}

// serve is the socket's only goroutine: it reads pongs, closes and the
// page's subscriptions (views.go) until the connection ends.
func (h *Hub) serve(c *websocket.Conn) {
	p, _ := c.Locals(userKey).(*web.Principal)
	team, _ := c.Locals(teamKey).(map[int64]struct{})
	if fctx, ok := c.Locals(requestKey).(*fasthttp.RequestCtx); ok {
		// fasthttp keeps the upgrade's request context (parsed headers,
		// cookies, the 101 response) until this handler returns, i.e. for
		// the socket's life. The response is written by now and nothing
		// reads the request again, so let their buffers go.
		fctx.Request = fasthttp.Request{}
		fctx.Response = fasthttp.Response{}
	}
	if p == nil {
		_ = c.Close()
		return
	}
	// checkAt now: the first sweep confirms the session (see sessions.go).
	s := &socket{hub: h, conn: c.Conn, orgID: p.OrgID, userID: p.UserID, role: p.Role, locale: p.Locale, team: team,
		session: p.SessionHash, checkAt: time.Now()}
	s.idle = sync.NewCond(&s.mu)
	switch h.add(s) {
	case added:
	case refusedOverCap:
		h.m.refused.Inc()
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeTooMany, "too many live connections"), time.Now().Add(time.Second))
		_ = c.Close()
		return
	default:
		_ = c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeGoingAway, ""), time.Now().Add(time.Second))
		_ = c.Close()
		return
	}
	defer s.waitWriters()
	defer s.kill()
	c.SetReadLimit(4096)
	_ = c.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	c.SetPongHandler(func(string) error { return c.SetReadDeadline(time.Now().Add(h.cfg.PongWait)) })
	for {
		kind, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
		if kind == websocket.TextMessage {
			// Handled here, one at a time: a page cannot queue lookups
			// faster than they run.
			h.subscribe(context.Background(), s, msg)
		}
	}
}
