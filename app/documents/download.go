package documents

import (
	"errors"
	"os"

	"github.com/gofiber/fiber/v2"

	"pulso/app/web"
)

// Download sends the file as an attachment. It never lets a browser render
// it inline or guess another type: the stored type was sniffed, not claimed.
func (h *Handler) Download(c *fiber.Ctx) error {
	d, err := h.document(c)
	if err != nil {
		return err
	}
	f, err := os.Open(Path(h.Cfg.DataDir, d.Sha256))
	if errors.Is(err, os.ErrNotExist) {
		h.Log.ErrorContext(c.UserContext(), "document bytes missing", web.RequestAttrs(c, "document_id", d.ID, "sha256", d.Sha256)...)
		return web.NewError(fiber.StatusNotFound, "documents.missing", err)
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, d.ContentType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(d.Filename))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "private, no-store")
	return c.SendStream(f, int(d.SizeBytes)) // fasthttp closes f when sent
}
