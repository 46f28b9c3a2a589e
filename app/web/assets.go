package web

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"pulso/static"
)

const (
	// A hashed URL names one exact content forever, so browsers and proxies
	// may keep it for a year without asking again.
	cacheImmutable = "public, max-age=31536000, immutable"
	// A plain name may point at new bytes after a deploy: browsers may store
	// it but must revalidate (cheap, thanks to the ETag) before each use.
	cacheRevalidate = "no-cache"
)

// Assets serves GET /static/* from the files embedded in package static.
// Pages link to static.URL(...) names; plain names still resolve so a
// hand-typed or stale link works, but are never cached as immutable.
// Compression is left to the app's compress middleware.
func Assets(c *fiber.Ctx) error {
	a, ok := static.Lookup(c.Params("*"))
	if !ok {
		return fiber.ErrNotFound
	}
	cacheControl := cacheRevalidate
	if a.Immutable {
		cacheControl = cacheImmutable
	}
	c.Set(fiber.HeaderCacheControl, cacheControl)
	// Weak, because the compress middleware may re-encode the body under the
	// same tag; weak tags are all If-None-Match needs.
	c.Set(fiber.HeaderETag, "W/"+a.ETag)
	if etagMatch(c.Get(fiber.HeaderIfNoneMatch), a.ETag) {
		c.Status(fiber.StatusNotModified)
		return nil
	}
	c.Set(fiber.HeaderContentType, a.ContentType)
	return c.Send(a.Data)
}

// etagMatch reports whether an If-None-Match header lists etag, using the
// weak comparison RFC 9110 §13.1.2 prescribes for it (W/ prefixes ignored).
func etagMatch(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" {
		return false
	}
	if strings.TrimSpace(ifNoneMatch) == "*" {
		return true
	}
	for tag := range strings.SplitSeq(ifNoneMatch, ",") {
		if strings.TrimPrefix(strings.TrimSpace(tag), "W/") == etag {
			return true
		}
	}
	return false
}
