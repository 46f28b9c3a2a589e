package documents

import (
	"context"
	"errors"
	"log/slog"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/valyala/fasthttp"

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
	fh, err := c.FormFile("file")
	if errors.Is(err, fasthttp.ErrMissingFile) || (err == nil && fh.Filename == "") {
		return h.render(c, fiber.StatusUnprocessableEntity, pa, "documents.choose_file")
	}
	if err != nil {
		return web.NewError(fiber.StatusBadRequest, "documents.bad_upload", err)
	}
	if fh.Size > h.Cfg.DocumentMaxBytes {
		return h.render(c, fiber.StatusUnprocessableEntity, pa, "documents.too_large")
	}
	// fasthttp parsed the multipart body off the connection, keeping at
	// most 16 MB in memory and spilling the rest to a temporary file; Store
	// copies from there to the document store in chunks.
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	blob, err := Store(h.Cfg.DataDir, f, h.Cfg.DocumentMaxBytes)
	if msg, ok := IsRejection(err); ok {
		h.Log.InfoContext(c.UserContext(), "document refused", web.RequestAttrs(c, slog.String("reason", msg))...)
		return h.render(c, fiber.StatusUnprocessableEntity, pa, msg)
	}
	if err != nil {
		return err
	}
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		_, err := Attach(ctx, h.Q.WithTx(tx), p.OrgID, pa.target(), fh.Filename, blob, &p.UserID)
		return err
	})
	if err != nil {
		return err
	}
	if !web.IsPartial(c) {
		return web.Redirect(c, pa.base())
	}
	return h.render(c, fiber.StatusOK, pa, "")
}
