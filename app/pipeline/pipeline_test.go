package pipeline_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/pipeline"
	"pulso/queries"
)

type world struct {
	*apptest.World
	customer, otherCust int64
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{World: apptest.NewWorld(t, "Ventas Norte S.L.", "norte.test")}
	env := w.Env
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		owner int64
		dst   *int64
	}{{"Bodegas Ebro S.L.", w.Rep.ID, &w.customer}, {"Ajena S.A.", w.Rep2.ID, &w.otherCust}} {
		owner := c.owner
		cu, err := env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: w.Org.ID, LegalName: c.name, Country: "ES", OwnerID: &owner, Tags: []string{}})
		if err != nil {
			t.Fatal(err)
		}
		*c.dst = cu.ID
	}
	return w
}

var oppURL = regexp.MustCompile(`^/opportunities/(\d+)$`)

func (w *world) create(t *testing.T, c *apptest.Client, owner queries.User, customer int64, title, amount string) string {
	t.Helper()
	r := c.Post("/opportunities", url.Values{"customer_id": {fmt.Sprint(customer)}, "title": {title}, "amount": {amount},
		"probability": {"10"}, "owner_id": {fmt.Sprint(owner.ID)}, "expected_close": {"2026-12-15"}})
	m := oppURL.FindStringSubmatch(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %s %.400s", r.Status, r.Header.Get("Location"), r.Body)
	}
	return m[1]
}

func version(t *testing.T, env *apptest.Env, id string) string {
	t.Helper()
	var v int
	if err := env.DB.QueryRow(context.Background(), `SELECT version FROM opportunities WHERE id = $1`, id).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(v)
}

func contains(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(body, s) {
			t.Errorf("body lacks %q", s)
		}
	}
}

func TestCreateShowsOnTheBoardWithCountAndTotal(t *testing.T) {
	w := newWorld(t)
	id := w.create(t, w.RepC, w.Rep, w.customer, "Vinos para la tienda", "1.234,56")
	w.create(t, w.RepC, w.Rep, w.customer, "Segunda oferta", "100")
	w.create(t, w.Rep2C, w.Rep2, w.otherCust, "Oferta ajena", "5.000")

	board := w.RepC.Get("/opportunities/board")
	if board.Status != http.StatusOK {
		t.Fatalf("board: %d", board.Status)
	}
	contains(t, board.Body, `id="opp-`+id+`"`, "Vinos para la tienda", "Bodegas Ebro S.L.", "1.234,56\u00a0€",
		`data-count="2"`, `data-total="133456"`, "1.334,56\u00a0€", `data-move="oferta_presentada"`)
	if strings.Contains(board.Body, "Oferta ajena") {
		t.Error("a rep sees another rep's deal")
	}
	// The manager sees the team (rep), not the other rep; the admin sees all.
	if b := w.ManagerC.Get("/opportunities/board").Body; !strings.Contains(b, "Vinos para la tienda") || strings.Contains(b, "Oferta ajena") {
		t.Error("manager's board scope")
	}
	if b := w.AdminC.Get("/opportunities/board").Body; !strings.Contains(b, "Oferta ajena") || !strings.Contains(b, `data-count="3"`) {
		t.Error("admin's board scope")
	}
	// An admin filters by a manager's team (the manager and their reps).
	if b := w.AdminC.Get(fmt.Sprintf("/opportunities/board?team=%d", w.Manager.ID)).Body; !strings.Contains(b, "Vinos para la tienda") || strings.Contains(b, "Oferta ajena") ||
		!strings.Contains(b, fmt.Sprintf(`data-team="%d,%d"`, w.Rep.ID, w.Manager.ID)) {
		t.Error("team filter")
	}
	if r := w.AdminC.Get("/opportunities/board?team=x"); !strings.Contains(r.Body, `id="e-team"`) {
		t.Error("bad team filter has no message")
	}
	// Filters: amount range and close month, in the org's own number format.
	if b := w.AdminC.Get("/opportunities/board?min=1.000&max=2.000").Body; !strings.Contains(b, `data-count="1"`) || strings.Contains(b, "Segunda oferta") {
		t.Error("amount filter")
	}
	if b := w.AdminC.Get("/opportunities/board?month=2027-01").Body; strings.Contains(b, "Vinos para la tienda") {
		t.Error("month filter")
	}
	if r := w.AdminC.Get("/opportunities/board?month=junio&min=abc"); r.Status != http.StatusOK || !strings.Contains(r.Body, `id="e-month"`) || !strings.Contains(r.Body, `id="e-min"`) {
		t.Errorf("bad filters: %d", r.Status)
	}
	// The list view, with a stage filter.
	list := w.RepC.Get("/opportunities?stage=en_analisis")
	contains(t, list.Body, "Vinos para la tienda", "Segunda oferta")
	if r := w.RepC.Get("/opportunities?stage=ganada"); strings.Contains(r.Body, "Vinos para la tienda") {
		t.Error("stage filter")
	}
	// Another rep's deal is not found, for the page and for a move.
	if r := w.Rep2C.Get("/opportunities/" + id); r.Status != http.StatusNotFound {
		t.Errorf("other rep's deal: %d", r.Status)
	}
	if r := w.Rep2C.Post("/opportunities/"+id+"/move", url.Values{"stage": {"ganada"}, "version": {"1"}}); r.Status != http.StatusNotFound {
		t.Errorf("other rep's move: %d", r.Status)
	}
}

func TestFormRefusesBadInputField(t *testing.T) {
	w := newWorld(t)
	r := w.RepC.Post("/opportunities", url.Values{"customer_id": {fmt.Sprint(w.otherCust)}, "title": {""}, "amount": {"-5"},
		"probability": {"150"}, "owner_id": {fmt.Sprint(w.Rep2.ID)}, "expected_close": {"31/12/2026"}})
	if r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("bad form: %d", r.Status)
	}
	for _, f := range []string{"customer_id", "title", "amount", "probability", "owner_id", "expected_close"} {
		if !strings.Contains(r.Body, `id="e-`+f+`"`) {
			t.Errorf("no message next to %s", f)
		}
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities`); n != 0 {
		t.Errorf("%d deals saved", n)
	}
}

func TestMoveRecordsHistoryAndRefusesStaleVersions(t *testing.T) {
	w := newWorld(t)
	id := w.create(t, w.RepC, w.Rep, w.customer, "Vinos", "100")
	w.RepC.HTMX = true
	if r := w.RepC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"oferta_presentada"}, "version": {"1"}}); r.Status != http.StatusNoContent {
		t.Fatalf("move: %d %s", r.Status, r.Body)
	}
	// The manager moves it on; the rep's board still had version 1.
	if r := w.ManagerC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"en_negociacion"}, "version": {"2"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("manager's move: %d", r.Status)
	}
	r := w.RepC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"ganada"}, "version": {"1"}})
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, "User manager@norte.test cambió esta oportunidad antes") || r.Header.Get("HX-Trigger") != "pulso:resync" {
		t.Fatalf("stale move: %d %q %s", r.Status, r.Header.Get("HX-Trigger"), r.Body)
	}
	var stage string
	var prob int
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT stage, probability FROM opportunities WHERE id = $1`, id).Scan(&stage, &prob); err != nil || stage != "en_negociacion" || prob != 70 {
		t.Fatalf("stage %s probability %d %v", stage, prob, err)
	}
	// Cancelling needs an active reason.
	w.RepC.HTMX = false
	if r := w.RepC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"cancelada"}, "version": {"3"}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `id="e-cancel_reason_id"`) {
		t.Fatalf("cancel without reason: %d", r.Status)
	}
	w.Env.Exec(`INSERT INTO cancel_reasons (org_id, name) VALUES ($1, 'Precio'), ($1, 'Retirado')`, w.Org.ID)
	w.Env.Exec(`UPDATE cancel_reasons SET active = false WHERE name = 'Retirado'`)
	var precio, retirado int64
	_ = w.Env.DB.QueryRow(context.Background(), `SELECT id FROM cancel_reasons WHERE name = 'Precio'`).Scan(&precio)
	_ = w.Env.DB.QueryRow(context.Background(), `SELECT id FROM cancel_reasons WHERE name = 'Retirado'`).Scan(&retirado)
	if r := w.RepC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"cancelada"}, "version": {"3"}, "cancel_reason_id": {fmt.Sprint(retirado)}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("cancel with a retired reason: %d", r.Status)
	}
	if r := w.RepC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"cancelada"}, "version": {"3"}, "cancel_reason_id": {fmt.Sprint(precio)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("cancel: %d", r.Status)
	}
	if r := w.RepC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"perdida"}, "version": {"4"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("unknown stage: %d", r.Status)
	}
	show := w.RepC.Get("/opportunities/" + id)
	contains(t, show.Body, "Precio", `data-testid="history"`)
	rows, err := w.Env.DB.Query(context.Background(), `SELECT coalesce(from_stage, ''), to_stage, changed_by FROM opportunity_stage_history WHERE opportunity_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var from, to string
		var by int64
		if err := rows.Scan(&from, &to, &by); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s>%s:%d", from, to, by))
	}
	want := []string{
		fmt.Sprintf(">en_analisis:%d", w.Rep.ID), fmt.Sprintf("en_analisis>oferta_presentada:%d", w.Rep.ID),
		fmt.Sprintf("oferta_presentada>en_negociacion:%d", w.Manager.ID), fmt.Sprintf("en_negociacion>cancelada:%d", w.Rep.ID),
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("history\n got %v\nwant %v", got, want)
	}
}

// Fifty people move one card at once, each retrying with the version it
// reads after a refusal until its move lands (or finds the card already
// where it wanted it): no request fails otherwise, the history is one
// unbroken chain with exactly one row per version, and it ends where the
// deal is.
func TestFiftyConcurrentMovesOfOneCard(t *testing.T) {
	w := newWorld(t)
	id := w.create(t, w.RepC, w.Rep, w.customer, "Disputada", "100")
	stages := []string{"en_analisis", "oferta_presentada", "en_negociacion", "ganada"}
	clients := make([]*apptest.Client, 50)
	for i := range clients {
		clients[i] = w.Env.LoginAs(w.Rep)
		clients[i].CSRF()
	}
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for try := 0; try < 200; try++ {
				r := c.Post("/opportunities/"+id+"/move", url.Values{"stage": {stages[i%len(stages)]}, "version": {version(t, w.Env, id)}})
				if r.Status == http.StatusSeeOther {
					return
				}
				if r.Status != http.StatusConflict {
					t.Errorf("move: %d", r.Status)
					return
				}
			}
			t.Error("a mover never got through")
		}()
	}
	wg.Wait()
	rows, err := w.Env.DB.Query(context.Background(), `SELECT coalesce(from_stage, ''), to_stage FROM opportunity_stage_history WHERE opportunity_id = $1 ORDER BY id`, id)
	if err != nil {
		t.Fatal(err)
	}
	prev, n := "", 0
	for rows.Next() {
		var from, to string
		if err := rows.Scan(&from, &to); err != nil {
			t.Fatal(err)
		}
		if from != prev || from == to {
			t.Fatalf("history broken at row %d: %q → %q after %q", n, from, to, prev)
		}
		prev, n = to, n+1
	}
	var stage string
	var ver int
	_ = w.Env.DB.QueryRow(context.Background(), `SELECT stage, version FROM opportunities WHERE id = $1`, id).Scan(&stage, &ver)
	if n != ver || prev != stage || n < 4 {
		t.Fatalf("history rows %d, version %d, last row %s, deal in %s", n, ver, prev, stage)
	}
}

func TestEditConflictNamesWhoSaved(t *testing.T) {
	w := newWorld(t)
	id := w.create(t, w.RepC, w.Rep, w.customer, "Vinos", "100")
	form := url.Values{"customer_id": {fmt.Sprint(w.customer)}, "title": {"Vinos (revisado)"}, "amount": {"200"}, "probability": {"20"},
		"owner_id": {fmt.Sprint(w.Rep.ID)}, "version": {"1"}}
	if r := w.ManagerC.Post("/opportunities/"+id, form); r.Status != http.StatusSeeOther {
		t.Fatalf("manager's edit: %d %.300s", r.Status, r.Body)
	}
	form.Set("title", "Vinos (mío)")
	form.Del("_csrf") // Post added the manager's
	r := w.RepC.Post("/opportunities/"+id, form)
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, "User manager@norte.test cambió esta oportunidad antes") {
		t.Fatalf("second edit: %d %.2000s", r.Status, r.Body)
	}
	var title string
	_ = w.Env.DB.QueryRow(context.Background(), `SELECT title FROM opportunities WHERE id = $1`, id).Scan(&title)
	if title != "Vinos (revisado)" {
		t.Fatalf("title %q: the second save overwrote the first", title)
	}
	// Delete (a manager's) needs the current version too.
	if r := w.ManagerC.Post("/opportunities/"+id+"/delete", url.Values{"version": {"1"}}); r.Status != http.StatusConflict {
		t.Fatalf("stale delete: %d", r.Status)
	}
	if r := w.ManagerC.Post("/opportunities/"+id+"/delete", url.Values{"version": {"2"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("delete: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities WHERE deleted_at IS NULL`); n != 0 {
		t.Errorf("%d deals left", n)
	}
}

func TestConversionStartsTheHistory(t *testing.T) {
	w := newWorld(t)
	o, err := w.Env.Q.CreateOpportunity(context.Background(), queries.CreateOpportunityParams{OrgID: w.Org.ID, CustomerID: w.customer,
		Title: "De un potencial", Stage: "en_analisis", OwnerID: &w.Rep.ID, CreatedBy: &w.Rep.ID})
	if err != nil {
		t.Fatal(err)
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunity_stage_history WHERE opportunity_id = $1 AND from_stage IS NULL AND to_stage = 'en_analisis' AND changed_by = $2`, o.ID, w.Rep.ID); n != 1 {
		t.Fatalf("%d first rows", n)
	}
}

func TestSettings(t *testing.T) {
	w := newWorld(t)
	if r := w.RepC.Get("/admin/pipeline"); r.Status != http.StatusForbidden {
		t.Fatalf("rep on settings: %d", r.Status)
	}
	form := url.Values{}
	for _, s := range []string{"en_analisis", "oferta_presentada", "en_negociacion", "ganada", "cancelada"} {
		form.Set("probability_"+s, "50")
		form.Set("idle_days_"+s, "")
	}
	form.Set("probability_en_analisis", "120")
	form.Set("idle_days_oferta_presentada", "0")
	if r := w.AdminC.Post("/admin/pipeline", form); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, `id="e-probability_en_analisis"`) || !strings.Contains(r.Body, `id="e-idle_days_oferta_presentada"`) {
		t.Fatalf("bad settings: %d", r.Status)
	}
	form.Set("probability_en_analisis", "15")
	form.Set("idle_days_oferta_presentada", "3")
	if r := w.AdminC.Post("/admin/pipeline", form); r.Status != http.StatusSeeOther {
		t.Fatalf("settings: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM pipeline_stages WHERE org_id = $1 AND ((stage = 'en_analisis' AND probability = 15) OR (stage = 'oferta_presentada' AND idle_days = 3))`, w.Org.ID); n != 2 {
		t.Fatalf("saved %d", n)
	}
	if r := w.AdminC.Post("/admin/pipeline/reasons", url.Values{"name": {"Precio"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("reason: %d", r.Status)
	}
	if r := w.AdminC.Post("/admin/pipeline/reasons", url.Values{"name": {"Precio"}}); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "Ese motivo ya existe") {
		t.Fatalf("duplicate reason: %d", r.Status)
	}
	if r := w.AdminC.Post("/admin/pipeline/reasons", url.Values{"name": {" "}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("empty reason: %d", r.Status)
	}
	if r := w.AdminC.Post("/admin/pipeline/reasons/999999/toggle", nil); r.Status != http.StatusNotFound {
		t.Fatalf("unknown reason: %d", r.Status)
	}
}

// A move reaches the sockets of the owner's manager (and not another rep)
// as the card plus its state before and after, for board.js to apply.
func TestMoveIsPushedToOpenBoards(t *testing.T) {
	w := newWorld(t)
	id := w.create(t, w.RepC, w.Rep, w.customer, "Vinos en directo", "1.000")
	addr := w.Env.Serve()
	mgr, _, err := w.ManagerC.Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer mgr.Close()
	other, _, err := w.Rep2C.Dial(addr, "")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for deadline := time.Now().Add(5 * time.Second); w.Env.Hub.Sockets() < 2; {
		if time.Now().After(deadline) {
			t.Fatal("sockets not registered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	w.RepC.HTMX = true
	if r := w.RepC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"en_negociacion"}, "version": {"1"}}); r.Status != http.StatusNoContent {
		t.Fatalf("move: %d", r.Status)
	}
	_ = mgr.SetReadDeadline(time.Now().Add(5 * time.Second))
	var msg string
	for !strings.Contains(msg, `data-op="moved"`) {
		_, b, err := mgr.ReadMessage()
		if err != nil {
			t.Fatalf("manager's socket: %v", err)
		}
		msg = string(b)
	}
	contains(t, msg, `id="opp-live"`, `hx-swap-oob="true"`, `data-id="`+id+`"`, `id="opp-`+id+`"`, "Vinos en directo",
		`data-before="{&#34;stage&#34;:&#34;en_analisis&#34;,&#34;amount&#34;:100000`, `&#34;stage&#34;:&#34;en_negociacion&#34;`, `data-version="2"`)
	_ = other.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	for {
		_, b, err := other.ReadMessage()
		if err != nil {
			break // nothing for another rep
		}
		if strings.Contains(string(b), "Vinos en directo") {
			t.Fatal("another rep's socket got the deal")
		}
	}
}

// A deal idle in its stage past the stage's limit is marked on the board.
func TestIdleDealIsMarkedOnTheBoard(t *testing.T) {
	w := newWorld(t)
	id := w.create(t, w.RepC, w.Rep, w.customer, "Parada", "100")
	fresh := w.create(t, w.RepC, w.Rep, w.customer, "Reciente", "100")
	w.Env.Exec(`UPDATE opportunities SET stage_entered_at = now() - interval '30 days' WHERE id = $1`, id)
	board := w.RepC.Get("/opportunities/board").Body
	card := func(id string) string {
		i := strings.Index(board, `id="opp-`+id+`"`)
		j := strings.Index(board[i:], "</li>")
		return board[i : i+j]
	}
	if !strings.Contains(card(id), "data-alert") || !strings.Contains(card(id), `data-testid="idle"`) {
		t.Error("the idle deal is not marked")
	}
	if strings.Contains(card(fresh), "data-alert") {
		t.Error("a fresh deal is marked idle")
	}
}

// Deals idle in a stage past its limit alert their owner and manager once.
func TestIdleOpportunityAlerts(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.Env.Exec(`INSERT INTO opportunities (org_id, customer_id, title, stage, owner_id, stage_entered_at) VALUES
		($1, $2, 'Parada', 'en_analisis', $3, now() - interval '20 days'),
		($1, $2, 'Reciente', 'en_analisis', $3, now() - interval '2 days'),
		($1, $2, 'Ganada hace tiempo', 'ganada', $3, now() - interval '90 days')`, w.Org.ID, w.customer, w.Rep.ID)
	if n, err := pipeline.AlertIdle(ctx, w.Env.DB, w.Env.Deps.Jobs, time.Now()); err != nil || n != 2 {
		t.Fatalf("sweep: %d %v, want 2 (owner and manager of the idle deal)", n, err)
	}
	if n, err := pipeline.AlertIdle(ctx, w.Env.DB, w.Env.Deps.Jobs, time.Now()); err != nil || n != 0 {
		t.Fatalf("sweep again: %d %v", n, err)
	}
	contains(t, w.RepC.Get("/alerts").Body, "Parada", "Oportunidad parada")
}

// Deleting a deal is for managers and admins, and hides it rather than
// erasing it: the row and its stage history stay (reports count history),
// while the board and its counts, the list, its page, the customer's deals,
// the quote editor and the idle sweep all skip it.
func TestDeleteIsSoftAndForManagersAndAdmins(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	id := w.create(t, w.RepC, w.Rep, w.customer, "Trato por borrar", "100")
	w.create(t, w.RepC, w.Rep, w.customer, "Trato que queda", "50")
	if r := w.RepC.Post("/opportunities/"+id+"/move", url.Values{"stage": {"oferta_presentada"}, "version": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("move: %d", r.Status)
	}
	if strings.Contains(w.RepC.Get("/opportunities/"+id).Body, "/delete") {
		t.Error("the rep's deal page offers the delete")
	}
	if r := w.RepC.Post("/opportunities/"+id+"/delete", url.Values{"version": {"2"}}); r.Status != http.StatusForbidden {
		t.Errorf("rep's delete: %d, want 403", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities WHERE id = $1 AND deleted_at IS NULL`, id); n != 1 {
		t.Fatal("the rep's delete went through")
	}
	contains(t, w.ManagerC.Get("/opportunities/"+id).Body, "/opportunities/"+id+"/delete")
	if r := w.ManagerC.Post("/opportunities/"+id+"/delete", url.Values{"version": {"2"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("manager's delete: %d %.300s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunities WHERE id = $1 AND deleted_at IS NOT NULL AND deleted_by = $2`, id, w.Manager.ID); n != 1 {
		t.Error("the deal is not kept as deleted, by the manager")
	}
	if n := w.Env.Count(`SELECT count(*) FROM opportunity_stage_history WHERE opportunity_id = $1`, id); n != 2 {
		t.Errorf("%d history rows left, want 2", n)
	}
	for _, c := range []*apptest.Client{w.RepC, w.ManagerC, w.AdminC} {
		board := c.Get("/opportunities/board").Body
		if strings.Contains(board, "Trato por borrar") || !strings.Contains(board, "Trato que queda") {
			t.Error("the board still shows the deleted deal")
		}
		if !strings.Contains(board, `data-testid="col-oferta_presentada"><header class="board-col-head"><h2>Oferta presentada</h2><span class="board-count" data-count="0"`) {
			t.Error("the board counts the deleted deal")
		}
		if strings.Contains(c.Get("/opportunities").Body, "Trato por borrar") {
			t.Error("the list shows the deleted deal")
		}
		if r := c.Get("/opportunities/" + id); r.Status != http.StatusNotFound {
			t.Errorf("deleted deal's page: %d", r.Status)
		}
		if r := c.Post("/opportunities/"+id+"/move", url.Values{"stage": {"ganada"}, "version": {"3"}}); r.Status != http.StatusNotFound {
			t.Errorf("move of a deleted deal: %d", r.Status)
		}
		if strings.Contains(c.Get(fmt.Sprintf("/customers/%d?tab=opportunities", w.customer)).Body, "Trato por borrar") {
			t.Error("the customer's deals show the deleted deal")
		}
		if strings.Contains(c.Get(fmt.Sprintf("/quotes/new?customer_id=%d", w.customer)).Body, "Trato por borrar") {
			t.Error("the quote editor offers the deleted deal")
		}
	}
	// Idle past its stage's limit: no alert for a deleted deal.
	w.Env.Exec(`UPDATE opportunities SET stage_entered_at = now() - interval '60 days'`)
	w.Env.Exec(`UPDATE opportunities SET stage_entered_at = now() WHERE title = 'Trato que queda'`)
	if n, err := pipeline.AlertIdle(ctx, w.Env.DB, w.Env.Deps.Jobs, time.Now()); err != nil || n != 0 {
		t.Errorf("idle sweep: %d alerts %v, want none for a deleted deal", n, err)
	}
	// The admin deletes too.
	other := w.create(t, w.RepC, w.Rep, w.customer, "Otro por borrar", "10")
	if r := w.AdminC.Post("/opportunities/"+other+"/delete", url.Values{"version": {"1"}}); r.Status != http.StatusSeeOther {
		t.Errorf("admin's delete: %d", r.Status)
	}
}

// readUntil reads a socket until a message contains marker, and returns
// everything it read.
func readUntil(t *testing.T, conn interface {
	ReadMessage() (int, []byte, error)
	SetReadDeadline(time.Time) error
}, who, marker string) string {
	t.Helper()
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var all strings.Builder
	for !strings.Contains(all.String(), marker) {
		_, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("%s's socket before %q: %v", who, marker, err)
		}
		all.Write(b)
	}
	return all.String()
}

// A deal with no owner is seen by those who see every deal (admins and
// accountants), so only their sockets get its card: not a rep's, and not a
// manager's (their team owns nothing of it, and the card would lead to a
// 404 on their board).
func TestUnownedDealIsPushedOnlyToWhoSeesIt(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	acc := w.Env.LoginAs(w.Env.User(w.Org, "contable@norte.test", "accountant"))
	unowned, err := w.Env.Q.CreateOpportunityFull(ctx, queries.CreateOpportunityFullParams{OrgID: w.Org.ID, CustomerID: w.customer,
		Title: "Trato sin dueño", Amount: 100, Probability: 10, CreatedBy: &w.Admin.ID})
	if err != nil {
		t.Fatal(err)
	}
	mine := w.create(t, w.AdminC, w.Rep, w.customer, "Trato del comercial", "10")
	addr := w.Env.Serve()
	socks := map[string]*apptest.Client{"rep": w.RepC, "manager": w.ManagerC, "admin": w.AdminC, "accountant": acc}
	conns := map[string]interface {
		ReadMessage() (int, []byte, error)
		SetReadDeadline(time.Time) error
	}{}
	for who, c := range socks {
		conn, _, err := c.Dial(addr, "")
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conns[who] = conn
	}
	for deadline := time.Now().Add(5 * time.Second); w.Env.Hub.Sockets() < len(socks); {
		if time.Now().After(deadline) {
			t.Fatal("sockets not registered")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The unowned deal moves, then the rep's own deal: events reach each
	// socket in order, so whatever precedes the second card was sent for
	// the first.
	if r := w.AdminC.Post(fmt.Sprint("/opportunities/", unowned.ID, "/move"), url.Values{"stage": {"en_negociacion"}, "version": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("move unowned: %d", r.Status)
	}
	if r := w.AdminC.Post("/opportunities/"+mine+"/move", url.Values{"stage": {"en_negociacion"}, "version": {"1"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("move rep's: %d", r.Status)
	}
	// Admins and accountants see every deal in their lists, so both
	// sockets hear of both; the rep and the manager only of the rep's.
	for who, conn := range conns {
		got := readUntil(t, conn, who, "Trato del comercial")
		seesAll := who == "admin" || who == "accountant"
		if sees := strings.Contains(got, `id="opp-`+fmt.Sprint(unowned.ID)+`"`); sees != seesAll {
			t.Errorf("%s's socket got the unowned deal's card: %v, want %v", who, sees, seesAll)
		}
	}
}

// The deal form sets the product line (an article group of the org, or
// none), on create and on edit; another org's group or a bad id is refused
// next to the field.
func TestProductLineOnTheForm(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	var clima, mant, foreign int64
	for _, g := range []struct {
		org  int64
		name string
		dst  *int64
	}{{w.Org.ID, "Climatización", &clima}, {w.Org.ID, "Mantenimiento", &mant}, {w.Env.Org("Otra S.L.").ID, "Ajeno", &foreign}} {
		if err := w.Env.DB.QueryRow(ctx, `INSERT INTO article_groups (org_id, name) VALUES ($1, $2) RETURNING id`, g.org, g.name).Scan(g.dst); err != nil {
			t.Fatal(err)
		}
	}
	contains(t, w.RepC.Get("/opportunities/new").Body, "Línea de producto", "Climatización", "Sin línea de producto", `name="article_group_id"`)
	form := url.Values{"customer_id": {fmt.Sprint(w.customer)}, "title": {"Aire acondicionado"}, "amount": {"100"}, "probability": {"10"},
		"owner_id": {fmt.Sprint(w.Rep.ID)}, "article_group_id": {fmt.Sprint(clima)}}
	r := w.RepC.Post("/opportunities", form)
	m := oppURL.FindStringSubmatch(r.Header.Get("Location"))
	if r.Status != http.StatusSeeOther || m == nil {
		t.Fatalf("create: %d %.400s", r.Status, r.Body)
	}
	id := m[1]
	group := func() *int64 {
		var g *int64
		if err := w.Env.DB.QueryRow(ctx, `SELECT article_group_id FROM opportunities WHERE id = $1`, id).Scan(&g); err != nil {
			t.Fatal(err)
		}
		return g
	}
	if g := group(); g == nil || *g != clima {
		t.Fatalf("group after create: %v, want %d", g, clima)
	}
	if body := w.RepC.Get("/opportunities/" + id + "/edit").Body; !strings.Contains(body, fmt.Sprintf(`value="%d" selected`, clima)) {
		t.Errorf("edit form does not preselect the group: %.3000s", body)
	}
	for _, bad := range []string{fmt.Sprint(foreign), "abc", "-3"} {
		form.Set("article_group_id", bad)
		form.Set("version", version(t, w.Env, id))
		form.Del("_csrf")
		if r := w.RepC.Post("/opportunities/"+id, form); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "field--error") {
			t.Errorf("group %q: %d", bad, r.Status)
		}
	}
	for _, g := range []string{fmt.Sprint(mant), ""} {
		form.Set("article_group_id", g)
		form.Set("version", version(t, w.Env, id))
		form.Del("_csrf")
		if r := w.RepC.Post("/opportunities/"+id, form); r.Status != http.StatusSeeOther {
			t.Fatalf("edit to %q: %d %.400s", g, r.Status, r.Body)
		}
		got := group()
		if (g == "") != (got == nil) || (got != nil && fmt.Sprint(*got) != g) {
			t.Errorf("group after edit to %q: %v", g, got)
		}
	}
	// A deal from a lead takes the lead's source; others are manual.
	var lead int64
	if err := w.Env.DB.QueryRow(ctx, `INSERT INTO leads (org_id, name, country, source) VALUES ($1, 'Web', 'ES', 'web_form') RETURNING id`,
		w.Org.ID).Scan(&lead); err != nil {
		t.Fatal(err)
	}
	var fromLead, manual string
	if err := w.Env.DB.QueryRow(ctx, `INSERT INTO opportunities (org_id, customer_id, title, source_lead_id) VALUES ($1, $2, 'De la web', $3)
		RETURNING source`, w.Org.ID, w.customer, lead).Scan(&fromLead); err != nil {
		t.Fatal(err)
	}
	if err := w.Env.DB.QueryRow(ctx, `SELECT source FROM opportunities WHERE id = $1`, id).Scan(&manual); err != nil {
		t.Fatal(err)
	}
	if fromLead != "web_form" || manual != "manual" {
		t.Errorf("sources: from lead %q, typed %q", fromLead, manual)
	}
}
