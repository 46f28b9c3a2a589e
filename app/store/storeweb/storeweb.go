// Package storeweb serves Configuración › Integraciones: connecting a
// Mercado Libre seller (the OAuth round trip), the connections and their
// sync pages, and the notifications callback Mercado Libre posts to. The
// rules are app/store's.
package storeweb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/calendar"
	"pulso/app/config"
	"pulso/app/live"
	"pulso/app/live/hub"
	"pulso/app/plans"
	"pulso/app/store"
	"pulso/app/store/mercadolibre"
	"pulso/app/web"
	"pulso/queries"
	"pulso/views/i18n"
	storeview "pulso/views/store"
	"pulso/workers/jobargs"
)

// Path is the integrations page.
const Path = "/integraciones"

var (
	listPage = web.Page{Title: "store.title", Nav: "integrations"}
	syncPage = web.Page{Title: "store.sync_title", Nav: "integrations"}
)

// Handler serves the integrations pages.
type Handler struct {
	web.Deps
	st      *store.Store
	keysErr error
}

// New builds the handlers; tokens are sealed under PULSO_SECRET.
func New(d web.Deps) *Handler {
	keys, err := d.Cfg.SealedKeys()
	return &Handler{Deps: d, keysErr: err, st: &store.Store{DB: d.DB, Keys: keys, Log: d.Log, ML: Client(d.Cfg)}}
}

// Client is the Mercado Libre client of the configured app.
func Client(cfg config.Config) *mercadolibre.Client {
	return mercadolibre.New(cfg.MercadoLibre())
}

// List is the page: the org's connected sellers and its store users.
func (h *Handler) List(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	conns, err := h.Q.ListStoreConnections(ctx, p.OrgID)
	if err != nil {
		return err
	}
	u, err := plans.UsageOf(ctx, h.Q, p.OrgID, p.Today(time.Now()))
	if err != nil {
		return err
	}
	d := storeview.List{StoreUsers: u.StoreUsers, Configured: h.Cfg.MLClientID != ""}
	if u.Plan != nil {
		d.Limit = int(u.Plan.StoreUsers)
	}
	for _, cn := range conns {
		d.Connections = append(d.Connections, connection(cn))
	}
	return web.Render(c, fiber.StatusOK, listPage, storeview.ListPage(d))
}

func connection(c queries.StoreConnection) storeview.Connection {
	v := storeview.Connection{ID: c.ID, Nickname: c.Nickname, SellerID: c.SellerID, State: c.State, Problem: c.Problem}
	for _, ch := range c.Channels {
		v.Channels = append(v.Channels, "store.channel."+ch)
	}
	return v
}

// Connect starts the round trip: the browser goes to Mercado Libre.
func (h *Handler) Connect(c *fiber.Ctx) error {
	if h.Cfg.MLClientID == "" {
		return web.NewError(fiber.StatusConflict, "store.unconfigured", nil)
	}
	p := web.MustPrincipal(c)
	to, err := h.st.Begin(c.UserContext(), p.OrgID, p.UserID)
	if err != nil {
		return err
	}
	return web.Redirect(c, to)
}

// Back is where Mercado Libre returns the admin with the code.
func (h *Handler) Back(c *fiber.Ctx) error {
	if h.keysErr != nil {
		return h.keysErr
	}
	p := web.MustPrincipal(c)
	if e := c.Query("error"); e != "" {
		web.Flash(c, "error", "store.denied")
		return web.Redirect(c, Path)
	}
	conn, err := h.st.Complete(c.UserContext(), p.OrgID, p.UserID, c.Query("state"), c.Query("code"), time.Now())
	var full *store.StoreUsersError
	switch {
	case errors.Is(err, store.ErrState):
		return web.NewError(fiber.StatusBadRequest, "store.bad_state", nil)
	case errors.Is(err, store.ErrTaken):
		return web.NewError(fiber.StatusConflict, "store.taken", nil)
	case errors.As(err, &full):
		// The page shows the store users used and the plan's limit.
		web.Flash(c, "error", "store.users_full")
		return web.Redirect(c, Path)
	case errors.Is(err, mercadolibre.ErrInvalidGrant):
		return web.NewError(fiber.StatusBadRequest, "store.bad_code", nil)
	case err != nil:
		return err
	}
	// The first catch-up brings the last 30 days of orders.
	if _, err := h.Jobs.Insert(c.UserContext(), jobargs.StoreCatchUp{OrgID: p.OrgID, ConnectionID: conn.ID}, nil); err != nil {
		return err
	}
	web.Flash(c, "success", "store.connected")
	return web.Redirect(c, Path+"/"+strconv.FormatInt(conn.ID, 10))
}

// load is the connection named by :id, of the signed-in org (connections
// belong to the org, not to a user: no scope); a disconnected one is gone.
func (h *Handler) load(c *fiber.Ctx) (queries.StoreConnection, error) {
	conn, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.StoreConnection, error) {
		return h.Q.GetStoreConnection(ctx, queries.GetStoreConnectionParams{OrgID: org, ID: id})
	}, nil)
	if err == nil && conn.State == "disconnected" {
		return conn, web.ErrNotFound
	}
	return conn, err
}

// Disconnect ends a connection.
func (h *Handler) Disconnect(c *fiber.Ctx) error {
	conn, err := h.load(c)
	if err != nil {
		return err
	}
	if err := h.st.Disconnect(c.UserContext(), conn.OrgID, conn.ID); err != nil {
		return err
	}
	web.Flash(c, "success", "store.disconnected")
	return web.Redirect(c, Path)
}

// Sync is a connection's sync page.
func (h *Handler) Sync(c *fiber.Ctx) error {
	conn, err := h.load(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	st, err := status(ctx, h.Q, conn, web.MustPrincipal(c).Location())
	if err != nil {
		return err
	}
	probs, err := h.Q.ListStoreOrderProblems(ctx, conn.OrgID)
	if err != nil {
		return err
	}
	d := storeview.Sync{Connection: connection(conn), Status: st}
	for _, pr := range probs {
		if pr.ConnectionID == conn.ID {
			p := storeview.Problem{OrderID: strconv.FormatInt(pr.OrderID, 10), State: pr.State, Error: pr.Error}
			if p.Params, err = i18n.Data(pr.ErrorParams); err != nil {
				return err
			}
			d.Problems = append(d.Problems, p)
		}
	}
	return web.Render(c, fiber.StatusOK, syncPage, storeview.SyncPage(d))
}

// SyncNow queues a catch-up of the connection ("sincronizar ahora").
func (h *Handler) SyncNow(c *fiber.Ctx) error {
	conn, err := h.load(c)
	if err != nil {
		return err
	}
	if _, err := h.Jobs.Insert(c.UserContext(), jobargs.StoreCatchUp{OrgID: conn.OrgID, ConnectionID: conn.ID}, nil); err != nil {
		return err
	}
	web.Flash(c, "success", "store.sync_queued")
	return web.Redirect(c, Path+"/"+strconv.FormatInt(conn.ID, 10))
}

// status is the sync block of a connection.
func status(ctx context.Context, q *queries.Queries, conn queries.StoreConnection, loc *time.Location) (storeview.Status, error) {
	s := storeview.Status{ConnectionID: conn.ID}
	n, err := q.CountStoreOrders(ctx, queries.CountStoreOrdersParams{OrgID: conn.OrgID, ConnectionID: conn.ID})
	if err != nil {
		return s, err
	}
	s.Invoiced, s.Problems = int(n.Invoiced), int(n.Problems)
	run, err := q.LastStoreSync(ctx, queries.LastStoreSyncParams{OrgID: conn.OrgID, ConnectionID: conn.ID})
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	s.Started = run.StartedAt.In(loc).Format("02/01/2006 15:04")
	s.Running = run.FinishedAt == nil
	if !s.Running {
		s.Finished = run.FinishedAt.In(loc).Format("15:04")
	}
	s.Total, s.Seen, s.Imported, s.Failed, s.Error = int(run.Total), int(run.Seen), int(run.Imported), int(run.Failed), run.Error
	switch {
	case !s.Running:
		s.Pct = 100
	case run.Total > 0:
		s.Pct = min(int(run.Seen*100/run.Total), 100)
	}
	return s, nil
}

// Notify is Mercado Libre's notifications callback: it must answer within
// 500 ms (§3), so it only queues the order's job; the job fetches the
// order, which is also the authenticity check (the body is not signed).
// A notification of another topic or of an unknown seller is acknowledged
// and dropped, or Mercado Libre would retry it for an hour.
func (h *Handler) Notify(c *fiber.Ctx) error {
	n, err := mercadolibre.ParseNotification(c.Body())
	if err != nil {
		return c.SendStatus(fiber.StatusBadRequest)
	}
	id, ok := n.OrderID()
	if !ok {
		return c.SendStatus(fiber.StatusOK)
	}
	ctx := c.UserContext()
	conn, err := h.Q.GetStoreConnectionBySeller(ctx, n.UserID)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && conn.State != "active" {
		return c.SendStatus(fiber.StatusOK)
	}
	if err != nil {
		return err
	}
	cause := n.ID
	if cause == "" {
		cause = fmt.Sprintf("%s@%s", n.Resource, n.Sent.Format(time.RFC3339Nano))
	}
	if _, err := h.Jobs.Insert(ctx, jobargs.StoreOrder{OrgID: conn.OrgID, ConnectionID: conn.ID, OrderID: id, Cause: cause}, nil); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusOK)
}

// RegisterLive pushes a sync's progress to its open page, to admins (the
// only ones who may open it). Times are written in the org's zone.
func RegisterLive(h *hub.Hub, q *queries.Queries) {
	h.Handle(live.TopicStore, hub.Topic{Render: func(ctx context.Context, ev live.Event, aud hub.Audience) ([]byte, error) {
		if ev.EntityID == nil || aud.Role != web.RoleAdmin {
			return nil, nil
		}
		run, err := q.GetStoreSync(ctx, queries.GetStoreSyncParams{OrgID: ev.OrgID, ID: *ev.EntityID})
		if err != nil {
			return nil, err
		}
		conn, err := q.GetStoreConnection(ctx, queries.GetStoreConnectionParams{OrgID: ev.OrgID, ID: run.ConnectionID})
		if err != nil {
			return nil, err
		}
		org, err := q.GetOrg(ctx, ev.OrgID)
		if err != nil {
			return nil, err
		}
		loc := calendar.ZoneOrUTC(org.TimeZone)
		st, err := status(ctx, q, conn, loc)
		if err != nil {
			return nil, err
		}
		var buf bytes.Buffer
		err = storeview.SyncStatus(st, true).Render(hub.RenderContext(ctx, aud), &buf)
		return buf.Bytes(), err
	}})
}
