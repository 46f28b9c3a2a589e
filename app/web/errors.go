package web

import (
	"errors"
	"log/slog"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/jackc/pgx/v5"

	"pulso/views"
	"pulso/views/i18n"
)

// Error is a failure the user is told about: a status and a catalog message
// id. The cause stays in the log, never on the page.
type Error struct {
	Status    int
	MessageID string
	Cause     error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.MessageID + ": " + e.Cause.Error()
	}
	return e.MessageID
}

func (e *Error) Unwrap() error { return e.Cause }

// NewError builds a user-facing error.
func NewError(status int, messageID string, cause error) *Error {
	return &Error{Status: status, MessageID: messageID, Cause: cause}
}

// ErrNotFound is the answer for anything outside the caller's org too: 404,
// never 403, so another org's ids are not confirmed to exist.
var ErrNotFound = &Error{Status: fiber.StatusNotFound, MessageID: "error.not_found"}

// ErrForbidden is the answer for a role that may not use a route.
var ErrForbidden = &Error{Status: fiber.StatusForbidden, MessageID: "error.forbidden"}

func messageFor(status int) string {
	switch status {
	case fiber.StatusNotFound, fiber.StatusMethodNotAllowed:
		return "error.not_found"
	case fiber.StatusForbidden:
		return "error.forbidden"
	case fiber.StatusUnauthorized:
		return "error.unauthorized"
	case fiber.StatusTooManyRequests:
		return "error.too_many"
	case fiber.StatusRequestEntityTooLarge:
		// Over a route's body limit (web.Bodies), before any handler could say more.
		return "error.too_large"
	case fiber.StatusServiceUnavailable:
		return "error.unavailable"
	}
	if status >= 500 {
		return "error.internal"
	}
	return "error.bad_request"
}

// RequestID returns the id the request-id middleware assigned.
func RequestID(c *fiber.Ctx) string {
	s, _ := c.Locals(requestid.ConfigDefault.ContextKey).(string)
	return s
}

// ErrorHandler is the only place errors become responses.
func ErrorHandler(log *slog.Logger) fiber.ErrorHandler {
	return func(c *fiber.Ctx, err error) error {
		status, msg := fiber.StatusInternalServerError, "error.internal"
		var ue *Error
		var fe *fiber.Error
		switch {
		case errors.As(err, &ue):
			status, msg = ue.Status, ue.MessageID
		case errors.Is(err, pgx.ErrNoRows):
			status, msg = fiber.StatusNotFound, "error.not_found"
		case errors.As(err, &fe):
			status, msg = fe.Code, messageFor(fe.Code)
		}
		if status >= 500 {
			log.ErrorContext(c.UserContext(), "request failed", RequestAttrs(c, slog.String("error", err.Error()))...)
		}
		c.Set(fiber.HeaderCacheControl, "no-store")
		if c.Accepts("text/html", "application/json") == "application/json" {
			// RFC 9457 problem details for API clients.
			return Problem(c, status, fiber.Map{
				"status": status, "title": i18n.In(Locale(c), msg, nil), "type": "about:blank", "request_id": RequestID(c),
			})
		}
		if c.Get(HXRequest) == "true" {
			// htmx swaps error responses (see htmx-config); send them to the
			// flash area rather than into whatever the request targeted.
			c.Set(HXRetarget, "#flash")
			c.Set(HXReswap, "innerHTML")
			ctx := Context(c, &views.Shell{})
			c.Status(status).Type("html", "utf-8")
			return views.FlashMessage(views.Flash{Kind: "error", Message: i18n.T(ctx, msg)}).Render(ctx, c.Response().BodyWriter())
		}
		return Render(c, status, Page{Title: msg}, views.ErrorPage(status, msg, RequestID(c)))
	}
}

// RequestAttrs are the fields every log line about a request carries.
func RequestAttrs(c *fiber.Ctx, extra ...any) []any {
	attrs := []any{slog.String("request_id", RequestID(c))}
	if p := CurrentPrincipal(c); p != nil {
		attrs = append(attrs, slog.Int64("org_id", p.OrgID), slog.Int64("user_id", p.UserID))
	}
	return append(attrs, extra...)
}

// Problem writes an RFC 9457 problem-details body. c.JSON sets its own
// content type, so ours is set after it.
func Problem(c *fiber.Ctx, status int, body fiber.Map) error {
	if err := c.Status(status).JSON(body); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "application/problem+json")
	return nil
}

// RoutePattern is the route a request matched, as registered ("/q/:token"),
// or "unmatched". Logs and metrics name requests by it, never by path: a
// path may carry a token that opens something, and ids would make every
// request a new metric series.
func RoutePattern(c *fiber.Ctx) string {
	// An unmatched path ends in the app-wide catch-all, registered at "/".
	route := c.Route().Path
	if route == "/" && c.Path() != "/" {
		return "unmatched"
	}
	// Fiber's strings may point into a buffer the next request overwrites.
	return strings.Clone(route)
}
