// Package capture turns submissions from customers' websites into leads:
// POST /f/{token} (urlencoded or JSON), and the admin page that manages the
// forms and shows the snippet to paste.
package capture

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/ident"
	"pulso/app/leads"
	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	captureview "pulso/views/capture"
)

// Handler serves /f/:token and /admin/forms.
type Handler struct{ web.Deps }

// New builds the handlers.
func New(d web.Deps) *Handler { return &Handler{d} }

// Per-address limit: enough for an office sharing one IP, too few for a
// spam script.
const (
	hitWindow = 10 * time.Minute
	maxHits   = 20
)

// honeypot is a field humans never see (the snippet hides it); bots fill it.
const honeypot = "website"

// known maps the fields a form may send to lead columns; anything else is
// kept in the notes as "field: value".
var known = []string{"company", "name", "email", "phone", "message", "province", "city", "tax_id", honeypot}

const maxFieldLen = 2000

// maxBody bounds a submission: 50 fields of maxFieldLen, URL-encoded, fit.
const maxBody = 256 << 10

// Submit receives one submission. It answers JSON to JSON clients and a
// 303 to the form's thank-you page (or Pulso's own) to browsers.
func (h *Handler) Submit(c *fiber.Ctx) error {
	setCORS(c)
	ctx := c.UserContext()
	wantsJSON := strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) ||
		c.Accepts(fiber.MIMETextHTML, fiber.MIMEApplicationJSON) == fiber.MIMEApplicationJSON
	form, err := h.Q.GetLeadFormByToken(ctx, linktoken.Hash(c.Params("token")))
	if errors.Is(err, pgx.ErrNoRows) {
		return web.ErrNotFound
	}
	if err != nil {
		return err
	}
	// A submission counts against its address before its body is read
	// (app.go marks this route's body raw): refused bodies, too big or
	// malformed, use up the allowance like good ones.
	recent, err := h.Q.RecordCaptureHit(ctx, queries.RecordCaptureHitParams{ClientIP: web.ClientIP(c).String(), Since: time.Now().Add(-hitWindow)})
	if err != nil {
		return err
	}
	if recent > maxHits {
		c.Set(fiber.HeaderRetryAfter, fmt.Sprint(int(hitWindow.Seconds())))
		return respondError(c, wantsJSON, fiber.StatusTooManyRequests, map[string]string{"_": "error.too_many"})
	}
	if _, err := web.ReadBody(c, maxBody); errors.Is(err, web.ErrBodyTooLarge) {
		return respondError(c, wantsJSON, fiber.StatusRequestEntityTooLarge, map[string]string{"_": "error.too_large"})
	} else if err != nil {
		return respondError(c, wantsJSON, fiber.StatusBadRequest, map[string]string{"_": "capture.bad_body"})
	}
	fields, err := readFields(c)
	if err != nil {
		return respondError(c, wantsJSON, fiber.StatusBadRequest, map[string]string{"_": "capture.bad_body"})
	}
	if fields[honeypot] != "" {
		// Look like success, so the bot learns nothing; store nothing.
		h.Log.InfoContext(ctx, "web form honeypot filled", "org_id", form.OrgID, "form_id", form.ID)
		return respondOK(c, wantsJSON, form.ThankYouUrl)
	}

	lead, errs := toLead(fields, form.OrgCountry)
	if len(errs) > 0 {
		return respondError(c, wantsJSON, fiber.StatusUnprocessableEntity, errs)
	}
	lead.OrgID, lead.Country, lead.Source, lead.Status = form.OrgID, form.OrgCountry, "web_form", "nuevo"
	err = live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		dups, err := q.FindLeadDuplicates(ctx, queries.FindLeadDuplicatesParams{OrgID: form.OrgID, Email: lead.Email, Phone: lead.Phone, TaxID: lead.TaxID})
		if err != nil {
			return err
		}
		// Nobody is at the screen to choose merge or keep: keep both and
		// mark the new one so a rep sees it in the list.
		if len(dups) > 0 {
			lead.Tags = append(lead.Tags, "posible-duplicado")
		}
		lead.OwnerID, err = leads.AssignOwner(ctx, q, form.OrgID, leads.FactsOf(lead))
		if err != nil {
			return err
		}
		created, err := q.CreateLead(ctx, lead)
		if err != nil {
			return err
		}
		if err := leads.PublishCreated(ctx, q, created); err != nil {
			return err
		}
		if created.OwnerID != nil {
			return leads.NotifyAssigned(ctx, tx, h.Jobs, created)
		}
		return nil
	})
	if err != nil {
		return err
	}
	return respondOK(c, wantsJSON, form.ThankYouUrl)
}

// setCORS lets a customer's site post with fetch(); the endpoint takes no
// cookies and returns nothing of the org, so any origin may call it.
func setCORS(c *fiber.Ctx) {
	c.Set(fiber.HeaderAccessControlAllowOrigin, "*")
	c.Set(fiber.HeaderAccessControlAllowMethods, "POST, OPTIONS")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Content-Type, Accept")
}

// Preflight answers the browser's CORS check for JSON posts, for live
// forms only: an unknown token is 404 here too.
func (h *Handler) Preflight(c *fiber.Ctx) error {
	if _, err := h.Q.GetLeadFormByToken(c.UserContext(), linktoken.Hash(c.Params("token"))); err != nil {
		return err // no rows → 404
	}
	setCORS(c)
	c.Set(fiber.HeaderAccessControlMaxAge, "86400")
	return c.SendStatus(fiber.StatusNoContent)
}

func readFields(c *fiber.Ctx) (map[string]string, error) {
	out := map[string]string{}
	if strings.HasPrefix(c.Get(fiber.HeaderContentType), fiber.MIMEApplicationJSON) {
		var raw map[string]any
		if err := json.Unmarshal(c.Body(), &raw); err != nil {
			return nil, err
		}
		for k, v := range raw {
			switch x := v.(type) {
			case string:
				out[k] = x
			case float64, bool:
				out[k] = fmt.Sprint(x)
			}
		}
	} else {
		c.Request().PostArgs().VisitAll(func(k, v []byte) { out[string(k)] = string(v) })
	}
	if len(out) > 50 {
		return nil, errors.New("too many fields")
	}
	for k, v := range out {
		v = strings.TrimSpace(v)
		// The same text rule as every form in the app: a website cannot put
		// what a rep's form would refuse into a lead.
		if len(v) > maxFieldLen || len(k) > 100 || !ident.CleanText(v) || !ident.CleanText(k) {
			return nil, errors.New("bad field")
		}
		out[k] = v
	}
	return out, nil
}

// toLead maps a submission onto a lead, validating contact details for the
// org's country. errs maps a field to a message id.
func toLead(f map[string]string, country string) (queries.CreateLeadParams, map[string]string) {
	errs := map[string]string{}
	l := queries.CreateLeadParams{Name: f["company"], ContactName: f["name"], Province: f["province"], City: f["city"], Tags: []string{}}
	if l.Name == "" {
		l.Name = f["name"]
	}
	if l.Name == "" {
		l.Name = f["email"]
	}
	if l.Name == "" {
		errs["name"] = "validation.required"
	}
	if utf8.RuneCountInString(l.Name) > 200 || utf8.RuneCountInString(l.ContactName) > 200 {
		errs["name"] = "validation.too_long"
	}
	var err error
	if f["email"] != "" {
		if l.Email, err = ident.NormalizeEmail(f["email"]); err != nil {
			errs["email"] = ident.MessageOf(err)
		}
	}
	if f["phone"] != "" {
		if l.Phone, err = ident.NormalizePhone(f["phone"], country); err != nil {
			errs["phone"] = ident.MessageOf(err)
		}
	}
	if f["tax_id"] != "" {
		if l.TaxID, err = ident.NormalizeTaxID(f["tax_id"], country); err != nil {
			errs["tax_id"] = ident.MessageOf(err)
		}
	}
	if f["email"] == "" && f["phone"] == "" {
		errs["email"] = "capture.contact_required"
	}
	var notes []string
	if m := f["message"]; m != "" {
		notes = append(notes, m)
	}
	for _, k := range slices.Sorted(maps.Keys(f)) {
		if !slices.Contains(known, k) && f[k] != "" {
			notes = append(notes, k+": "+f[k])
		}
	}
	l.Notes = strings.Join(notes, "\n")
	if utf8.RuneCountInString(l.Notes) > 10000 {
		errs["message"] = "validation.too_long"
	}
	return l, errs
}

func respondOK(c *fiber.Ctx, wantsJSON bool, thankYou string) error {
	if wantsJSON {
		return c.Status(fiber.StatusCreated).JSON(fiber.Map{"ok": true})
	}
	if thankYou != "" {
		return c.Redirect(thankYou, fiber.StatusSeeOther)
	}
	return web.Render(c, fiber.StatusOK, web.Page{Title: "capture.thanks_title"}, captureview.Thanks())
}

func respondError(c *fiber.Ctx, wantsJSON bool, status int, errs map[string]string) error {
	if wantsJSON {
		fieldsOut := map[string]string{}
		for k, id := range errs {
			fieldsOut[k] = web.Translate(c, id)
		}
		return web.Problem(c, status, fiber.Map{"status": status, "title": web.Translate(c, "capture.rejected"), "errors": fieldsOut})
	}
	return web.Render(c, status, web.Page{Title: "capture.rejected"}, captureview.Rejected(errs))
}
