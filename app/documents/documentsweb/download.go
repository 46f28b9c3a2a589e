package documentsweb

import (
	"context"
	"errors"

	"github.com/gofiber/fiber/v2"

	"pulso/app/documents"
	"pulso/app/files"
	"pulso/app/web"
)

// Download sends the file as an attachment. It never lets a browser render
// it inline or guess another type: the stored type was sniffed, not claimed.
// The bytes stream from the store a chunk at a time as the client reads.
func (h *Handler) Download(c *fiber.Ctx) error {
	d, err := h.document(c)
	if err != nil {
		return err
	}
	// fasthttp reads the body after this handler returns.
	ctx := context.WithoutCancel(c.UserContext())
	body, _, err := h.files.Open(ctx, d.OrgID, d.FileID)
	if errors.Is(err, files.ErrNotFound) {
		h.Log.ErrorContext(ctx, "document bytes missing", web.RequestAttrs(c, "document_id", d.ID, "file_id", d.FileID)...)
		return web.NewError(fiber.StatusNotFound, "documents.missing", err)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, d.ContentType)
	c.Set(fiber.HeaderContentDisposition, documents.ContentDisposition(d.Filename))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.SendStream(body, int(d.SizeBytes)) // fasthttp closes body when sent
}
