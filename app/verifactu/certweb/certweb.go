// Package certweb is the admin's page for the org's VERI*FACTU
// certificate: upload the PKCS#12 file with its password, see what is
// stored (subject, NIF, expiry, never the file nor the password) and why
// a chain last failed to send. The rules live in app/verifactu/sending.
package certweb

import (
	"errors"
	"io"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/verifactu/sending"
	"pulso/app/web"
	vfview "pulso/views/verifactu"
)

// Path is the page and the upload's route.
const Path = "/admin/verifactu/certificate"

// maxPassword bounds the password field read off the upload.
const maxPassword = 1024

var page = web.Page{Title: "verifactu.cert.title", Nav: "verifactu_certificate"}

// problems are the outcomes of a chain's last exchange worth telling the
// admin, with their message.
var problems = map[string]string{
	"faulted":        "verifactu.cert.outcome_faulted",
	"refused":        "verifactu.cert.outcome_refused",
	"no-certificate": "verifactu.cert.outcome_no-certificate",
	"retry-later":    "verifactu.cert.outcome_retry-later",
}

// Handler serves the certificate page.
type Handler struct {
	web.Deps
	certs   sending.Certificates
	keysErr error
}

// New builds the handler; the certificate is sealed under PULSO_SECRET.
func New(d web.Deps) *Handler {
	keys, err := d.Cfg.SealedKeys()
	return &Handler{Deps: d, certs: sending.Certificates{Keys: keys}, keysErr: err}
}

// Show is the page.
func (h *Handler) Show(c *fiber.Ctx) error {
	return h.render(c, fiber.StatusOK, nil)
}

func (h *Handler) render(c *fiber.Ctx, status int, errs map[string]string) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	d := vfview.CertificateData{Errors: errs}
	f, ok, err := sending.Stored(ctx, h.Q, p.OrgID)
	if err != nil {
		return err
	}
	if ok {
		now := time.Now()
		d.Has, d.Subject, d.NIF = true, f.Subject, f.NIF
		d.NotAfter = f.NotAfter.Format("02/01/2006")
		d.Expired = now.After(f.NotAfter)
		d.ExpiresSoon = !d.Expired && f.NotAfter.Sub(now) < 30*24*time.Hour
	}
	senders, err := h.Q.ListVerifactuSenders(ctx, p.OrgID)
	if err != nil {
		return err
	}
	for _, s := range senders {
		if id, ok := problems[s.LastOutcome]; ok {
			d.Chains = append(d.Chains, vfview.ChainProblem{NIF: s.IssuerNif, Outcome: id, Error: s.LastError})
		}
	}
	return web.Render(c, status, page, vfview.CertificatePage(d))
}

// Save takes the upload: the password field and the file, streamed off
// the connection in form order, then sending.Certificates.Save, whose
// refusals come back as field messages.
func (h *Handler) Save(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	var password string
	var file []byte
	for {
		part, err := web.NextPart(c)
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.Is(err, web.ErrNotMultipart) {
			return h.render(c, fiber.StatusUnprocessableEntity, map[string]string{"certificate": "verifactu.cert_required"})
		}
		if err != nil {
			return err
		}
		switch part.FormName() {
		case "password":
			password = web.PartValue(part, maxPassword)
		case "certificate":
			if file, err = io.ReadAll(io.LimitReader(part, sending.MaxCertificateBytes+1)); err != nil {
				return err
			}
		}
	}
	if h.keysErr != nil {
		return h.keysErr
	}
	ctx := c.UserContext()
	err := pgx.BeginFunc(ctx, h.DB, func(tx pgx.Tx) error {
		_, err := h.certs.Save(ctx, tx, p.OrgID, file, password, &p.UserID, time.Now())
		return err
	})
	var fe *sending.FieldError
	if errors.As(err, &fe) {
		return h.render(c, fiber.StatusUnprocessableEntity, map[string]string{fe.Field: fe.Key})
	}
	if err != nil {
		return err
	}
	web.Flash(c, "success", "verifactu.cert.saved")
	return web.Redirect(c, Path)
}
