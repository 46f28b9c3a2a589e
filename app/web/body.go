package web

import (
	"bytes"
	"errors"
	"io"
	"mime/multipart"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// MaxBody bounds the body of every route that is not an upload: forms and
// JSON are small, and this is read before anyone is known.
const MaxBody = 1 << 20

// uploadSlack is room for an upload's multipart framing and small fields
// over the file's own limit.
const uploadSlack = 64 << 10

// drainUnread is the largest body a handler may leave unread and still
// have it read off the connection to keep it alive; past that the
// connection is closed.
const drainUnread = 64 << 10

// CSRFField is the form field that carries the CSRF token; every upload
// form sends it first, so CSRF reads a streamed upload no further.
const CSRFField = "_csrf"

// ErrBodyTooLarge is a body over its route's limit.
var ErrBodyTooLarge = NewError(fiber.StatusRequestEntityTooLarge, "error.too_large", nil)

// ErrNotMultipart is an upload route's body that is not multipart/form-data.
var ErrNotMultipart = errors.New("web: not a multipart/form-data body")

// Bodies decides what a request's body may cost, before sessions, CSRF or
// any handler. The server streams request bodies (fiber's
// StreamRequestBody): only the first 8 KB are read off the connection
// before this middleware runs.
//
//   - Every route: a body over MaxBody is refused with 413, from its
//     Content-Length before a byte of it is read, or as soon as a chunked
//     body runs past it. Under the limit it is read here, so handlers see
//     a whole body as before.
//   - Upload routes (Upload): a multipart body stays on the connection,
//     bounded by its Content-Length (required) and the route's own limit,
//     and the handler streams it (NextPart) after the session, CSRF and
//     role checks. Any other body there is an ordinary one.
//   - Raw routes (Raw): the handler reads the body itself (ReadBody), after
//     what it must do first; the web form counts the hit.
type Bodies struct{ routes []bodyRoute }

type bodyRoute struct {
	segs    []string
	limit   int64
	message string
	raw     bool
}

// Upload registers POST path as an upload route whose file may be limit
// bytes; a body far over it is refused with message (the route's own
// words for "too big"). It returns path, for the route table.
func (b *Bodies) Upload(path string, limit int64, message string) string {
	b.routes = append(b.routes, bodyRoute{segs: segments(path), limit: limit + uploadSlack, message: message})
	return path
}

// Raw registers POST path as a route that reads its own body with
// ReadBody. It returns path, for the route table.
func (b *Bodies) Raw(path string) string {
	b.routes = append(b.routes, bodyRoute{segs: segments(path), raw: true})
	return path
}

func segments(path string) []string {
	return strings.Split(strings.Trim(strings.ToLower(path), "/"), "/")
}

// route is the registered route a POST to path matches, if any (":param"
// matches any one segment; case and a trailing slash do not matter, as in
// the router).
func (b *Bodies) route(method, path string) *bodyRoute {
	if method != fiber.MethodPost {
		return nil
	}
	segs := segments(path)
next:
	for i := range b.routes {
		r := &b.routes[i]
		if len(r.segs) != len(segs) {
			continue
		}
		for j, s := range r.segs {
			if segs[j] == "" || (!strings.HasPrefix(s, ":") && s != segs[j]) {
				continue next
			}
		}
		return r
	}
	return nil
}

// Limit is the middleware.
func (b *Bodies) Limit(c *fiber.Ctx) error {
	req := c.Request()
	if !req.IsBodyStream() {
		return c.Next() // no body
	}
	n := int64(req.Header.ContentLength()) // -1: chunked
	r := b.route(c.Method(), c.Path())
	multipartBody := len(req.Header.MultipartFormBoundary()) > 0
	switch {
	case r != nil && r.raw:
		defer finishBody(c)
		return c.Next()
	case r != nil && multipartBody:
		if n < 0 {
			// The Content-Length is what bounds every later read of the
			// stream; browsers always send one with a file.
			c.Context().SetConnectionClose()
			return NewError(fiber.StatusLengthRequired, "error.bad_request", nil)
		}
		if n > r.limit {
			c.Context().SetConnectionClose()
			return NewError(fiber.StatusRequestEntityTooLarge, r.message, nil)
		}
		defer finishBody(c)
		return c.Next()
	}
	if _, err := ReadBody(c, MaxBody); err != nil {
		return err
	}
	return c.Next()
}

// finishBody keeps the connection usable after a handler that left part of
// a streamed body unread (a refusal, a 404): a small body is drained, a
// larger or chunked one closes the connection rather than being read.
func finishBody(c *fiber.Ctx) {
	if !c.Request().IsBodyStream() {
		return
	}
	if n := c.Request().Header.ContentLength(); n < 0 || n > drainUnread {
		c.Context().SetConnectionClose()
		return
	}
	_, _ = io.Copy(io.Discard, c.Context().RequestBodyStream())
}

// ReadBody reads the request's body, at most max bytes; over that it is
// ErrBodyTooLarge, from the Content-Length before reading when there is
// one. What it read is the request's body from then on (c.Body, forms).
func ReadBody(c *fiber.Ctx, max int64) ([]byte, error) {
	req := c.Request()
	if !req.IsBodyStream() {
		if b := req.Body(); int64(len(b)) <= max {
			return b, nil
		}
		return nil, ErrBodyTooLarge
	}
	if int64(req.Header.ContentLength()) > max {
		c.Context().SetConnectionClose()
		return nil, ErrBodyTooLarge
	}
	b, err := io.ReadAll(io.LimitReader(c.Context().RequestBodyStream(), max+1))
	if err != nil {
		c.Context().SetConnectionClose()
		return nil, NewError(fiber.StatusBadRequest, "error.bad_request", err)
	}
	if int64(len(b)) > max {
		c.Context().SetConnectionClose()
		return nil, ErrBodyTooLarge
	}
	req.SetBodyRaw(b)
	return b, nil
}

type multipartKey struct{}

// guardBudget is how much of an upload's body may be read before the
// session, CSRF and role checks have passed: the first part (the CSRF
// token) and its headers fit many times over. Without it, a made-up CSRF
// cookie and a first part that never ends (multipart skips any preamble)
// would make the server read the whole claimed body for anyone.
const guardBudget = 16 << 10

// errGuardBudget is reading past guardBudget before the guards passed.
var errGuardBudget = errors.New("web: upload read past its first part before the guards passed")

// budget is a streamed body that may be read only as far as left allows;
// the handler lifts it (Multipart) once the guards have run.
type budget struct {
	r    io.Reader
	left int64 // < 0: no limit but the Content-Length
}

func (b *budget) Read(p []byte) (int, error) {
	if b.left == 0 {
		return 0, errGuardBudget
	}
	if b.left > 0 && int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	if b.left > 0 {
		b.left -= int64(n)
	}
	return n, err
}

type multipartBody struct {
	mr     *multipart.Reader
	budget *budget
}

// Multipart is the reader of an upload route's multipart body, straight
// off the connection: parts come in form order, once. Handlers call it,
// after the route's guards: the whole body may be read from then on.
func Multipart(c *fiber.Ctx) (*multipart.Reader, error) {
	b, err := multipartOf(c)
	if err != nil {
		return nil, err
	}
	b.budget.left = -1
	return b.mr, nil
}

// FirstPart is Multipart for what runs before the guards (CSRF): the body
// may be read only guardBudget bytes into the stream.
func FirstPart(c *fiber.Ctx) (*multipart.Reader, error) {
	b, err := multipartOf(c)
	if err != nil {
		return nil, err
	}
	return b.mr, nil
}

func multipartOf(c *fiber.Ctx) (*multipartBody, error) {
	if b, ok := c.Locals(multipartKey{}).(*multipartBody); ok {
		return b, nil
	}
	boundary := string(c.Request().Header.MultipartFormBoundary())
	if boundary == "" {
		return nil, ErrNotMultipart
	}
	var body io.Reader
	if c.Request().IsBodyStream() {
		body = c.Context().RequestBodyStream()
	} else {
		body = bytes.NewReader(c.Body())
	}
	bud := &budget{r: body, left: guardBudget}
	b := &multipartBody{mr: multipart.NewReader(bud, boundary), budget: bud}
	c.Locals(multipartKey{}, b)
	return b, nil
}

// NextPart is the next part of an upload's form other than the CSRF token;
// io.EOF after the last.
func NextPart(c *fiber.Ctx) (*multipart.Part, error) {
	mr, err := Multipart(c)
	if err != nil {
		return nil, err
	}
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, err
		}
		if p.FormName() != CSRFField {
			return p, nil
		}
	}
}

// PartValue reads a small form field of an upload, at most max bytes.
func PartValue(p *multipart.Part, max int64) string {
	b, _ := io.ReadAll(io.LimitReader(p, max))
	return string(b)
}

// ErrNoFile is an upload without the file field.
var ErrNoFile = errors.New("web: no file in the upload")

// FilePart is the upload's part named field, skipping the fields before
// it; ErrNoFile without one, ErrNotMultipart for a body that is not a
// form with files.
func FilePart(c *fiber.Ctx, field string) (*multipart.Part, error) {
	for {
		p, err := NextPart(c)
		if errors.Is(err, io.EOF) {
			return nil, ErrNoFile
		}
		if err != nil {
			return nil, err
		}
		if p.FormName() == field {
			return p, nil
		}
	}
}
