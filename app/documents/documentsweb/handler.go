package documentsweb

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/documents"
	"pulso/app/files"
	"pulso/app/web"
	"pulso/queries"
	docsview "pulso/views/documents"
)

// Handler serves /leads/:id/documents, /customers/:id/documents and
// /documents/:id.
type Handler struct {
	web.Deps
	files files.Store
}

// New builds the documents handlers.
func New(d web.Deps) *Handler { return &Handler{Deps: d, files: files.New(d.DB)} }

// parent is the lead or customer a request is about, already checked to be
// in the viewer's org and scope.
type parent struct {
	kind string // "leads" | "customers"
	id   int64
}

func (p parent) target() documents.Target {
	if p.kind == "leads" {
		return documents.Target{LeadID: &p.id}
	}
	return documents.Target{CustomerID: &p.id}
}

func (p parent) base() string { return "/" + p.kind + "/" + strconv.FormatInt(p.id, 10) }

// canSee answers whether the viewer may see the lead or customer: the same
// scope as the leads list (reps their own, managers their team, admins and
// accountants all). A missing row and an out-of-scope one look alike.
func (h *Handler) canSee(ctx context.Context, p *web.Principal, pa parent) error {
	var owner *int64
	var err error
	switch pa.kind {
	case "leads":
		owner, err = h.Q.DocumentLeadOwner(ctx, queries.DocumentLeadOwnerParams{OrgID: p.OrgID, ID: pa.id})
	case "customers":
		owner, err = h.Q.DocumentCustomerOwner(ctx, queries.DocumentCustomerOwnerParams{OrgID: p.OrgID, ID: pa.id})
	default:
		return web.ErrNotFound
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return web.ErrNotFound
	}
	if err != nil {
		return err
	}
	sc, err := web.Scope(ctx, h.Q, p)
	if err != nil {
		return err
	}
	if !web.InScope(sc, owner) {
		return web.ErrNotFound
	}
	return nil
}

func (h *Handler) parentFromPath(c *fiber.Ctx, kind string) (parent, error) {
	id, err := web.ID(c)
	if err != nil {
		return parent{}, err
	}
	pa := parent{kind: kind, id: id}
	return pa, h.canSee(c.UserContext(), web.MustPrincipal(c), pa)
}

func parentOf(d queries.Document) parent {
	switch {
	case d.LeadID != nil:
		return parent{kind: "leads", id: *d.LeadID}
	case d.CustomerID != nil:
		return parent{kind: "customers", id: *d.CustomerID}
	}
	return parent{kind: "opportunities", id: *d.OpportunityID}
}

// document loads :id if the viewer may see what it belongs to.
func (h *Handler) document(c *fiber.Ctx) (queries.Document, error) {
	d, _, err := web.Load(c, h.Q, func(ctx context.Context, org, id int64) (queries.Document, error) {
		return h.Q.GetDocument(ctx, queries.GetDocumentParams{OrgID: org, ID: id})
	}, nil)
	if err != nil {
		return d, err
	}
	// Its scope is its lead's, customer's or deal's.
	return d, h.canSee(c.UserContext(), web.MustPrincipal(c), parentOf(d))
}

// render answers with the panel: alone to htmx, inside the layout otherwise.
func (h *Handler) render(c *fiber.Ctx, status int, pa parent, errID string) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	panel := docsview.Panel{Base: pa.base(), DomID: "documents-" + pa.kind + "-" + strconv.FormatInt(pa.id, 10), Error: errID, MaxMB: h.Cfg.DocumentMaxBytes >> 20}
	add := func(id int64, name string, size int64, by *int64, who string, when string, unverified bool) {
		panel.Docs = append(panel.Docs, docsview.Doc{
			ID: id, Filename: name, Size: humanSize(size), Uploader: who, When: when,
			CanDelete:        p.Role == web.RoleAdmin || (p.Role.In(web.Sales) && by != nil && *by == p.UserID),
			SenderUnverified: unverified,
		})
	}
	loc := p.Location()
	switch pa.kind {
	case "leads":
		rows, err := h.Q.ListLeadDocuments(ctx, queries.ListLeadDocumentsParams{OrgID: p.OrgID, LeadID: &pa.id})
		if err != nil {
			return err
		}
		for _, r := range rows {
			add(r.ID, r.Filename, r.SizeBytes, r.UploadedBy, r.UploaderName, r.CreatedAt.In(loc).Format("02/01/2006 15:04"), r.SenderUnverified)
		}
	case "customers":
		rows, err := h.Q.ListCustomerDocuments(ctx, queries.ListCustomerDocumentsParams{OrgID: p.OrgID, CustomerID: &pa.id})
		if err != nil {
			return err
		}
		for _, r := range rows {
			add(r.ID, r.Filename, r.SizeBytes, r.UploadedBy, r.UploaderName, r.CreatedAt.In(loc).Format("02/01/2006 15:04"), r.SenderUnverified)
		}
	}
	return web.Render(c, status, web.Page{Title: "documents.title", Nav: pa.kind}, docsview.Fragment(panel))
}

// humanSize is a size people read at a glance (1 decimal above 1 MB).
func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strings.Replace(fmt.Sprintf("%.1f MB", float64(n)/(1<<20)), ".", ",", 1)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

// LeadList is the documents fragment of a lead.
func (h *Handler) LeadList(c *fiber.Ctx) error { return h.list(c, "leads") }

// CustomerList is the documents fragment of a customer (the 360 page embeds it).
func (h *Handler) CustomerList(c *fiber.Ctx) error { return h.list(c, "customers") }

func (h *Handler) list(c *fiber.Ctx, kind string) error {
	pa, err := h.parentFromPath(c, kind)
	if err != nil {
		return err
	}
	return h.render(c, fiber.StatusOK, pa, "")
}
