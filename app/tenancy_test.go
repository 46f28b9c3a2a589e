package app_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/apptest"
	"pulso/app/config"
	"pulso/app/invoices"
	"pulso/app/invoices/recurring"
	"pulso/app/invoices/sends"
	"pulso/app/linktoken"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
)

// TestTenancyEveryRoute is the tenancy proof every later area inherits: it
// walks EVERY registered route as users of org B, filling each path
// parameter with every id that belongs to org A, and asserts that
//   - a route given A's id answers 404 (never 403 or 200, so ids are not
//     even confirmed to exist),
//   - no response shows anything of A,
//   - no row of A (in any table with an org_id column) changed.
//
// Routes and tables are discovered, not listed: a new route or table is
// covered without editing this test. Areas that add tables should add a
// row for org A to seedOrgA so there is something to protect.
func TestTenancyEveryRoute(t *testing.T) {
	t.Parallel()
	// The walk guesses quote-link tokens far faster than a person may.
	env := apptest.New(t, func(c *config.Config) { c.ClientLinkRate = 1_000_000 })
	ctx := context.Background()

	a := seedOrgA(t, env)
	orgB := env.Org("Beta Tenancy S.L.")
	bUsers := map[web.Role]queries.User{}
	for _, r := range web.Roles {
		bUsers[r] = env.User(orgB, "b-"+string(r)+"@beta.test", r)
	}

	markers := a.markers(t, env)
	// Ids are per table, so an id of one of A's rows may also be the id of
	// one of B's own rows in another table (B's users, say); a route given
	// it may rightly act on B's row. Only ids B has nowhere are probed.
	own := map[int64]bool{}
	for _, id := range orgIDs(t, env, orgB.ID) {
		own[id] = true
	}
	var ids []int64
	for _, id := range orgIDs(t, env, a.org.ID) {
		if !own[id] {
			ids = append(ids, id)
		}
	}
	if len(ids) < 5 {
		t.Fatalf("org A has only %d ids; the fixture is not exercising tenancy", len(ids))
	}
	for table := range orgTables(t, env) {
		var n int
		if err := env.DB.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s WHERE org_id = $1`, pgx.Identifier{table}.Sanitize()), a.org.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 && table != "capture_hits" {
			t.Errorf("org A has no %s row: add one to seedOrgA so the harness protects it", table)
		}
	}
	before := snapshot(t, env, a.org.ID)

	routes := env.App.GetRoutes(true)
	walked, withParams := 0, 0
	for _, role := range web.Roles {
		b := env.LoginAs(bUsers[role])
		for _, r := range routes {
			if r.Method == http.MethodHead || r.Method == http.MethodConnect || r.Method == http.MethodTrace {
				continue
			}
			if r.Path == "/logout" && r.Method == http.MethodPost {
				continue // would end B's session mid-walk; it takes no id
			}
			walked++
			if len(r.Params) == 0 {
				res := send(t, b, r.Method, r.Path)
				assertNoLeak(t, role, r.Method, r.Path, res, markers)
				continue
			}
			withParams++
			// What this role gets for an id that exists nowhere: a role that
			// may not use the route at all gets 403 for any id alike.
			missing := send(t, b, r.Method, fill(r.Path, "999999999999"))
			for _, id := range ids {
				path := fill(r.Path, strconv.FormatInt(id, 10))
				res := send(t, b, r.Method, path)
				assertNoLeak(t, role, r.Method, path, res, markers)
				switch {
				case res.Status == http.StatusNotFound:
				case res.Status == http.StatusForbidden && missing.Status == http.StatusForbidden:
					// Denied by role before any lookup: says nothing about A.
				default:
					t.Errorf("%s %s %s as %s of org B: status %d, want 404 (for a missing id: %d)",
						r.Method, r.Path, path, role, res.Status, missing.Status)
				}
			}
		}
	}
	if walked == 0 || withParams == 0 {
		t.Fatalf("walked %d routes, %d with parameters: the harness is not exercising the route table", walked, withParams)
	}

	if after := snapshot(t, env, a.org.ID); after != before {
		t.Errorf("org A's rows changed while org B walked the routes:\nbefore %s\nafter  %s", before, after)
	}
	// B's admin must not have been able to attach anything to A's people
	// either (composite foreign keys include org_id).
	var crossRefs int
	if err := env.DB.QueryRow(ctx, `SELECT count(*) FROM users u JOIN users m ON m.id = u.manager_id WHERE u.org_id <> m.org_id`).Scan(&crossRefs); err != nil {
		t.Fatal(err)
	}
	if crossRefs != 0 {
		t.Errorf("%d users reference a manager in another org", crossRefs)
	}
	t.Logf("walked %d route×role combinations (%d with parameters) against %d ids of org A", walked, withParams, len(ids))
}

type orgA struct {
	org   queries.Org
	users []queries.User
}

// seedOrgA gives org A one of everything that exists so far, created through
// the app where that is how it happens in real life.
func seedOrgA(t *testing.T, env *apptest.Env) orgA {
	t.Helper()
	ctx := context.Background()
	org := env.Org("Alfa Tenancy S.L.")
	admin := env.User(org, "alfa-admin@alfa.test", web.RoleAdmin)
	manager := env.User(org, "alfa-manager@alfa.test", web.RoleManager)
	rep := env.User(org, "alfa-rep@alfa.test", web.RoleRep)
	accountant := env.User(org, "alfa-accountant@alfa.test", web.RoleAccountant)
	gone := env.User(org, "alfa-gone@alfa.test", web.RoleRep)
	if _, err := env.Q.SetUserActive(ctx, queries.SetUserActiveParams{OrgID: org.ID, ID: gone.ID, Active: false}); err != nil {
		t.Fatal(err)
	}

	// A pending invite and live sessions, made the way users make them.
	c := env.LoginAs(admin)
	res := c.Post("/admin/users", url.Values{"email": {"alfa-invited@alfa.test"}, "name": {"Alfa Invitada"}, "role": {"rep"}, "manager_id": {strconv.FormatInt(manager.ID, 10)}})
	if res.Status != http.StatusOK || !strings.Contains(res.Body, "/invite/") {
		t.Fatalf("org A invite: %d %.300s", res.Status, res.Body)
	}
	env.LoginAs(rep)

	if _, err := env.Q.InsertLiveEvent(ctx, queries.InsertLiveEventParams{
		OrgID: org.ID, Topic: "users", Entity: "user", EntityID: &rep.ID, Kind: "updated", SubjectUserID: &rep.ID, Payload: []byte(`{}`),
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Q.CreateNotification(ctx, queries.CreateNotificationParams{
		OrgID: org.ID, UserID: rep.ID, Severity: "urgent", Title: "Alfa aviso secreto", Key: "tenancy:1",
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Q.CreateLead(ctx, queries.CreateLeadParams{
		OrgID: org.ID, Name: "Alfa Potencial Secreto", Email: "secreto@alfa-lead.test", Phone: "+34600000001", TaxID: "B12345674",
		Country: "ES", Source: "manual", OwnerID: &rep.ID, Status: "nuevo", Tags: []string{"alfa"}, CreatedBy: &rep.ID,
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Q.CreateLeadForm(ctx, queries.CreateLeadFormParams{OrgID: org.ID, Name: "Alfa Formulario Secreto",
		TokenHash: linktoken.Hash(alfaToken(t, env, linktoken.Form)), TokenNonce: alfaNonce(linktoken.Form)}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Q.CreateLeadRule(ctx, queries.CreateLeadRuleParams{OrgID: org.ID, Name: "Alfa Regla Secreta", Province: "Alfa Provincia", Action: "round_robin", TeamManagerID: &manager.ID}); err != nil {
		t.Fatal(err)
	}
	if err := env.Q.SetDefaultLeadOwner(ctx, queries.SetDefaultLeadOwnerParams{OrgID: org.ID, DefaultOwnerID: &rep.ID}); err != nil {
		t.Fatal(err)
	}
	// Customers (with their address and primary contact) through the form,
	// an opportunity by converting a lead, both as people do it; the
	// timeline entries come with them. A note has no app path yet.
	lead2, err := env.Q.CreateLead(ctx, queries.CreateLeadParams{
		OrgID: org.ID, Name: "Alfa Potencial Convertido", Country: "ES", Source: "manual", OwnerID: &rep.ID, Status: "nuevo", Tags: []string{}, CreatedBy: &rep.ID,
	})
	if err != nil {
		t.Fatal(err)
	}
	res = c.Post("/customers", url.Values{
		"legal_name": {"Alfa Cliente Secreto S.L."}, "trade_name": {"Alfa Marca Secreta"}, "tax_id": {"B87654323"}, "country": {"ES"},
		"email": {"cliente@alfa-secreto.test"}, "owner_id": {strconv.FormatInt(rep.ID, 10)}, "iban": {"ES9121000418450200051332"},
		"billing_street": {"Calle Alfa Secreta 1"}, "billing_city": {"Alfa Ciudad"},
		"contact_name": {"Alfa Contacto Secreto"}, "contact_email": {"contacto@alfa-secreto.test"},
	})
	if res.Status != http.StatusSeeOther {
		t.Fatalf("org A customer: %d %.300s", res.Status, res.Body)
	}
	repC := env.LoginAs(rep)
	if res := repC.Post("/leads/"+strconv.FormatInt(lead2.ID, 10)+"/convert", url.Values{
		"with_opportunity": {"1"}, "title": {"Alfa Oportunidad Secreta"}, "amount": {"1.234,56"},
	}); res.Status != http.StatusSeeOther {
		t.Fatalf("org A conversion: %d %.300s", res.Status, res.Body)
	}
	env.Exec(`INSERT INTO activities (org_id, customer_id, actor_id, kind, summary)
		SELECT org_id, id, $2, 'note', 'Alfa Actividad Secreta' FROM customers WHERE org_id = $1`, org.ID, rep.ID)
	// files: the bytes of a document, of an import's upload and of its
	// error file, each one chunk.
	file := func(content string) (id int64) {
		t.Helper()
		if err := env.DB.QueryRow(ctx, `WITH f AS (
				INSERT INTO files (org_id, size_bytes, sha256) VALUES ($1, length($2::bytea), encode(sha256($2::bytea), 'hex')) RETURNING org_id, id)
			INSERT INTO file_chunks (org_id, file_id, seq, data) SELECT org_id, id, 0, $2::bytea FROM f RETURNING file_id`, org.ID, content).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	env.Exec(`INSERT INTO documents (org_id, customer_id, filename, content_type, size_bytes, sha256, file_id, uploaded_by)
		SELECT org_id, id, 'alfa-documento-secreto.pdf', 'application/pdf', (SELECT size_bytes FROM files WHERE id = $3), repeat('ab', 32), $3, $2
		FROM customers WHERE org_id = $1`,
		org.ID, rep.ID, file("alfa-bytes-documento-secretos"))
	// inbound: the org's inbox (made by the admin's first visit) and a
	// message uploaded as .eml, which becomes a lead with an e-mail activity.
	if r := c.Get("/admin/inbox"); r.Status != http.StatusOK {
		t.Fatalf("org A inbox: %d", r.Status)
	}
	eml := []byte("From: Alfa Remitente Secreto <remitente@alfa-secreto.test>\r\nSubject: Alfa Asunto Secreto\r\nMessage-ID: <alfa-mensaje-secreto@alfa.test>\r\n\r\nAlfa cuerpo secreto\r\n")
	if r := c.PostFiles("/admin/inbox/upload", nil, apptest.File{Field: "eml", Name: "alfa.eml", Data: eml}); r.Status != http.StatusOK || !strings.Contains(r.Body, "Alfa Remitente Secreto") {
		t.Fatalf("org A .eml upload: %d %.300s", r.Status, r.Body)
	}
	// imports: an import with a staged row, and an e-mail attachment.
	env.Exec(`INSERT INTO imports (org_id, kind, filename, file_id, size_bytes, format, status, created_by, errors, error_file_id)
		VALUES ($1, 'leads', 'alfa-importacion-secreta.csv', $3, 10, 'csv', 'done', $2, 1, $4)`,
		org.ID, admin.ID, file("alfa-bytes-importacion-secretos"), file("alfa-bytes-errores-secretos"))
	env.Exec(`INSERT INTO import_rows (org_id, import_id, line, name, error_id)
		SELECT org_id, id, 2, 'Alfa Fila Secreta', 'validation.required' FROM imports WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO emails (org_id, key, to_address, subject, text_body, template, locale)
		VALUES ($1, 'alfa-import-errors', 'alfa-admin@alfa.test', 'Alfa Asunto Secreto', 'x', 'import_errors', 'es')`, org.ID)
	env.Exec(`INSERT INTO email_attachments (org_id, email_id, filename, content_type, content)
		SELECT org_id, id, 'alfa-adjunto-secreto.csv', 'text/csv', 'x' FROM emails WHERE org_id = $1 AND key = 'alfa-import-errors'`, org.ID)
	// pipeline: a cancel reason (stage settings and the stage history rows
	// come from triggers: the org's and the opportunity's)
	env.Exec(`INSERT INTO cancel_reasons (org_id, name) VALUES ($1, 'Alfa Motivo Secreto')`, org.ID)
	// tasks: calendar, a holiday, a reason, a rule, a task on the converted
	// customer, an alert and an ICS feed secret
	env.Exec(`INSERT INTO business_calendars (org_id, hours) VALUES ($1, 'lun-vie 09:00-18:00')`, org.ID)
	env.Exec(`INSERT INTO business_holidays (org_id, day, name) VALUES ($1, '2026-12-08', 'Alfa Festivo Secreto')`, org.ID)
	env.Exec(`INSERT INTO task_reasons (org_id, name, sla_minutes) VALUES ($1, 'Alfa Motivo Tarea Secreto', 60)`, org.ID)
	env.Exec(`INSERT INTO task_rules (org_id, event, stage, reason_id, title)
		SELECT org_id, 'stage_entered', 'oferta_presentada', id, 'Alfa Regla Tarea Secreta' FROM task_reasons WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO tasks (org_id, title, type, due_at, reason_id, customer_id, assignee_id, sla_deadline)
		SELECT $1, 'Alfa Tarea Secreta', 'llamada', now(), (SELECT id FROM task_reasons WHERE org_id = $1),
		       (SELECT id FROM customers WHERE org_id = $1 LIMIT 1), $2, now() - interval '1 hour'`, org.ID, rep.ID)
	env.Exec(`INSERT INTO alerts (org_id, kind, severity, user_id, object_type, object_id, breach_key, title)
		SELECT org_id, 'task_sla', 'urgent', assignee_id, 'task', id, 'alfa', 'Alfa Alerta Secreta' FROM tasks WHERE org_id = $1`, org.ID)
	// sales targets: the rep's of this month, with its alert
	env.Exec(`INSERT INTO sales_targets (org_id, user_id, month, won_amount, set_by)
		VALUES ($1, $2, date_trunc('month', timezone('Europe/Madrid', now()))::date, 4242400, $3)`, org.ID, rep.ID, manager.ID)
	env.Exec(`INSERT INTO alerts (org_id, kind, severity, user_id, object_type, object_id, breach_key, title)
		SELECT org_id, 'target_behind', 'warning', user_id, 'sales_target', id, 'alfa-target', 'Alfa Objetivo Secreto' FROM sales_targets WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO calendar_feeds (org_id, user_id, token_hash, token_nonce) VALUES ($1, $2, $3, $4)`, org.ID, rep.ID,
		linktoken.Hash(alfaToken(t, env, linktoken.Feed)), alfaNonce(linktoken.Feed))
	// catalog: a group, a subgroup and a product
	env.Exec(`INSERT INTO article_groups (org_id, name) VALUES ($1, 'Alfa Grupo Secreto')`, org.ID)
	env.Exec(`INSERT INTO article_groups (org_id, name, parent_id) SELECT org_id, 'Alfa Subgrupo Secreto', id FROM article_groups WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO products (org_id, code, name, price, tax_rate_id, group_id)
		SELECT $1, 'ALFA-SECRETO', 'Alfa Producto Secreto', 1000, (SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21),
		       (SELECT id FROM article_groups WHERE org_id = $1 AND parent_id IS NULL)`, org.ID)
	// quotes: a draft with a line, a link and an open in its trail
	env.Exec(`INSERT INTO quotes (org_id, customer_id, owner_id) SELECT $1, id, $2 FROM customers WHERE org_id = $1 LIMIT 1`, org.ID, rep.ID)
	env.Exec(`INSERT INTO quote_versions (org_id, quote_id, n, valid_until, terms, currency)
		SELECT org_id, id, 1, '2026-12-31', 'Alfa Condiciones Secretas', 'EUR' FROM quotes WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO quote_lines (org_id, quote_id, version_n, position, description, quantity, unit_price, tax_rate_id, tax_rate, amount)
		SELECT org_id, id, 1, 1, 'Alfa Linea Secreta', 1, 1000, (SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21), 21, 1000
		FROM quotes WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO quote_links (org_id, quote_id, version_n, token_hash, token_nonce, expires_at)
		SELECT org_id, id, 1, $2, $3, now() + interval '1 day' FROM quotes WHERE org_id = $1`, org.ID,
		linktoken.Hash(alfaToken(t, env, linktoken.Quote)), alfaNonce(linktoken.Quote))
	env.Exec(`INSERT INTO quote_events (org_id, quote_id, version_n, kind, user_agent) SELECT org_id, id, 1, 'opened', 'Alfa Navegador Secreto' FROM quotes WHERE org_id = $1`, org.ID)
	// The quote's row in the dashboards' rollup (kept by triggers once a
	// quote is sent; this one is a draft, so it is written here).
	env.Exec(`INSERT INTO stats_quote_facts (org_id, quote_id, owner_id, source, group_id, status, sent_at, total, valid_until)
		SELECT org_id, id, owner_id, 'manual', 0, 'sent', now(), 1210, '2026-12-31' FROM quotes WHERE org_id = $1`, org.ID)
	// product picture, price list with an item, and an order with a delivery
	env.Exec(`INSERT INTO product_images (org_id, product_id, sha256, image, thumb, width, height)
		SELECT org_id, id, 'alfa-imagen-hash', 'x', 'x', 1, 1 FROM products WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO price_lists (org_id, name, kind) VALUES ($1, 'Alfa Lista Secreta', 'fixed')`, org.ID)
	env.Exec(`INSERT INTO price_list_items (org_id, price_list_id, product_id, price)
		SELECT $1, (SELECT id FROM price_lists WHERE org_id = $1), id, 777 FROM products WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO orders (org_id, number, quote_id, quote_version, customer_id, currency, base, tax, surcharge, withheld, total)
		SELECT org_id, 'ALFA-PED-1', id, 1, customer_id, 'EUR', 1000, 210, 0, 0, 1210 FROM quotes WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO order_lines (org_id, order_id, position, description, unit, quantity, unit_price, discount_pct, tax_rate_id, tax_rate, surcharge, withholding, amount)
		SELECT org_id, id, 1, 'Alfa Linea Pedido Secreta', 'ud', 2, 500, 0, (SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21), 21, 0, 0, 1000
		FROM orders WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO delivery_notes (org_id, number, order_id, delivered_on, notes) SELECT org_id, 'ALFA-ALB-1', id, '2026-12-01', 'Alfa Albaran Secreto' FROM orders WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO delivery_note_lines (org_id, delivery_note_id, order_id, order_position, quantity)
		SELECT org_id, id, order_id, 1, 1 FROM delivery_notes WHERE org_id = $1`, org.ID)
	// invoices: the delivery note billed and issued as the app does it, a
	// corrective of it, a draft, and a payment applied
	env.Exec(`UPDATE orgs SET address = 'Calle Alfa Secreta 2' WHERE id = $1`, org.ID)
	env.Exec(`UPDATE customers SET tax_id = 'B11111110' WHERE id = (SELECT customer_id FROM orders WHERE org_id = $1) AND tax_id = ''`, org.ID)
	var billed queries.Invoice
	if err := live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
		var note int64
		if err := tx.QueryRow(ctx, `SELECT id FROM delivery_notes WHERE org_id = $1`, org.ID).Scan(&note); err != nil {
			return err
		}
		d, err := invoices.FromDeliveryNotes(ctx, tx, invoices.NotesInput{OrgID: org.ID, NoteIDs: []int64{note}, By: &rep.ID, Now: time.Now()})
		if err != nil {
			return err
		}
		if billed, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: org.ID, InvoiceID: d.ID, UserID: &rep.ID, Locale: "es", Now: time.Now()}); err != nil {
			return err
		}
		rate := int64(0)
		if err := tx.QueryRow(ctx, `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`).Scan(&rate); err != nil {
			return err
		}
		d, err = invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: org.ID, Kind: invoices.Corrective, CorrectiveType: "R1", CustomerID: billed.CustomerID,
			Method: invoices.ByDifference, Reason: "Alfa Motivo Rectificacion Secreto", Corrects: []int64{billed.ID}, Now: time.Now(),
			Lines: []invoices.LineInput{{Description: "Alfa Abono Secreto", Quantity: decimal.NewFromInt(-1), UnitPrice: 100, TaxRateID: rate}}})
		if err != nil {
			return err
		}
		if _, err = invoices.Issue(ctx, tx, invoices.IssueInput{OrgID: org.ID, InvoiceID: d.ID, Locale: "es", Now: time.Now()}); err != nil {
			return err
		}
		_, err = invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: org.ID, Kind: invoices.Proforma, CustomerID: billed.CustomerID, Now: time.Now(),
			Lines: []invoices.LineInput{{Description: "Alfa Proforma Secreta", Quantity: decimal.NewFromInt(1), UnitPrice: 100, TaxRateID: rate}}})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Q.SeedInvoiceAllocation(ctx, queries.SeedInvoiceAllocationParams{OrgID: org.ID, InvoiceID: billed.ID, Amount: 500, Kind: "payment"}); err != nil {
		t.Fatal(err)
	}
	// invoice sends: one sent (its e-mail, link and an open), one scheduled
	if err := live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
		s := sends.Sender{Jobs: env.Deps.Jobs, Links: env.Deps.Cfg.LinkKeys(), BaseURL: "http://localhost:8080"}
		in := sends.Input{OrgID: org.ID, InvoiceID: billed.ID, To: "alfa-factura@alfa-secreto.test", ToName: "Alfa Destinatario Factura", By: &rep.ID, Now: time.Now()}
		sent, err := s.Send(ctx, tx, in)
		if err != nil {
			return err
		}
		if _, err := sends.RecordOpen(ctx, tx, queries.FindInvoiceLinkRow{OrgID: org.ID, ID: sent.ID, InvoiceID: billed.ID},
			sends.Client{UserAgent: "Alfa Navegador Factura Secreto"}, time.Now()); err != nil {
			return err
		}
		_, err = s.Schedule(ctx, tx, in, time.Now().Add(24*time.Hour))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// recurring invoices: a template made as the app makes it, a period it
	// invoiced, and a month-end run with a customer it could not invoice
	if err := live.BeginFunc(ctx, env.DB, func(ctx context.Context, tx pgx.Tx) error {
		rate := int64(0)
		if err := tx.QueryRow(ctx, `SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`).Scan(&rate); err != nil {
			return err
		}
		tpl, err := recurring.Create(ctx, tx, recurring.TemplateInput{OrgID: org.ID, CustomerID: *billed.CustomerID, Name: "Alfa Plantilla Secreta",
			Frequency: recurring.Monthly, Day: 1, Start: recurring.Today(time.Now(), org.TimeZone), Mode: recurring.ModeIssue, By: &accountant.ID, Now: time.Now(),
			Lines: []invoices.LineInput{{Description: "Alfa Cuota Secreta", Quantity: decimal.NewFromInt(1), UnitPrice: 100, TaxRateID: rate}}})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO recurring_invoice_runs (org_id, template_id, period_start, invoice_id) VALUES ($1, $2, '2026-11-01', $3)`,
			org.ID, tpl.ID, billed.ID); err != nil {
			return err
		}
		var run int64
		if err := tx.QueryRow(ctx, `INSERT INTO invoice_runs (org_id, period_start, period_end, state, total, failed, created_by, finished_at)
			VALUES ($1, '2026-11-01', '2026-11-30', 'done', 1, 1, $2, now()) RETURNING id`, org.ID, accountant.ID).Scan(&run); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO invoice_run_items (org_id, run_id, customer_id, error) VALUES ($1, $2, $3, 'invoices.customer_tax_id_required')`,
			org.ID, run, *billed.CustomerID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// VERI*FACTU sending: the certificate (its facts; the sealed bytes need
	// not open here), the chain's sending state and one exchange
	env.Exec(`INSERT INTO verifactu_certificates (org_id, p12_sealed, password_sealed, subject, nif, not_after, uploaded_by)
		VALUES ($1, 'alfa-sellado', 'alfa-sellado', 'Alfa Certificado Secreto', 'B00000000', now() + interval '1 year', $2)`, org.ID, admin.ID)
	env.Exec(`INSERT INTO verifactu_senders (org_id, issuer_nif, last_outcome, last_error)
		SELECT org_id, issuer_nif, 'faulted', 'Alfa Error Envio Secreto' FROM verifactu_chains WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO verifactu_sends (org_id, issuer_nif, first_seq, last_seq, records, outcome, error, started_at, finished_at)
		SELECT org_id, issuer_nif, 1, 1, 1, 'faulted', 'Alfa Error Envio Secreto', now(), now() FROM verifactu_chains WHERE org_id = $1`, org.ID)
	// VERI*FACTU: the AEAT's answer to one of the records issuing wrote,
	// shown on /verifactu.
	env.Exec(`UPDATE verifactu_records SET status = 'rejected', answer_code = 1104, answer_text = 'Alfa Respuesta AEAT Secreta' WHERE org_id = $1 AND seq = 1`, org.ID)
	// document numbering
	env.Exec(`INSERT INTO number_series (org_id, kind, code, year, last_number) VALUES ($1, 'quote', 'ALFAQ', 2026, 7)`, org.ID)
	// plans: a subscription with its history and charge, a quota crossing and an
	// upgrade waiting for its payment
	env.Exec(`INSERT INTO subscriptions (org_id, plan_id, frequency, currency, term_start, term_end)
		SELECT $1, id, 'monthly', 'EUR', date_trunc('month', now())::date, (date_trunc('month', now()) + interval '1 month')::date
		FROM plans WHERE code = 'estandar'`, org.ID)
	env.Exec(`INSERT INTO subscription_events (org_id, kind, reason) VALUES ($1, 'started', 'Alfa Motivo Secreto')`, org.ID)
	env.Exec(`INSERT INTO quota_crossings (org_id, month, threshold, used, vouchers, plan_id)
		SELECT $1, date_trunc('month', now())::date, 80, 1200, 1500, id FROM plans WHERE code = 'estandar'`, org.ID)
	// the month's charge, recorded without an invoice (no operator org)
	env.Exec(`INSERT INTO subscription_charges (org_id, month, kind, plan_id, amount, currency, reason)
		SELECT $1, date_trunc('month', now())::date, 'monthly', id, 4900, 'EUR', 'Alfa Cargo Secreto' FROM plans WHERE code = 'estandar'`, org.ID)
	env.Exec(`INSERT INTO plan_upgrades (org_id, from_plan, to_plan, amount, currency, method, checkout_id, user_id)
		SELECT $1, (SELECT id FROM plans WHERE code = 'estandar'), (SELECT id FROM plans WHERE code = 'pro'), 4242, 'EUR', 'card',
		       'alfa-checkout-secreto', $2`, org.ID, admin.ID)
	// store: a connected seller, an OAuth round trip, an order and a sync
	env.Exec(`INSERT INTO store_connections (org_id, provider, seller_id, nickname, access_token, refresh_token, expires_at, connected_by)
		VALUES ($1, 'mercadolibre', 424242, 'ALFA_VENDEDOR_SECRETO', 'x', 'x', now() + interval '6 hours', $2)`, org.ID, admin.ID)
	env.Exec(`INSERT INTO store_oauth_states (state_hash, org_id, user_id) VALUES ('alfa-state', $1, $2)`, org.ID, admin.ID)
	env.Exec(`INSERT INTO store_orders (org_id, connection_id, order_id, status, channel, total, last_updated, state, error)
		SELECT org_id, id, 2000000000000042, 'paid', 'marketplace', '42.00', now(), 'failed', 'Alfa Error Secreto'
		FROM store_connections WHERE org_id = $1`, org.ID)
	env.Exec(`INSERT INTO store_syncs (org_id, connection_id, error) SELECT org_id, id, 'Alfa Sync Secreto' FROM store_connections WHERE org_id = $1`, org.ID)
	return orgA{org: org, users: []queries.User{admin, manager, rep, accountant, gone}}
}

// markers are strings that only org A's data contains.
func (a orgA) markers(t *testing.T, env *apptest.Env) []string {
	m := []string{a.org.Name, "alfa-invited@alfa.test", "Alfa Invitada", "Alfa aviso secreto", "Alfa Potencial Secreto", "secreto@alfa-lead.test", "Alfa Formulario Secreto", alfaToken(t, env, linktoken.Form), "Alfa Regla Secreta", "Alfa Provincia",
		"Alfa Cliente Secreto", "Alfa Marca Secreta", "cliente@alfa-secreto.test", "Calle Alfa Secreta", "Alfa Contacto Secreto",
		"Alfa Oportunidad Secreta", "Alfa Actividad Secreta", "alfa-documento-secreto", "Alfa Potencial Convertido", "ALFASECRETA",
		"Alfa Asunto Secreto", "remitente@alfa-secreto.test", "Alfa Remitente Secreto", "Alfa cuerpo secreto", "alfa-mensaje-secreto",
		"alfa-importacion-secreta", "Alfa Fila Secreta", "alfa-adjunto-secreto", "Alfa Motivo Secreto", "Alfa Cargo Secreto",
		"alfa-bytes-documento-secretos", "alfa-bytes-importacion-secretos", "alfa-bytes-errores-secretos",
		"Alfa Festivo Secreto", "Alfa Motivo Tarea Secreto", "Alfa Regla Tarea Secreta", "Alfa Tarea Secreta", "Alfa Alerta Secreta",
		"Alfa Grupo Secreto", "Alfa Subgrupo Secreto", "Alfa Producto Secreto", "ALFA-SECRETO",
		"Alfa Condiciones Secretas", "Alfa Linea Secreta", alfaToken(t, env, linktoken.Quote), alfaToken(t, env, linktoken.Feed), "Alfa Navegador Secreto",
		"alfa-imagen-hash", "Alfa Lista Secreta", "ALFA-PED-1", "Alfa Linea Pedido Secreta", "ALFA-ALB-1", "Alfa Albaran Secreto",
		"alfa-factura@alfa-secreto.test", "Alfa Destinatario Factura", "Alfa Navegador Factura Secreto",
		"Alfa Motivo Rectificacion Secreto", "Alfa Abono Secreto", "Alfa Proforma Secreta", "B11111110",
		"Alfa Certificado Secreto", "Alfa Error Envio Secreto", "Alfa Plantilla Secreta", "Alfa Cuota Secreta"}
	for _, u := range a.users {
		m = append(m, u.Email, u.Name)
	}
	m = append(m, "Alfa Respuesta AEAT Secreta")
	var inboxNonce []byte
	if err := env.DB.QueryRow(context.Background(), `SELECT token_nonce FROM inbound_inboxes WHERE org_id = $1`, a.org.ID).Scan(&inboxNonce); err != nil {
		t.Fatal(err)
	}
	inboxToken, err := env.Deps.Cfg.LinkKeys().Token(linktoken.Inbox, inboxNonce)
	if err != nil {
		t.Fatal(err)
	}
	return append(m, inboxToken)
}

// alfaNonce is the stored nonce of org A's token for p.
func alfaNonce(p linktoken.Purpose) []byte { return []byte("alfa-nonce-" + string(p)) }

// alfaToken is org A's token for p, as the app derives it from the nonce.
func alfaToken(t *testing.T, env *apptest.Env, p linktoken.Purpose) string {
	t.Helper()
	token, err := env.Deps.Cfg.LinkKeys().Token(p, alfaNonce(p))
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// orgTables lists every table with an org_id column, and whether it has id.
func orgTables(t *testing.T, env *apptest.Env) map[string]bool {
	t.Helper()
	rows, err := env.DB.Query(context.Background(), `
		SELECT c.table_name, bool_or(i.column_name IS NOT NULL)
		FROM information_schema.columns c
		LEFT JOIN information_schema.columns i
		  ON i.table_schema = c.table_schema AND i.table_name = c.table_name AND i.column_name = 'id'
		WHERE c.table_schema = 'public' AND c.column_name = 'org_id'
		GROUP BY c.table_name`)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var name string
		var hasID bool
		if err := rows.Scan(&name, &hasID); err != nil {
			t.Fatal(err)
		}
		out[name] = hasID
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	return out
}

// orgIDs returns every id of every org-scoped row of org.
func orgIDs(t *testing.T, env *apptest.Env, org int64) []int64 {
	t.Helper()
	var ids []int64
	for table, hasID := range orgTables(t, env) {
		if !hasID {
			continue
		}
		rows, err := env.DB.Query(context.Background(), fmt.Sprintf(`SELECT id FROM %s WHERE org_id = $1`, pgx.Identifier{table}.Sanitize()), org)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, got...)
	}
	return append(ids, org)
}

// snapshot fingerprints every row of org in every org-scoped table, and the
// org row itself.
func snapshot(t *testing.T, env *apptest.Env, org int64) string {
	t.Helper()
	var parts []string
	tables := orgTables(t, env)
	if len(tables) < 4 {
		t.Fatalf("found only %d org-scoped tables", len(tables))
	}
	for table := range tables {
		var n int
		var digest *string
		err := env.DB.QueryRow(context.Background(), fmt.Sprintf(
			`SELECT count(*), md5(string_agg(to_jsonb(t)::text, '|' ORDER BY to_jsonb(t)::text)) FROM %s t WHERE org_id = $1`,
			pgx.Identifier{table}.Sanitize()), org).Scan(&n, &digest)
		if err != nil {
			t.Fatal(err)
		}
		d := ""
		if digest != nil {
			d = *digest
		}
		parts = append(parts, fmt.Sprintf("%s:%d:%s", table, n, d))
	}
	var orgRow string
	if err := env.DB.QueryRow(context.Background(), `SELECT to_jsonb(o)::text FROM orgs o WHERE id = $1`, org).Scan(&orgRow); err != nil {
		t.Fatal(err)
	}
	slices.Sort(parts)
	return strings.Join(parts, " ") + " org:" + orgRow
}

var paramPattern = regexp.MustCompile(`:[A-Za-z0-9_]+\??|\*|\+`)

// fill puts value into every parameter of a route pattern.
func fill(pattern, value string) string {
	return paramPattern.ReplaceAllString(pattern, value)
}

func send(t *testing.T, c *apptest.Client, method, path string) apptest.Response {
	t.Helper()
	if method == http.MethodGet {
		return c.Get(path)
	}
	form := url.Values{"_csrf": {c.CSRF()}}
	req := httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-CSRF-Token", form.Get("_csrf"))
	return c.Do(req)
}

func assertNoLeak(t *testing.T, role web.Role, method, path string, res apptest.Response, markers []string) {
	t.Helper()
	for _, m := range markers {
		if strings.Contains(res.Body, m) {
			t.Errorf("%s %s as %s of org B shows %q from org A", method, path, role, m)
		}
	}
}
