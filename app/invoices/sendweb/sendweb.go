// Package sendweb serves an invoice's sends: the fragment the invoice page
// loads (/invoices/:id/sends) with its forms and actions, the customer's
// link (/i/:token), and the live rendering of invoice events.
package sendweb

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/app/invoices/sends"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	view "pulso/views/invoicesends"
)

// Handler serves the sends of invoices.
type Handler struct{ web.Deps }

// New builds the handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

var panelPage = web.Page{Title: "invoices.sends.title", Nav: "invoices", Fragment: "invoice-sends"}

func (h *Handler) sender() sends.Sender {
	return sends.Sender{Jobs: h.Jobs, Links: h.Cfg.LinkKeys(), BaseURL: h.Cfg.BaseURL.String()}
}

// owned is an invoice with its customer's owner, whose scope decides who
// sees and sends it (the PREAMBLE's invoicing roles: any role, within the
// customer's scope).
type owned struct {
	inv   queries.Invoice
	owner *int64
}

// load finds the route's invoice within the viewer's scope; anything else
// is 404.
func (h *Handler) load(c *fiber.Ctx) (queries.Invoice, error) {
	o, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (owned, error) {
		inv, err := h.Q.GetInvoice(ctx, queries.GetInvoiceParams{OrgID: org, ID: id})
		if err != nil || inv.CustomerID == nil {
			return owned{inv: inv}, err
		}
		owner, err := h.Q.CustomerOwner(ctx, queries.CustomerOwnerParams{OrgID: org, ID: *inv.CustomerID})
		return owned{inv: inv, owner: owner}, err
	}, func(o owned) *int64 { return o.owner })
	return o.inv, err
}

// loadSend is the route's :send of the route's invoice (404 otherwise).
func (h *Handler) loadSend(c *fiber.Ctx, inv queries.Invoice) (queries.InvoiceSend, error) {
	id, err := strconv.ParseInt(c.Params("send"), 10, 64)
	if err != nil || id <= 0 {
		return queries.InvoiceSend{}, web.ErrNotFound
	}
	s, err := h.Q.GetInvoiceSend(c.UserContext(), queries.GetInvoiceSendParams{OrgID: inv.OrgID, ID: id})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && s.InvoiceID != inv.ID) {
		return s, web.ErrNotFound
	}
	return s, err
}

// state is what the panel renders besides the rows: the form's values and
// errors, and a notice after an action.
type state struct {
	status     int
	values     map[string]string
	errors     map[string]string
	editID     int64
	notice     string
	noticeData map[string]any
}

// Show is GET /invoices/:id/sends: the fragment.
func (h *Handler) Show(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	return h.render(c, inv, state{})
}

func (h *Handler) render(c *fiber.Ctx, inv queries.Invoice, st state) error {
	ctx := c.UserContext()
	p := web.MustPrincipal(c)
	loc := p.Location()
	now := time.Now().In(loc)
	v := view.Panel{InvoiceID: inv.ID, Sendable: inv.State == invoices.Issued, Zone: loc.String(), MinDate: now.Format("2006-01-02"),
		Values: st.values, Errors: st.errors, EditID: st.editID, Notice: st.notice, NoticeData: st.noticeData}
	switch inv.State {
	case invoices.Draft:
		v.NotSendable = "invoices.sends.draft"
	case invoices.Voided:
		v.NotSendable = "invoices.sends.voided"
	}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	if v.Values == nil {
		v.Values = map[string]string{"date": now.Format("2006-01-02")}
		if r, err := h.Q.InvoiceRecipient(ctx, queries.InvoiceRecipientParams{OrgID: inv.OrgID, InvoiceID: inv.ID}); err == nil {
			v.Values["to"] = r.Email
		}
	}
	rows, err := h.Q.ListInvoiceSends(ctx, queries.ListInvoiceSendsParams{OrgID: inv.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	stamp := func(t time.Time) string { return t.In(loc).Format("02/01/2006 15:04") }
	to := map[int64]string{}
	for _, r := range rows {
		to[r.ID] = r.ToAddress
		s := view.Send{ID: r.ID, State: r.State, To: r.ToAddress, ToName: r.ToName, By: r.CreatedByName, Resend: r.Resend,
			EmailStatus: r.EmailStatus, Opens: r.Opens, Failure: r.Failure, At: stamp(r.ScheduledAt),
			Date: r.ScheduledAt.In(loc).Format("2006-01-02"), Time: r.ScheduledAt.In(loc).Format("15:04")}
		if r.SentAt != nil {
			s.At = stamp(*r.SentAt)
		}
		if r.LastOpenedAt != nil {
			s.LastOpen = stamp(*r.LastOpenedAt)
		}
		v.Sends = append(v.Sends, s)
	}
	opens, err := h.Q.ListInvoiceOpens(ctx, queries.ListInvoiceOpensParams{OrgID: inv.OrgID, InvoiceID: inv.ID})
	if err != nil {
		return err
	}
	for _, o := range opens {
		ip := ""
		if o.IP != nil {
			ip = o.IP.String()
		}
		v.Opens = append(v.Opens, view.Open{At: stamp(o.At), IP: ip, UserAgent: o.UserAgent, To: to[o.SendID]})
	}
	status := st.status
	if status == 0 {
		status = fiber.StatusOK
	}
	return web.Render(c, status, panelPage, view.Sends(v))
}

// problems turns a refusal into field messages (nil: not a refusal).
func problems(err error) map[string]string {
	var bad invoices.Invalid
	if !errors.As(err, &bad) {
		return nil
	}
	out := map[string]string{}
	for f, p := range bad {
		out[f] = p.ID
	}
	return out
}

// finish answers an action: the panel with a notice, or with the field
// messages of a refusal (422).
func (h *Handler) finish(c *fiber.Ctx, inv queries.Invoice, err error, values map[string]string, editID int64, ok state) error {
	if errs := problems(err); errs != nil {
		return h.render(c, inv, state{status: fiber.StatusUnprocessableEntity, values: values, errors: errs, editID: editID})
	}
	if err != nil {
		return err
	}
	// The invoice may have changed state meanwhile (voided): read it again.
	if fresh, err := h.Q.GetInvoice(c.UserContext(), queries.GetInvoiceParams{OrgID: inv.OrgID, ID: inv.ID}); err == nil {
		inv = fresh
	}
	return h.render(c, inv, ok)
}

// Create is POST /invoices/:id/sends: send now (when=now) or schedule
// (when=later, with date and time in the org's zone).
func (h *Handler) Create(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	values := map[string]string{"to": c.FormValue("to"), "date": c.FormValue("date"), "time": c.FormValue("time")}
	in := sends.Input{OrgID: p.OrgID, InvoiceID: inv.ID, To: values["to"], By: &p.UserID, Now: time.Now()}
	if in.To == "" {
		// An empty field is a choice to make, not the customer's address.
		return h.finish(c, inv, invoices.Invalid{"to": {ID: "invoices.sends.to_required"}}, values, 0, state{})
	}
	var row queries.InvoiceSend
	if c.FormValue("when") == "later" {
		at, perr := sends.ParseAt(values["date"], values["time"], p.Location())
		err = perr
		if perr == nil {
			err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
				row, err = h.sender().Schedule(ctx, tx, in, at)
				return err
			})
		}
		return h.finish(c, inv, err, values, 0, state{notice: "invoices.sends.done_scheduled",
			noticeData: map[string]any{"At": row.ScheduledAt.In(p.Location()).Format("02/01/2006 15:04")}})
	}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		row, err = h.sender().Send(ctx, tx, in)
		return err
	})
	return h.finish(c, inv, err, values, 0, state{notice: "invoices.sends.done_sent", noticeData: map[string]any{"To": row.ToAddress}})
}

// Reschedule is POST /invoices/:id/sends/:send/reschedule.
func (h *Handler) Reschedule(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	s, err := h.loadSend(c, inv)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	values := map[string]string{"to": c.FormValue("to"), "date": c.FormValue("date"), "time": c.FormValue("time")}
	var row queries.InvoiceSend
	at, err := sends.ParseAt(values["date"], values["time"], p.Location())
	if err == nil {
		err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
			// The form asks no name: Reschedule keeps or renews the greeting.
			row, err = h.sender().Reschedule(ctx, tx, p.OrgID, s.ID, values["to"], "", at, &p.UserID, time.Now())
			return err
		})
	}
	return h.finish(c, inv, err, values, s.ID, state{notice: "invoices.sends.done_scheduled",
		noticeData: map[string]any{"At": row.ScheduledAt.In(p.Location()).Format("02/01/2006 15:04")}})
}

// Cancel is POST /invoices/:id/sends/:send/cancel.
func (h *Handler) Cancel(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	s, err := h.loadSend(c, inv)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := sends.Cancel(ctx, tx, p.OrgID, s.ID, &p.UserID)
		return err
	})
	return h.finish(c, inv, err, nil, s.ID, state{notice: "invoices.sends.done_cancelled"})
}

// Resend is POST /invoices/:id/sends/:send/resend: the same address, now.
func (h *Handler) Resend(c *fiber.Ctx) error {
	inv, err := h.load(c)
	if err != nil {
		return err
	}
	s, err := h.loadSend(c, inv)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	var row queries.InvoiceSend
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		row, err = h.sender().Resend(ctx, tx, p.OrgID, s.ID, &p.UserID, time.Now())
		return err
	})
	return h.finish(c, inv, err, nil, s.ID, state{notice: "invoices.sends.done_sent", noticeData: map[string]any{"To": row.ToAddress}})
}
