package documentsweb

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"mime/multipart"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/valyala/fasthttp"

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
	// streams from there to the file store a chunk at a time.
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	err = h.keep(c.UserContext(), p, pa, fh.Filename, f)
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
// (fileGone); the upload is then stored again, once.
func (h *Handler) keep(ctx context.Context, p *web.Principal, pa parent, name string, f multipart.File) error {
	for attempt := 1; ; attempt++ {
		blob, err := documents.Store(ctx, h.files, p.OrgID, f, h.Cfg.DocumentMaxBytes)
		if err != nil {
			return err
		}
		err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
			_, err := documents.Attach(ctx, h.Q.WithTx(tx), p.OrgID, pa.target(), name, blob, documents.Source{UploadedBy: &p.UserID})
			return err
		})
		switch {
		case err == nil:
			return nil
		case attempt == 1 && documents.FileGone(err):
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
		default:
			h.release(ctx, p.OrgID, blob.FileID)
			return err
		}
	}
}
