// Package ledgerweb serves the VERI*FACTU pages of an org: its records
// with their sending state and AEAT answers, each record's XML (auditors
// and the AEAT may ask for it), the chain check, and Pulso's declaración
// responsable. The records and the check are billing's (app.go guards
// them); the declaration is public information.
package ledgerweb

import (
	"context"
	"errors"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/invoices"
	"pulso/app/live"
	"pulso/app/verifactu"
	"pulso/app/verifactu/ledger"
	"pulso/app/web"
	"pulso/queries"
	ledgerview "pulso/views/ledger"
)

// Handler serves /verifactu.
type Handler struct{ web.Deps }

// New builds the VERI*FACTU page handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

var (
	recordsPage = web.Page{Title: "verifactu.ledger.title", Nav: "verifactu"}
	verifyPage  = web.Page{Title: "verifactu.ledger.verify_title", Nav: "verifactu"}
	declPage    = web.Page{Title: "verifactu.decl.title", Nav: "verifactu"}
)

// Records is /verifactu: the counts by sending state and the records,
// newest first, filtered by state and kind, a page at a time.
func (h *Handler) Records(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	counts, err := ledger.Count(ctx, h.Q, p.OrgID)
	if err != nil {
		return err
	}
	v := ledgerview.RecordsPage{Status: c.Query("status"), Kind: c.Query("kind"), Statuses: ledger.Statuses, Kinds: ledger.Kinds}
	for _, s := range ledger.Statuses {
		v.Counts = append(v.Counts, ledgerview.Count{Status: s, N: counts[s]})
	}
	f := ledger.Filter{Status: v.Status, Kind: v.Kind}
	if b := c.Query("before"); b != "" {
		if f.Before, err = strconv.ParseInt(b, 10, 64); err != nil || f.Before <= 0 {
			return web.ErrNotFound
		}
	}
	page, err := ledger.List(ctx, h.Q, p.OrgID, f)
	if errors.Is(err, ledger.ErrFilter) {
		// A hand-edited URL: say so next to the filter, list nothing.
		v.Error = "verifactu.ledger.bad_filter"
		v.Status, v.Kind = "", ""
		return web.Render(c, fiber.StatusUnprocessableEntity, recordsPage, ledgerview.Records(v))
	}
	if err != nil {
		return err
	}
	loc := p.Location()
	var refused []int64
	for _, r := range page.Records {
		if r.Status == "rejected" || (r.Status == "accepted_with_errors" && r.Kind == "alta") {
			refused = append(refused, r.ID)
		}
	}
	corrected := map[int64]bool{}
	if len(refused) > 0 {
		ids, err := h.Q.CorrectedVerifactuRecords(ctx, queries.CorrectedVerifactuRecordsParams{OrgID: p.OrgID, Ids: refused})
		if err != nil {
			return err
		}
		for _, id := range ids {
			corrected[id] = true
		}
	}
	for _, r := range page.Records {
		// The record's DD-MM-AAAA issue date, shown as dd/mm/aaaa.
		rv := ledgerview.Record{ID: r.ID, InvoiceID: r.InvoiceID, Seq: r.Seq, Kind: r.Kind, IssuerNIF: r.IssuerNif, Number: r.NumSerie,
			Date: strings.ReplaceAll(r.FechaExpedicion, "-", "/"), Tipo: deref(r.TipoFactura), Status: r.Status, AnswerText: r.AnswerText,
			Recorded: r.CreatedAt.In(loc).Format("02/01/2006 15:04")}
		if r.AnswerCode != nil {
			rv.AnswerCode = strconv.Itoa(int(*r.AnswerCode))
		}
		rv.Correctable = slices.Contains(refused, r.ID) && !corrected[r.ID]
		v.Records = append(v.Records, rv)
	}
	if page.Next != 0 {
		q := "/verifactu?before=" + strconv.FormatInt(page.Next, 10)
		if v.Status != "" {
			q += "&status=" + v.Status
		}
		if v.Kind != "" {
			q += "&kind=" + v.Kind
		}
		v.MoreURL = q
	}
	return web.Render(c, fiber.StatusOK, recordsPage, ledgerview.Records(v))
}

// XML is /verifactu/records/:id/xml: the record exactly as stored (and
// sent), as a download.
func (h *Handler) XML(c *fiber.Ctx) error {
	r, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.GetVerifactuRecordXMLRow, error) {
		return h.Q.GetVerifactuRecordXML(ctx, queries.GetVerifactuRecordXMLParams{OrgID: org, ID: id})
	}, nil)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/xml; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+ledger.Filename(r.Kind, r.IssuerNif, r.Seq, r.NumSerie)+`"`)
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.Send(r.Xml)
}

// Resubmit is POST /verifactu/records/:id/resubmit: the corrected
// resubmission of a record the AEAT refused or accepted with errors, for
// the cases the sender leaves to a person (invoices.Resubmit says which),
// queued for sending at once.
func (h *Handler) Resubmit(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	id, err := web.ID(c)
	if err != nil {
		return err
	}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := invoices.Resubmit(ctx, tx, h.Jobs, p.OrgID, id, time.Now())
		return err
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return web.ErrNotFound
	case errors.Is(err, invoices.ErrNotCorrectable):
		web.Flash(c, "error", "verifactu.ledger.not_correctable")
	case errors.Is(err, invoices.ErrVoidedSince):
		web.Flash(c, "error", "verifactu.ledger.voided_since")
	case err != nil:
		return err
	default:
		web.Flash(c, "success", "verifactu.ledger.resubmitted")
	}
	return web.Redirect(c, "/verifactu")
}

// Verify is /verifactu/verify: every chain of the org recomputed, each
// with the first link that does not hold.
func (h *Handler) Verify(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	chains, err := ledger.Verify(c.UserContext(), h.Q, p.OrgID)
	if err != nil {
		return err
	}
	v := ledgerview.VerifyPage{OK: ledger.OK(chains)}
	for _, ch := range chains {
		cv := ledgerview.Chain{NIF: ch.IssuerNIF, Checked: ch.Checked, Head: ch.Head}
		if b := ch.Break; b != nil {
			cv.Broken, cv.Seq, cv.RecordID, cv.InvoiceID = true, b.Seq, b.RecordID, b.InvoiceID
			cv.Number, cv.Problem, cv.Detail = b.Number, string(b.Problem), b.Detail
		}
		v.Chains = append(v.Chains, cv)
	}
	return web.Render(c, fiber.StatusOK, verifyPage, ledgerview.Verify(v))
}

// Declaracion is Pulso's declaración responsable (art. 13 RD 1007/2023,
// Orden HAC/1177/2024 art. 15), built from what this binary writes in
// every record's SistemaInformatico: the same producer, name, id, version
// and installation. When no producer is configured each org names itself
// in its records, so the viewer's org is the producer here too.
func (h *Handler) Declaracion(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	rec := invoices.Recording
	d := ledgerview.Declaration{ProducerName: rec.ProducerName, ProducerNIF: rec.ProducerNIF, ProducerAddress: rec.ProducerAddress,
		SystemName: verifactu.SystemName, SystemID: verifactu.SystemID, Version: rec.Version, Installation: rec.Installation,
		Environment: "verifactu.decl.env_test", Place: web.Translate(c, "verifactu.decl.place_unknown"), Billing: p.Role.In(web.Billing)}
	if rec.Env == verifactu.Production {
		d.Environment = "verifactu.decl.env_production"
	}
	if rec.ProducerAddress != "" {
		d.Place = rec.ProducerAddress
	}
	if d.ProducerNIF == "" {
		o, err := h.Q.GetOrg(c.UserContext(), p.OrgID)
		if err != nil {
			return err
		}
		d.ProducerName, d.ProducerNIF, d.ProducerAddress = o.Name, o.TaxID, o.Address
		if o.Address != "" {
			d.Place = o.Address
		}
	}
	d.Date = versionDate(p.Location()).Format("02/01/2006")
	return web.Render(c, fiber.StatusOK, declPage, ledgerview.Declaracion(d))
}

// versionDate is when this version was made: the commit time the Go
// toolchain stamps into the binary, or today for a build without one.
func versionDate(loc *time.Location) time.Time {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.time" {
				if t, err := time.Parse(time.RFC3339, s.Value); err == nil {
					return t.In(loc)
				}
			}
		}
	}
	return time.Now().In(loc)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
