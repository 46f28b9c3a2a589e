package catalog

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	_ "image/png" // uploads may be PNG
	"io"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"golang.org/x/image/draw"

	"pulso/app/web"
	"pulso/queries"
)

// Image sizes: the product page shows the large one, lists the thumbnail.
const (
	largeSide = 1024
	thumbSide = 160
	// MaxImageBytes bounds an uploaded picture; maxPixels bounds what decoding
	// it may allocate (a small file can declare a huge image).
	MaxImageBytes = 8 << 20
	maxPixels     = 40_000_000
)

// ErrImage is a file that is not a PNG or JPEG picture of sensible size.
var ErrImage = errors.New("catalog: not a PNG or JPEG image of sensible size")

// Fit decodes a PNG or JPEG and returns it as a JPEG no larger than
// side×side (never enlarged), flattened onto white, resampled with
// Catmull-Rom (golang.org/x/image/draw). Re-encoding also drops whatever
// metadata the upload carried (GPS positions in phone photos).
func Fit(r io.Reader, side int) ([]byte, int, int, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxImageBytes+1))
	if err != nil {
		return nil, 0, 0, err
	}
	if len(b) > MaxImageBytes {
		return nil, 0, 0, ErrImage
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil || (format != "png" && format != "jpeg") || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPixels {
		return nil, 0, 0, ErrImage
	}
	src, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, 0, 0, ErrImage
	}
	w, h := cfg.Width, cfg.Height
	if w > side || h > side {
		if w >= h {
			w, h = side, max(1, h*side/cfg.Width)
		} else {
			w, h = max(1, w*side/cfg.Height), side
		}
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(dst, dst.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, src.Bounds(), draw.Over, nil)
	var out bytes.Buffer
	if err := jpeg.Encode(&out, dst, &jpeg.Options{Quality: 85}); err != nil {
		return nil, 0, 0, err
	}
	return out.Bytes(), w, h, nil
}

// UploadImage sets a product's picture (admins).
func (h *Handler) UploadImage(c *fiber.Ctx) error {
	pr, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	part, err := web.FilePart(c, "image")
	if err != nil || part.FileName() == "" {
		return h.imageError(c, pr, "catalog.image_choose")
	}
	raw, err := io.ReadAll(io.LimitReader(part, MaxImageBytes+1))
	if err != nil {
		return web.NewError(fiber.StatusBadRequest, "error.bad_request", err)
	}
	if len(raw) > MaxImageBytes {
		return h.imageError(c, pr, "catalog.image_invalid")
	}
	large, w, hgt, err := Fit(bytes.NewReader(raw), largeSide)
	if errors.Is(err, ErrImage) {
		return h.imageError(c, pr, "catalog.image_invalid")
	}
	if err != nil {
		return err
	}
	thumb, _, _, err := Fit(bytes.NewReader(large), thumbSide)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(large)
	if err := h.Q.SaveProductImage(c.UserContext(), queries.SaveProductImageParams{OrgID: p.OrgID, ProductID: pr.ID,
		Sha256: hex.EncodeToString(sum[:]), Image: large, Thumb: thumb, Width: int32(w), Height: int32(hgt)}); err != nil {
		return err
	}
	web.Flash(c, "success", "catalog.image_saved")
	return web.Redirect(c, "/catalog/"+itoa(pr.ID))
}

func (h *Handler) imageError(c *fiber.Ctx, pr queries.Product, msg string) error {
	web.Flash(c, "error", msg)
	return web.Redirect(c, "/catalog/"+itoa(pr.ID))
}

// DeleteImage removes a product's picture (admins).
func (h *Handler) DeleteImage(c *fiber.Ctx) error {
	pr, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	if err := h.Q.DeleteProductImage(c.UserContext(), queries.DeleteProductImageParams{OrgID: p.OrgID, ProductID: pr.ID}); err != nil {
		return err
	}
	return web.Redirect(c, "/catalog/"+itoa(pr.ID))
}

// Image serves a product's picture (size "thumb" or "large"). The URL holds
// the picture's hash, so browsers keep it for a year without asking again;
// private, because it is behind the sign-in. An old hash is 404: the page
// that linked it is older than the picture.
func (h *Handler) Image(c *fiber.Ctx) error {
	pr, err := h.load(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	img, err := h.Q.GetProductImage(c.UserContext(), queries.GetProductImageParams{OrgID: p.OrgID, ProductID: pr.ID})
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && img.Sha256 != c.Params("hash")) {
		return web.ErrNotFound
	}
	if err != nil {
		return err
	}
	body := img.Image
	switch c.Params("size") {
	case "thumb.jpg":
		body = img.Thumb
	case "large.jpg":
	default:
		return web.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, "image/jpeg")
	c.Set(fiber.HeaderCacheControl, "private, max-age=31536000, immutable")
	c.Set(fiber.HeaderETag, `"`+img.Sha256[:16]+c.Params("size")[:1]+`"`)
	return c.Send(body)
}

// ImageURL is where a product's picture of the given hash is served.
func ImageURL(productID int64, hash, size string) string {
	return "/catalog/" + itoa(productID) + "/image/" + hash + "/" + size + ".jpg"
}
