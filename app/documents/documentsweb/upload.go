package documentsweb

import (
	"context"
	"errors"
	"io"
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/documents"
	"pulso/app/live"
	"pulso/app/web"
)

// LeadUpload adds a document to a lead.
func (h *Handler) LeadUpload(c *fiber.Ctx) error { return h.upload(c, "leads") }

// CustomerUpload adds a document to a customer.
func (h *Handler) CustomerUpload(c *fiber.Ctx) error { return h.upload(c, "customers") }

// upload stores the file and records it with its timeline activity in one
// transaction. Refusals (size, type) come back in the panel with 422.
func (h *Handler) upload(c *fiber.Ctx, kind string) error {
	pa, err := h.parentFromPath(c, kind)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	// The file streams from the connection into the file store, a chunk at
	// a time (web.Bodies left it there); Store stops it at the limit.
	part, err := web.FilePart(c, "file")
	if errors.Is(err, web.ErrNoFile) || errors.Is(err, web.ErrNotMultipart) || (err == nil && part.FileName() == "") {
		return h.render(c, fiber.StatusUnprocessableEntity, pa, "documents.choose_file")
	}
	if err != nil {
		return web.NewError(fiber.StatusBadRequest, "documents.bad_upload", err)
	}
	err = h.keep(c.UserContext(), p, pa, part.FileName(), part)
	if msg, ok := documents.IsRejection(err); ok {
		h.Log.InfoContext(c.UserContext(), "document refused", web.RequestAttrs(c, slog.String("reason", msg))...)
		return h.render(c, fiber.StatusUnprocessableEntity, pa, msg)
	}
	if err != nil {
		return err
	}
	if !web.IsPartial(c) {
		return web.Redirect(c, pa.base())
	}
	return h.render(c, fiber.StatusOK, pa, "")
}

// keep stores the upload and records it as a document of pa. When Store
// finds these bytes already stored just as the last document using them is
// deleted, the file can vanish before the new document refers to it
// (FileGone); the bytes have streamed past by then, so the user is asked to
// upload again.
func (h *Handler) keep(ctx context.Context, p *web.Principal, pa parent, name string, f io.Reader) error {
	blob, err := documents.Store(ctx, h.files, p.OrgID, f, h.Cfg.DocumentMaxBytes)
	if err != nil {
		return err
	}
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := documents.Attach(ctx, h.Q.WithTx(tx), p.OrgID, pa.target(), name, blob, documents.Source{UploadedBy: &p.UserID})
		return err
	})
	if documents.FileGone(err) {
		return documents.ErrUploadAgain
	}
	if err != nil {
		h.release(ctx, p.OrgID, blob.FileID)
	}
	return err
}
