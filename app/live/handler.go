package live

import (
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"

	"pulso/app/web"
	"pulso/queries"
)

// Locals that carry the upgrading request's user into the socket goroutine.
const (
	teamKey = "pulso.live.team"
	userKey = "pulso.live.user"
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
		if p == nil || !h.originAllowed(c.Get(fiber.HeaderOrigin)) {
			return web.NewError(fiber.StatusUnauthorized, "error.unauthorized", nil)
		}
		if !websocket.IsWebSocketUpgrade(c) {
			return fiber.ErrUpgradeRequired
		}
		team := map[int64]struct{}{}
		if p.Role == web.RoleManager {
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
		return upgrade(c)
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

// serve is the socket's only goroutine: it reads (pongs and closes; client
// messages are ignored) until the connection ends.
func (h *Hub) serve(c *websocket.Conn) {
	p, _ := c.Locals(userKey).(*web.Principal)
	team, _ := c.Locals(teamKey).(map[int64]struct{})
	if p == nil {
		_ = c.Close()
		return
	}
	s := &socket{hub: h, conn: c.Conn, orgID: p.OrgID, userID: p.UserID, role: p.Role, locale: p.Locale, team: team}
	s.idle = sync.NewCond(&s.mu)
	if !h.add(s) {
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
		if _, _, err := c.ReadMessage(); err != nil {
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(h.cfg.PongWait))
	}
}
