// Package app assembles Pulso's web application: middleware and the one
// table of every route, each with the guard that protects it.
package app

import (
	"log/slog"
	"net/url"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/compress"
	"github.com/gofiber/fiber/v2/middleware/helmet"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"

	"pulso/app/account"
	"pulso/app/auth"
	"pulso/app/capture"
	"pulso/app/catalog"
	"pulso/app/checkout"
	"pulso/app/config"
	"pulso/app/customers"
	"pulso/app/documents/documentsweb"
	"pulso/app/home"
	"pulso/app/imports"
	"pulso/app/inbound/inboundweb"
	"pulso/app/invoices/books/booksweb"
	"pulso/app/invoices/invoicesweb"
	"pulso/app/invoices/recurringweb"
	"pulso/app/invoices/sendweb"
	"pulso/app/jobs"
	"pulso/app/leads/leadsweb"
	"pulso/app/live/hub"
	"pulso/app/notifications"
	"pulso/app/ops"
	"pulso/app/orders/ordersweb"
	"pulso/app/outbox"
	"pulso/app/pipeline/pipelineweb"
	"pulso/app/plans/operatorweb"
	"pulso/app/plans/plansweb"
	"pulso/app/quotes/quotesweb"
	"pulso/app/stats/dashboardweb"
	"pulso/app/stats/reportsweb"
	"pulso/app/store/storeweb"
	"pulso/app/targets/targetsweb"
	"pulso/app/tasks/tasksweb"
	"pulso/app/users"
	"pulso/app/verifactu/certweb"
	"pulso/app/verifactu/ledger/ledgerweb"
	"pulso/app/verifactu/sending"
	"pulso/app/web"
)

// New builds the Fiber app. It does not listen; cmd/pulso does. The hub
// gets its topic renderers here, next to the routes.
func New(d web.Deps, metrics *ops.Metrics, h *hub.Hub) *fiber.App {
	if d.Sessions == nil {
		d.Sessions = web.NewSessionCache()
	}
	if d.Payments == nil && d.Cfg.PaymentsURL != "" {
		d.Payments = checkout.New(d.Cfg.PaymentsURL, d.Cfg.PaymentsToken, nil)
	}
	if len(d.PaymentsWebhookSecret) == 0 {
		d.PaymentsWebhookSecret = d.Cfg.PaymentsWebhookSecret
	}
	auth.WatchSessions(h, d)
	app := fiber.New(fiber.Config{
		AppName:               "pulso",
		DisableStartupMessage: true,
		ErrorHandler:          web.ErrorHandler(d.Log),
		ReadTimeout:           30 * time.Second,
		WriteTimeout:          60 * time.Second,
		IdleTimeout:           120 * time.Second,
		// Bodies stay on the connection until web.Bodies (below) decides what
		// each may cost: ordinary routes read at most web.MaxBody, uploads
		// stream within their own limits after the session, CSRF and role
		// checks. fasthttp reads at most 8 KB ahead; BodyLimit only sizes
		// that read here.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true,
		BodyLimit:                    web.MaxBody,
		// Fiber trusts no proxy for anything (its X-Forwarded-* readings
		// would take what the client wrote): who the client is and whether
		// it came over https are web.ClientIP and web.IsHTTPS, which read the
		// headers of the proxies in PULSO_TRUSTED_PROXIES only.
		EnableTrustedProxyCheck: true,
	})

	app.Use(web.NewProxies(d.Cfg.TrustedProxies).Client())
	app.Use(requestid.New())
	app.Use(accessLog(d.Log))
	app.Use(metrics.Middleware)
	// Errors become responses here, inside the log and metrics middleware,
	// so both record the status the client actually got.
	app.Use(func(c *fiber.Ctx) error {
		if err := c.Next(); err != nil {
			return c.App().ErrorHandler(c, err)
		}
		return nil
	})
	app.Use(recover.New(recover.Config{EnableStackTrace: true}))
	// What a body may cost, decided before anyone is known (upload and raw
	// routes are marked in the table below).
	bodies := &web.Bodies{}
	app.Use(bodies.Limit)

	// The live socket comes before the security headers, compression and
	// CSRF: an upgrade response needs none of them, and whatever the upgrade
	// request accumulates (headers, locals) is kept for the socket's whole
	// life. It is a GET that changes nothing; the hub checks the session and
	// the Origin itself and answers 401 (a socket cannot follow a redirect).
	app.Get("/ws", auth.LoadSession(d), h.Handler()).Name("live.socket")

	app.Use(helmet.New(helmet.Config{
		// htmx runs with allowEval off and no injected styles, so the page
		// needs nothing inline. connect-src 'self' covers the same-origin socket.
		ContentSecurityPolicy: "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
			"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action " + formAction(d.Cfg) + "; frame-ancestors 'none'",
		ReferrerPolicy:            "same-origin",
		CrossOriginEmbedderPolicy: "unsafe-none",
		PermissionPolicy:          "camera=(), microphone=(), geolocation=()",
	}))
	// Browsers that reached us over https keep to it for a year. Whether
	// they did is web.IsHTTPS: TLS to us, or a trusted proxy's word.
	app.Use(func(c *fiber.Ctx) error {
		if web.IsHTTPS(c) {
			c.Set(fiber.HeaderStrictTransportSecurity, "max-age=31536000")
		}
		return c.Next()
	})
	app.Use(compress.New(compress.Config{Level: compress.LevelBestSpeed}))

	// Routes that need no session: assets and probes skip the session lookup.
	// /metrics is not here: it has a listener of its own (ops.Metrics.Handler).
	app.Get("/static/*", web.Assets).Name("static")
	app.Get("/healthz", ops.Health).Name("ops.health")
	app.Get("/readyz", ops.Ready(d.DB)).Name("ops.ready")

	// Customers' websites post leads here: no session and no CSRF token (the
	// form token in the path is the credential), CORS open, throttled per IP.
	captureH := capture.New(d)
	app.Post(bodies.Raw("/f/:token"), captureH.Submit).Name("capture.submit")
	app.Options("/f/:token", captureH.Preflight).Name("capture.preflight")

	// Mercado Libre posts order notifications here: no session nor CSRF
	// token (the body is not signed; the job fetches the order with the
	// seller's own token, which is the authenticity check), answered at
	// once (§3 of the store reference: within 500 ms).
	storeH := storeweb.New(d)
	app.Post(config.MLNotifyPath, storeH.Notify).Name("store.notify")
	// The payment provider's notifications: no session and no CSRF token
	// (the signature is the credential); the handler reads the small body
	// itself, after nothing.
	plansH := plansweb.New(d)
	app.Post(bodies.Raw(config.PaymentsWebhookPath), plansH.Webhook).Name("plans.webhook")

	app.Use(auth.LoadSession(d))
	app.Use(auth.CSRF(d.Cfg.Secret, d.Cfg.SecureCookies()))

	// The guards; web lists the roles of each. Every route below names
	// its guard: sales on every route that changes a sales object (or
	// shows the form for it), since an accountant reads those areas only.
	var (
		anyone     = auth.Require()
		admin      = auth.Require(web.RoleAdmin)
		sales      = auth.Require(web.Sales...)
		dealDelete = auth.Require(web.DealDeleters...)
		exporters  = auth.Require(web.Exporters...)
	)
	var (
		authH    = auth.New(d)
		usersH   = users.New(d)
		accountH = account.New(d)
		notifH   = notifications.New(d)
		leadsH   = leadsweb.New(d)
		custH    = customers.New(d)
		pipeH    = pipelineweb.New(d)
		tasksH   = tasksweb.NewHandler(d)
		catalogH = catalog.New(d)
		quotesH  = quotesweb.New(d)
		ordersH  = ordersweb.New(d)
		jobsH    = jobs.New(d)
		outboxH  = outbox.New(d)
		docsH    = documentsweb.New(d)
		inboundH = inboundweb.New(d)
		importsH = imports.New(d)
	)
	notifications.RegisterLive(h, d.Q)
	imports.RegisterLive(h, d.Q)
	pipelineweb.RegisterLive(h, d.Q)
	tasksweb.RegisterLive(h)
	quotesweb.RegisterLive(h)
	sendweb.RegisterLive(h, d.Q)

	app.Get("/login", authH.LoginForm).Name("auth.login_form")
	app.Post("/login", authH.Login).Name("auth.login")
	app.Post("/logout", anyone, authH.Logout).Name("auth.logout")
	app.Get("/invite/:token", authH.InviteForm).Name("auth.invite_form")
	app.Post("/invite/:token", authH.AcceptInvite).Name("auth.invite_accept")

	dashH := dashboardweb.New(d)
	dashH.RegisterLive(h)
	app.Get("/", anyone, home.Show(tasksH.DayComponent, dashH.Home, dashH.Mine)).Name("home")
	// The dashboard: every role within its scope (the accountant: billing
	// tiles only; each tile refuses the roles it is not for).
	app.Get("/dashboard", anyone, dashH.Show).Name("dashboard.show")
	app.Get("/dashboard/tiles/:name", anyone, dashH.Tile).Name("dashboard.tile")

	app.Get("/leads", anyone, leadsH.List).Name("leads.list")
	app.Get("/leads/new", sales, leadsH.NewForm).Name("leads.new")
	app.Post("/leads", sales, leadsH.Create).Name("leads.create")
	app.Get("/leads/:id", anyone, leadsH.Show).Name("leads.show")
	app.Get("/leads/:id/edit", sales, leadsH.EditForm).Name("leads.edit")
	app.Post("/leads/:id", sales, leadsH.Update).Name("leads.update")

	// Customers: list and export, the form, the 360 page and its contacts,
	// and turning a lead into a customer. Visibility is by owner, as leads.
	app.Get("/customers", anyone, custH.List).Name("customers.list")
	app.Get("/customers/new", sales, custH.NewForm).Name("customers.new")
	app.Get("/customers/export.csv", exporters, custH.ExportCSV).Name("customers.export_csv")
	app.Get("/customers/export.xlsx", exporters, custH.ExportXLSX).Name("customers.export_xlsx")
	app.Post("/customers", sales, custH.Create).Name("customers.create")
	app.Get("/customers/:id", anyone, custH.Show).Name("customers.show")
	// The customer form is for sales and billing alike: which of its
	// fields each role may change is decided in customers (mayEdit).
	app.Get("/customers/:id/edit", anyone, custH.EditForm).Name("customers.edit")
	app.Post("/customers/:id", anyone, custH.Update).Name("customers.update")
	app.Post("/customers/:id/contacts", sales, custH.AddContact).Name("customers.contact_add")
	app.Post("/customers/:id/contacts/:contact", sales, custH.UpdateContact).Name("customers.contact_update")
	app.Post("/customers/:id/contacts/:contact/delete", sales, custH.DeleteContact).Name("customers.contact_delete")
	app.Get("/leads/:id/convert", sales, custH.ConvertForm).Name("customers.convert_form")
	app.Post("/leads/:id/convert", sales, custH.Convert).Name("customers.convert")

	app.Get("/account", anyone, accountH.Show).Name("account.show")
	app.Post("/account/locale", anyone, accountH.SetLocale).Name("account.locale")

	app.Get("/notifications", anyone, notifH.List).Name("notifications.list")
	app.Get("/notifications/bell", anyone, notifH.Bell).Name("notifications.bell")
	app.Post("/notifications/read-all", anyone, notifH.MarkAllRead).Name("notifications.read_all")
	app.Post("/notifications/:id/read", anyone, notifH.MarkRead).Name("notifications.read")
	app.Get("/admin/notify", admin, notifH.SendForm).Name("notifications.send_form")
	app.Post("/admin/notify", admin, notifH.Send).Name("notifications.send")

	app.Get("/admin", admin, home.Admin).Name("home.admin")
	app.Get("/admin/forms", admin, captureH.List).Name("capture.forms")
	app.Post("/admin/forms", admin, captureH.Create).Name("capture.create")
	app.Post("/admin/forms/:id/rotate", admin, captureH.Rotate).Name("capture.rotate")
	app.Post("/admin/forms/:id/toggle", admin, captureH.Toggle).Name("capture.toggle")
	// inbound e-mail and documents
	app.Get("/admin/inbox", admin, inboundH.Show).Name("inbound.show")
	app.Post("/admin/inbox/rotate", admin, inboundH.Rotate).Name("inbound.rotate")
	app.Post(bodies.Upload("/admin/inbox/upload", max(64<<20, 2*d.Cfg.InboundMaxBytes), "error.too_large"), admin, inboundH.Upload).Name("inbound.upload")
	app.Get("/leads/:id/documents", anyone, docsH.LeadList).Name("documents.lead_list")
	app.Post(bodies.Upload("/leads/:id/documents", d.Cfg.DocumentMaxBytes, "error.too_large"), sales, docsH.LeadUpload).Name("documents.lead_upload")
	app.Get("/customers/:id/documents", anyone, docsH.CustomerList).Name("documents.customer_list")
	app.Post(bodies.Upload("/customers/:id/documents", d.Cfg.DocumentMaxBytes, "error.too_large"), sales, docsH.CustomerUpload).Name("documents.customer_upload")
	app.Get("/documents/:id", anyone, docsH.Download).Name("documents.download")
	app.Post("/documents/:id/delete", sales, docsH.Delete).Name("documents.delete")
	app.Get("/admin/lead-rules", admin, leadsH.Rules).Name("leads.rules")
	app.Post("/admin/lead-rules", admin, leadsH.CreateRule).Name("leads.rules_create")
	app.Post("/admin/lead-rules/default", admin, leadsH.SetDefaultOwner).Name("leads.rules_default")
	app.Post("/admin/lead-rules/:id/up", admin, leadsH.MoveRuleUp).Name("leads.rules_up")
	app.Post("/admin/lead-rules/:id/down", admin, leadsH.MoveRuleDown).Name("leads.rules_down")
	app.Post("/admin/lead-rules/:id/delete", admin, leadsH.DeleteRule).Name("leads.rules_delete")
	app.Post("/admin/lead-rules/:id/toggle", admin, leadsH.ToggleRule).Name("leads.rules_toggle")
	// imports
	app.Get("/imports", admin, importsH.List).Name("imports.list")
	app.Post(bodies.Upload("/imports", imports.MaxUpload, "imports.too_big"), admin, importsH.Upload).Name("imports.upload")
	app.Get("/imports/cartera.xlsx", admin, importsH.Template).Name("imports.template")
	app.Get("/imports/:id", admin, importsH.Show).Name("imports.show")
	app.Post("/imports/:id/start", admin, importsH.Start).Name("imports.start")
	app.Get("/imports/:id/status", admin, importsH.StatusFragment).Name("imports.status")
	app.Get("/imports/:id/errors", admin, importsH.Errors).Name("imports.errors")
	app.Get("/admin/users", admin, usersH.List).Name("users.list")
	app.Post("/admin/users", admin, usersH.Invite).Name("users.invite")
	app.Post("/admin/users/:id/invite", admin, usersH.Reinvite).Name("users.reinvite")
	app.Post("/admin/users/:id/deactivate", admin, usersH.Deactivate).Name("users.deactivate")
	app.Post("/admin/users/:id/activate", admin, usersH.Activate).Name("users.activate")

	app.Get("/admin/jobs", admin, jobsH.List).Name("jobs.list")
	app.Post("/admin/jobs/:id/retry", admin, jobsH.Retry).Name("jobs.retry")
	app.Post("/admin/jobs/:id/cancel", admin, jobsH.Cancel).Name("jobs.cancel")

	app.Get("/admin/outbox", admin, outboxH.List).Name("mail.outbox")
	app.Get("/admin/outbox/:id", admin, outboxH.Show).Name("mail.show")
	app.Get("/admin/outbox/:id/html", admin, outboxH.HTML).Name("mail.html")

	// The pipeline: board, list, the deal's page and form, moves; settings.
	app.Get("/opportunities/board", anyone, pipeH.Board).Name("pipeline.board")
	app.Get("/opportunities", anyone, pipeH.List).Name("pipeline.list")
	app.Get("/opportunities/new", sales, pipeH.NewForm).Name("pipeline.new")
	app.Post("/opportunities", sales, pipeH.Create).Name("pipeline.create")
	app.Get("/opportunities/:id", anyone, pipeH.Show).Name("pipeline.show")
	app.Get("/opportunities/:id/edit", sales, pipeH.EditForm).Name("pipeline.edit")
	app.Post("/opportunities/:id", sales, pipeH.Update).Name("pipeline.update")
	app.Post("/opportunities/:id/move", sales, pipeH.Move).Name("pipeline.move")
	app.Post("/opportunities/:id/delete", dealDelete, pipeH.Delete).Name("pipeline.delete")
	app.Get("/admin/pipeline", admin, pipeH.Settings).Name("pipeline.settings")
	app.Post("/admin/pipeline", admin, pipeH.SaveSettings).Name("pipeline.settings_save")
	app.Post("/admin/pipeline/reasons", admin, pipeH.AddReason).Name("pipeline.reason_add")
	app.Post("/admin/pipeline/reasons/:id/toggle", admin, pipeH.ToggleReason).Name("pipeline.reason_toggle")

	// Tasks: My day, lists, the task page and its changes, the alert
	// centre, the agenda and its ICS feed (no session: the secret is the
	// key), and the admin's calendar, reasons and rules.
	app.Get("/my-day", anyone, tasksH.MyDay).Name("tasks.my_day")
	app.Get("/tasks", anyone, tasksH.List).Name("tasks.list")
	app.Get("/tasks/new", sales, tasksH.NewForm).Name("tasks.new")
	app.Post("/tasks", sales, tasksH.Create).Name("tasks.create")
	app.Get("/tasks/:id", anyone, tasksH.Show).Name("tasks.show")
	app.Post("/tasks/:id/complete", sales, tasksH.Complete).Name("tasks.complete")
	app.Post("/tasks/:id/cancel", sales, tasksH.Cancel).Name("tasks.cancel")
	app.Post("/tasks/:id/reschedule", sales, tasksH.Reschedule).Name("tasks.reschedule")
	app.Get("/alerts", anyone, tasksH.Alerts).Name("alerts.list")
	app.Post("/alerts/read-all", anyone, tasksH.ReadAllAlerts).Name("alerts.read_all")
	app.Post("/alerts/:id/read", anyone, tasksH.ReadAlert).Name("alerts.read")
	app.Get("/agenda", anyone, tasksH.Agenda).Name("agenda.show")
	app.Post("/agenda/feed/rotate", anyone, tasksH.RotateFeed).Name("agenda.rotate")
	app.Get("/agenda/feed/:token.ics", tasksH.Feed).Name("agenda.feed")
	app.Get("/admin/calendar", admin, tasksH.CalendarAdmin).Name("calendar.show")
	app.Post("/admin/calendar", admin, tasksH.SaveCalendar).Name("calendar.save")
	app.Post("/admin/calendar/holidays", admin, tasksH.AddHoliday).Name("calendar.holiday_add")
	app.Post("/admin/calendar/holidays/delete", admin, tasksH.DeleteHoliday).Name("calendar.holiday_delete")
	app.Get("/admin/task-reasons", admin, tasksH.Reasons).Name("reasons.list")
	app.Post("/admin/task-reasons", admin, tasksH.CreateReason).Name("reasons.create")
	app.Post("/admin/task-reasons/:id/toggle", admin, tasksH.ToggleReason).Name("reasons.toggle")
	app.Get("/admin/task-rules", admin, tasksH.Rules).Name("task_rules.list")
	app.Post("/admin/task-rules", admin, tasksH.CreateRule).Name("task_rules.create")
	app.Post("/admin/task-rules/:id/toggle", admin, tasksH.ToggleRule).Name("task_rules.toggle")

	// Reports: each reads its viewer's scope; downloads (?format=) are for
	// exporters, checked in reportsweb, as the accountant's billing-only rule.
	reportsH := reportsweb.New(d)
	app.Get("/reports", anyone, reportsH.Index).Name("reports.index")
	app.Get("/reports/:report", anyone, reportsH.Show).Name("reports.show")
	// Sales targets: everyone sees their scope's page and the progress
	// fragment (#target-progress on the homes and the dashboard); managers
	// and admins set them (targets.MaySet decides whose).
	{
		setters := auth.Require(web.TargetSetters...)
		targetsH := targetsweb.New(d)
		app.Get("/targets", anyone, targetsH.List).Name("targets.list")
		app.Get("/targets/progress", anyone, targetsH.Progress).Name("targets.progress")
		app.Get("/targets/edit", setters, targetsH.Edit).Name("targets.edit")
		app.Post("/targets", setters, targetsH.Save).Name("targets.save")
	}

	// Autogestión › Suscripción: the org's plan, changing it and paying
	// the upgrade (the provider sends the browser back to /pagado), admins
	// only.
	app.Get(plansweb.Path, admin, plansH.Show).Name("plans.show")
	app.Post(plansweb.Path+"/cambio", admin, plansH.Change).Name("plans.change")
	app.Post(plansweb.Path+"/pago", admin, plansH.Pay).Name("plans.pay")
	app.Get(plansweb.Path+"/pagado", admin, plansH.Paid).Name("plans.paid")
	// The operator's plans (limits, policy, prices): the operator org's
	// admins only; anyone else gets 404, as if there were no such page.
	{
		operator := auth.RequireOperatorAdmin()
		operatorH := operatorweb.New(d)
		app.Get(operatorweb.Path, operator, operatorH.List).Name("operator.plans")
		app.Post(operatorweb.Path, operator, operatorH.Create).Name("operator.plan_create")
		app.Get(operatorweb.Path+"/nuevo", operator, operatorH.NewForm).Name("operator.plan_new")
		app.Get(operatorweb.Path+"/:id", operator, operatorH.Edit).Name("operator.plan_edit")
		app.Post(operatorweb.Path+"/:id", operator, operatorH.Update).Name("operator.plan_update")
	}

	// The catalog: everyone reads it, admins edit products and groups.
	app.Get("/catalog", anyone, catalogH.List).Name("catalog.list")
	app.Get("/catalog/new", admin, catalogH.NewForm).Name("catalog.new")
	app.Post("/catalog", admin, catalogH.Create).Name("catalog.create")
	app.Get("/catalog/groups", admin, catalogH.Groups).Name("catalog.groups")
	app.Post("/catalog/groups", admin, catalogH.AddGroup).Name("catalog.group_add")
	// Price lists, before /catalog/:id so their paths are not taken for ids.
	app.Get("/catalog/price-lists", admin, catalogH.PriceLists).Name("price_lists.list")
	app.Post("/catalog/price-lists", admin, catalogH.CreatePriceList).Name("price_lists.create")
	app.Get("/catalog/price-lists/:id", admin, catalogH.PriceList).Name("price_lists.show")
	app.Post("/catalog/price-lists/:id", admin, catalogH.UpdatePriceList).Name("price_lists.update")
	app.Post("/catalog/price-lists/:id/prices", admin, catalogH.SetPrice).Name("price_lists.price")
	app.Post("/catalog/price-lists/:id/customers", admin, catalogH.AssignCustomer).Name("price_lists.assign")
	app.Get("/catalog/price-lists/:id/pdf", admin, catalogH.PriceListPDF).Name("price_lists.pdf")
	app.Post("/catalog/price-lists/:id/send", admin, catalogH.SendPriceList).Name("price_lists.send")
	app.Get("/catalog/:id", anyone, catalogH.Show).Name("catalog.show")
	app.Post(bodies.Upload("/catalog/:id/image", catalog.MaxImageBytes, "catalog.image_invalid"), admin, catalogH.UploadImage).Name("catalog.image_upload")
	app.Post("/catalog/:id/image/delete", admin, catalogH.DeleteImage).Name("catalog.image_delete")
	app.Get("/catalog/:id/image/:hash/:size", anyone, catalogH.Image).Name("catalog.image")
	app.Get("/admin/logo", admin, catalogH.Logo).Name("logo.show")
	app.Get("/admin/logo.jpg", admin, catalogH.LogoImage).Name("logo.image")
	app.Post(bodies.Upload("/admin/logo", catalog.MaxImageBytes, "catalog.image_invalid"), admin, catalogH.SaveLogo).Name("logo.save")
	app.Post("/catalog/:id", admin, catalogH.Update).Name("catalog.update")

	// Quotes: the three-step editor (1 header, 2 lines with autosave, 3
	// review and send), the quote's page with versions and audit trail.
	// Visibility is by owner, as deals.
	app.Get("/quotes", anyone, quotesH.List).Name("quotes.list")
	app.Get("/quotes/new", sales, quotesH.NewForm).Name("quotes.new")
	app.Post("/quotes", sales, quotesH.Create).Name("quotes.create")
	app.Get("/quotes/:id", anyone, quotesH.Show).Name("quotes.show")
	app.Get("/quotes/:id/edit", sales, quotesH.Edit).Name("quotes.edit")
	app.Post("/quotes/:id/header", sales, quotesH.UpdateHeader).Name("quotes.header")
	app.Post("/quotes/:id/draft", sales, quotesH.SaveDraft).Name("quotes.draft")
	app.Get("/quotes/:id/products", sales, quotesH.Products).Name("quotes.products")
	app.Post("/quotes/:id/send", sales, quotesH.Send).Name("quotes.send")
	app.Post("/quotes/:id/revise", sales, quotesH.Revise).Name("quotes.revise")
	app.Post("/quotes/:id/revoke", sales, quotesH.Revoke).Name("quotes.revoke")
	app.Post("/quotes/:id/delete", sales, quotesH.Delete).Name("quotes.delete")
	app.Get("/quotes/:id/versions/:n/pdf", anyone, quotesH.PDF).Name("quotes.pdf")

	// Orders from signed quotes and their delivery notes.
	app.Post("/quotes/:id/order", sales, ordersH.Create).Name("orders.create")
	app.Get("/orders", anyone, ordersH.List).Name("orders.list")
	app.Get("/orders/:id", anyone, ordersH.Show).Name("orders.show")
	app.Post("/orders/:id/deliveries", sales, ordersH.Deliver).Name("orders.deliver")
	app.Get("/orders/:id/pdf", anyone, ordersH.PDF).Name("orders.pdf")
	app.Get("/delivery-notes/:id/pdf", anyone, ordersH.DeliveryNotePDF).Name("orders.delivery_note_pdf")

	// Invoices: the list, the by-hand editor (three steps; nothing is
	// stored before the last), an invoice's page and what can be done to
	// it, and invoicing an order or its delivery notes. Visibility is the
	// customer owner's (invoicesweb.load); anyone within it drafts, issues
	// and records payments, while voiding and correcting are billing's.
	// /invoices/new and /invoices/products come before /invoices/:id.
	billing := auth.Require(web.Billing...)
	invoicesH := invoicesweb.New(d)
	app.Get("/invoices", anyone, invoicesH.List).Name("invoices.list")
	app.Get("/invoices/new", anyone, invoicesH.NewForm).Name("invoices.new")
	app.Post("/invoices/new", anyone, invoicesH.Step).Name("invoices.step")
	app.Get("/invoices/products", anyone, invoicesH.Products).Name("invoices.products")
	app.Post("/invoices", anyone, invoicesH.Create).Name("invoices.create")
	app.Get("/invoices/:id", anyone, invoicesH.Show).Name("invoices.show")
	app.Get("/invoices/:id/pdf", anyone, invoicesH.PDF).Name("invoices.pdf")
	app.Get("/invoices/:id/edit", anyone, invoicesH.Edit).Name("invoices.edit")
	app.Post("/invoices/:id/issue", anyone, invoicesH.Issue).Name("invoices.issue")
	app.Post("/invoices/:id/delete", anyone, invoicesH.Delete).Name("invoices.delete")
	app.Post("/invoices/:id/payments", anyone, invoicesH.Payment).Name("invoices.payment")
	app.Post("/invoices/:id/invoice", anyone, invoicesH.FromProforma).Name("invoices.from_proforma")
	app.Post("/invoices/:id/void", billing, invoicesH.Void).Name("invoices.void")
	app.Get("/invoices/:id/correct", billing, invoicesH.CorrectForm).Name("invoices.correct_form")
	app.Post("/invoices/:id/correct", billing, invoicesH.Correct).Name("invoices.correct")
	app.Post("/orders/:id/invoice", anyone, invoicesH.FromOrder).Name("invoices.from_order")
	// Datos fiscales: what invoices say of the org as issuer.
	app.Get(invoicesweb.FiscalPath, admin, invoicesH.Fiscal).Name("invoices.fiscal")
	app.Post(invoicesweb.FiscalPath, admin, invoicesH.SaveFiscal).Name("invoices.fiscal_save")
	// A signed quote straight to its invoice draft: its order is made on the
	// way, which is a sales action.
	app.Post("/quotes/:id/invoice", sales, invoicesH.FromQuote).Name("invoices.from_quote")
	// VERI*FACTU certificate: the org's PKCS#12 for sending records to the
	// AEAT, admin only (the file streams; it is a few kilobytes).
	// Configuración › Integraciones: connected stores and their syncs.
	storeweb.RegisterLive(h, d.Q)
	app.Get(storeweb.Path, admin, storeH.List).Name("store.list")
	app.Post(storeweb.Path+"/mercadolibre/conectar", admin, storeH.Connect).Name("store.connect")
	app.Get(config.MLRedirectPath, admin, storeH.Back).Name("store.back")
	app.Get(storeweb.Path+"/:id", admin, storeH.Sync).Name("store.sync")
	app.Post(storeweb.Path+"/:id/sincronizar", admin, storeH.SyncNow).Name("store.sync_now")
	app.Post(storeweb.Path+"/:id/desconectar", admin, storeH.Disconnect).Name("store.disconnect")

	certH := certweb.New(d)
	app.Get(certweb.Path, admin, certH.Show).Name("verifactu.certificate")
	app.Post(bodies.Upload(certweb.Path, sending.MaxCertificateBytes, "verifactu.cert_too_big"), admin, certH.Save).Name("verifactu.certificate_save")
	// VERI*FACTU: the org's records with their sending state and XML, and
	// the chain check, for billing (admin, accountant); Pulso's
	// declaración responsable is public information, for anyone signed in.
	{
		billing := auth.Require(web.Billing...)
		ledgerH := ledgerweb.New(d)
		app.Get("/verifactu", billing, ledgerH.Records).Name("verifactu.records")
		app.Get("/verifactu/verify", billing, ledgerH.Verify).Name("verifactu.verify")
		app.Get("/verifactu/records/:id/xml", billing, ledgerH.XML).Name("verifactu.record_xml")
		app.Post("/verifactu/records/:id/resubmit", billing, ledgerH.Resubmit).Name("verifactu.record_resubmit")
		app.Get("/verifactu/declaracion", anyone, ledgerH.Declaracion).Name("verifactu.declaracion")
	}
	// Recurring invoice templates and the month-end run of delivery notes
	// (recapitulativas): billing's work, admins and accountants only. The
	// run's page moves live through the hub (topic invoice_run).
	{
		billing := auth.Require(web.Billing...)
		recurringH := recurringweb.New(d)
		recurringweb.RegisterLive(h, d.Q)
		app.Get("/recurring-invoices", billing, recurringH.List).Name("recurring.list")
		app.Get("/recurring-invoices/new", billing, recurringH.NewForm).Name("recurring.new")
		app.Post("/recurring-invoices", billing, recurringH.Create).Name("recurring.create")
		app.Get("/recurring-invoices/:id", billing, recurringH.Show).Name("recurring.show")
		app.Get("/recurring-invoices/:id/edit", billing, recurringH.Edit).Name("recurring.edit")
		app.Post("/recurring-invoices/:id", billing, recurringH.Update).Name("recurring.update")
		app.Post("/recurring-invoices/:id/pause", billing, recurringH.Pause).Name("recurring.pause")
		app.Post("/recurring-invoices/:id/resume", billing, recurringH.Resume).Name("recurring.resume")
		app.Get("/invoice-runs", billing, recurringH.Runs).Name("invoice_runs.list")
		app.Post("/invoice-runs", billing, recurringH.StartRun).Name("invoice_runs.start")
		app.Get("/invoice-runs/:id", billing, recurringH.ShowRun).Name("invoice_runs.show")
		app.Get("/invoice-runs/:id/status", billing, recurringH.RunStatus).Name("invoice_runs.status")
	}
	// Billing: the libro registro de facturas expedidas of a period, for
	// the accountant (web.Billing), and the page it is exported from.
	{
		billing := auth.Require(web.Billing...)
		booksH := booksweb.New(d)
		app.Get("/billing", billing, booksH.Show).Name("books.show")
		app.Get("/billing/books.csv", billing, booksH.CSV).Name("books.csv")
		app.Get("/billing/books.xlsx", billing, booksH.XLSX).Name("books.xlsx")
	}

	// The client's link: no session needed, the token is the credential;
	// throttled per client IP (across every instance) so tokens cannot be
	// guessed at speed.
	rate := d.Cfg.ClientLinkRate
	if rate <= 0 {
		rate = 60
	}
	clientLimit := web.Throttle(d.Q, "client_link", rate, time.Minute)
	app.Get("/q/:token", clientLimit, quotesH.ClientView).Name("quotes.client")
	app.Get("/q/:token/pdf", clientLimit, quotesH.ClientPDF).Name("quotes.client_pdf")
	app.Post("/q/:token/sign", clientLimit, quotesH.ClientSign).Name("quotes.client_sign")
	app.Post("/q/:token/reject", clientLimit, quotesH.ClientReject).Name("quotes.client_reject")

	// Invoice sends: the fragment of an invoice's page with its sends and
	// opens, and sending now, on schedule, changing, cancelling and
	// resending. Any role within the invoice's customer's scope (web.Load
	// in sendweb); the customer's link /i/:token needs no session and is
	// throttled with the quote links.
	sendsH := sendweb.New(d)
	app.Get("/invoices/:id/sends", anyone, sendsH.Show).Name("invoice_sends.show")
	app.Post("/invoices/:id/sends", anyone, sendsH.Create).Name("invoice_sends.create")
	app.Post("/invoices/:id/sends/:send/reschedule", anyone, sendsH.Reschedule).Name("invoice_sends.reschedule")
	app.Post("/invoices/:id/sends/:send/cancel", anyone, sendsH.Cancel).Name("invoice_sends.cancel")
	app.Post("/invoices/:id/sends/:send/resend", anyone, sendsH.Resend).Name("invoice_sends.resend")
	app.Get("/i/:token", clientLimit, sendsH.ClientView).Name("invoice_sends.client")
	app.Get("/i/:token/pdf", clientLimit, sendsH.ClientPDF).Name("invoice_sends.client_pdf")

	app.Use(func(c *fiber.Ctx) error { return web.ErrNotFound })
	return app
}

// accessLog writes one structured line per request, after it is handled, so
// it carries the status and the signed-in user. It names the route pattern,
// never the path: paths carry tokens (client links, feeds, invites).
func accessLog(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		route := web.RoutePattern(c)
		level := slog.LevelInfo
		switch route {
		case "/static/*", "/healthz", "/readyz":
			level = slog.LevelDebug
		}
		log.Log(c.UserContext(), level, "http request", web.RequestAttrs(c,
			slog.String("method", c.Method()), slog.String("route", route),
			slog.Int("status", status), slog.Duration("duration", time.Since(start)))...)
		return err
	}
}

// formAction is the CSP's form-action: our own pages, and the outside
// pages a form of ours redirects to — browsers hold a form's redirects to
// it too. "Conectar Mercado Libre" posts and lands on Mercado Libre's
// authorization page; paying an upgrade without JavaScript lands on the
// provider's checkout (with htmx it is a plain navigation, not held).
func formAction(cfg config.Config) string {
	out := "'self'"
	var outside []string
	if cfg.MLClientID != "" {
		outside = append(outside, cfg.MLAuthURL)
	}
	for _, u := range append(outside, cfg.PaymentsURL) {
		if o, err := url.Parse(u); err == nil && o.Scheme != "" && o.Host != "" {
			out += " " + o.Scheme + "://" + o.Host
		}
	}
	return out
}
