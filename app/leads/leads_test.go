package leads_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"pulso/app/apptest"
	"pulso/app/web"
)

type world struct{ *apptest.World }

func newWorld(t *testing.T) *world { return &world{apptest.NewWorld(t, "Leads S.L.", "leads.test")} }

func lead(overrides map[string]string) url.Values {
	v := url.Values{"name": {"Ferretería Sol"}, "contact_name": {"Ana Pérez"}, "country": {"ES"}, "status": {"nuevo"}}
	for k, x := range overrides {
		v.Set(k, x)
	}
	return v
}

var leadURL = regexp.MustCompile(`^/leads/(\d+)$`)

func create(t *testing.T, c *apptest.Client, v url.Values) (apptest.Response, string) {
	t.Helper()
	r := c.Post("/leads", v)
	m := leadURL.FindStringSubmatch(r.Header.Get("Location"))
	if m == nil {
		return r, ""
	}
	return r, m[1]
}

func TestCreateNormalisesAndOwnsByRep(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	r, id := create(t, w.RepC, lead(map[string]string{"email": " Ana@Ferreteria-Sol.ES ", "phone": "600 11 22 33", "tax_id": "b-12345674", "tags": "Feria, ferretería , feria"}))
	if r.Status != http.StatusSeeOther || id == "" {
		t.Fatalf("create: %d %s %.300s", r.Status, r.Header.Get("Location"), r.Body)
	}
	var email, phone, taxID, source string
	var owner int64
	var tags []string
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT email, phone, tax_id, source, owner_id, tags FROM leads WHERE id = $1`, id).
		Scan(&email, &phone, &taxID, &source, &owner, &tags); err != nil {
		t.Fatal(err)
	}
	if email != "ana@ferreteria-sol.es" || phone != "+34600112233" || taxID != "B12345674" || source != "manual" || owner != w.Rep.ID {
		t.Errorf("stored %q %q %q %q owner %d", email, phone, taxID, source, owner)
	}
	if strings.Join(tags, ",") != "feria,ferretería" {
		t.Errorf("tags %v", tags)
	}
	page := w.RepC.Get("/leads/" + id)
	for _, want := range []string{"Ferretería Sol", "ana@ferreteria-sol.es", "+34600112233", "B12345674"} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("lead page lacks %q", want)
		}
	}
}

func TestCreateRejectsBadInput(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	cases := []struct {
		name, field, value, message string
	}{
		{"no name", "name", "", "Este campo es obligatorio."},
		{"long name", "name", strings.Repeat("a", 201), "El texto es demasiado largo."},
		{"bad email", "email", "ana@", ""},
		{"bad phone", "phone", "12", ""},
		{"bad NIF letter", "tax_id", "12345678A", ""},
		{"bad country", "country", "FR", "Elija una opción de la lista."},
		{"bad status", "status", "ganado", "Elija una opción de la lista."},
		{"converted by hand", "status", "convertido", "Elija una opción de la lista."},
		{"discarded without reason", "status", "descartado", "Indique por qué se descarta."},
		{"NUL in notes", "notes", "a\x00b", ""},
		{"other rep as owner", "owner_id", "", ""},
		{"bad owner id", "owner_id", "abc", "Elija una opción de la lista."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := lead(map[string]string{tc.field: tc.value})
			if tc.name == "other rep as owner" {
				v.Set("owner_id", fmt.Sprint(w.Rep2.ID))
			}
			r, _ := create(t, w.RepC, v)
			if r.Status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d, want 422", r.Status)
			}
			if tc.message != "" && !strings.Contains(r.Body, tc.message) {
				t.Errorf("no %q next to the field", tc.message)
			}
			if !strings.Contains(r.Body, `aria-invalid="true"`) {
				t.Errorf("no field marked invalid")
			}
		})
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads`); n != 0 {
		t.Errorf("%d leads created from bad input", n)
	}
}

func TestDuplicateWarningMergeOrKeepBoth(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, first := create(t, w.RepC, lead(map[string]string{"email": "compras@sol.es", "notes": "primera visita"}))
	if first == "" {
		t.Fatal("first lead not created")
	}
	// Same e-mail typed differently: the form comes back with the match.
	dup := lead(map[string]string{"name": "Sol Ferreterías", "email": "COMPRAS@sol.es", "phone": "+34 611 22 33 44", "notes": "segunda visita"})
	r, _ := create(t, w.RepC, dup)
	if r.Status != http.StatusConflict || !strings.Contains(r.Body, `data-testid="duplicates"`) || !strings.Contains(r.Body, "/leads/"+first) {
		t.Fatalf("duplicate warning: %d %.500s", r.Status, r.Body)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads`); n != 1 {
		t.Fatalf("%d leads after the warning, want 1", n)
	}
	// Merge: the existing lead gains the phone and the note, keeps its name.
	merge := lead(map[string]string{"name": "Sol Ferreterías", "email": "compras@sol.es", "phone": "+34 611 22 33 44", "notes": "segunda visita", "merge_into": first})
	if r, _ := create(t, w.RepC, merge); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/leads/"+first {
		t.Fatalf("merge: %d %s", r.Status, r.Header.Get("Location"))
	}
	var name, phone, notes string
	var version int
	if err := w.Env.DB.QueryRow(context.Background(), `SELECT name, phone, notes, version FROM leads WHERE id = $1`, first).Scan(&name, &phone, &notes, &version); err != nil {
		t.Fatal(err)
	}
	if name != "Ferretería Sol" || phone != "+34611223344" || notes != "primera visita\n\nsegunda visita" || version != 2 {
		t.Errorf("after merge: %q %q %q v%d", name, phone, notes, version)
	}
	// Keep both: a second lead exists.
	dup.Set("keep_both", "1")
	if r, id := create(t, w.RepC, dup); r.Status != http.StatusSeeOther || id == "" || id == first {
		t.Fatalf("keep both: %d", r.Status)
	}
	if n := w.Env.Count(`SELECT count(*) FROM leads`); n != 2 {
		t.Errorf("%d leads, want 2", n)
	}
	// Another rep sees that a duplicate exists but cannot open or merge it.
	r, _ = create(t, w.Rep2C, lead(map[string]string{"phone": "611223344"}))
	if r.Status != http.StatusConflict || strings.Contains(r.Body, "/leads/"+first) || !strings.Contains(r.Body, "otro comercial") {
		t.Errorf("rep2 duplicate view: %d", r.Status)
	}
	if r, _ := create(t, w.Rep2C, lead(map[string]string{"phone": "611223344", "merge_into": first})); r.Status != http.StatusNotFound {
		t.Errorf("rep2 merging into rep's lead: %d, want 404", r.Status)
	}
	// Another org's identical lead is no duplicate, and nothing of it shows.
	other := w.Env.LoginAs(w.Env.User(w.Env.Org("Otra S.A."), "admin@otra.test", web.RoleAdmin))
	if r, id := create(t, other, lead(map[string]string{"email": "compras@sol.es"})); r.Status != http.StatusSeeOther || id == "" {
		t.Errorf("other org's lead with the same e-mail: %d %.200s", r.Status, r.Body)
	}
	if r, _ := create(t, other, lead(map[string]string{"email": "compras@sol.es", "merge_into": first})); r.Status != http.StatusNotFound {
		t.Errorf("other org merging into this org's lead: %d, want 404", r.Status)
	}
}

func TestVisibilityByRole(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, mine := create(t, w.RepC, lead(map[string]string{"name": "De Rosa"}))
	_, theirs := create(t, w.Rep2C, lead(map[string]string{"name": "De Rafael"}))
	for _, tc := range []struct {
		who         string
		c           *apptest.Client
		sees, hides []string
	}{
		{"rep", w.RepC, []string{mine}, []string{theirs}},
		{"manager of rep", w.ManagerC, []string{mine}, []string{theirs}},
		{"admin", w.AdminC, []string{mine, theirs}, nil},
	} {
		list := tc.c.Get("/leads")
		for _, id := range tc.sees {
			if !strings.Contains(list.Body, `id="lead-`+id+`"`) {
				t.Errorf("%s does not see lead %s in the list", tc.who, id)
			}
			if r := tc.c.Get("/leads/" + id); r.Status != http.StatusOK {
				t.Errorf("%s opening lead %s: %d", tc.who, id, r.Status)
			}
		}
		for _, id := range tc.hides {
			if strings.Contains(list.Body, `id="lead-`+id+`"`) {
				t.Errorf("%s sees lead %s in the list", tc.who, id)
			}
			if r := tc.c.Get("/leads/" + id); r.Status != http.StatusNotFound {
				t.Errorf("%s opening lead %s: %d, want 404", tc.who, id, r.Status)
			}
			if r := tc.c.Post("/leads/"+id, lead(map[string]string{"version": "1"})); r.Status != http.StatusNotFound {
				t.Errorf("%s editing lead %s: %d, want 404", tc.who, id, r.Status)
			}
		}
	}
}

func TestSearchFiltersAndPaging(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for i := 0; i < 30; i++ {
		status := "nuevo"
		if i%3 == 0 {
			status = "contactado"
		}
		if r, _ := create(t, w.AdminC, lead(map[string]string{"name": fmt.Sprintf("Cliente %02d", i), "status": status, "owner_id": fmt.Sprint(w.Rep.ID),
			"email": fmt.Sprintf("c%02d@x%02d.es", i, i), "tags": map[bool]string{true: "feria", false: ""}[i%5 == 0], "keep_both": "1"})); r.Status != http.StatusSeeOther {
			t.Fatalf("seed %d: %d %.300s", i, r.Status, r.Body)
		}
	}
	ids := regexp.MustCompile(`id="lead-(\d+)"`)
	count := func(path string) int { return len(ids.FindAllString(w.AdminC.Get(path).Body, -1)) }
	if n := count("/leads"); n != 25 {
		t.Errorf("first page has %d leads, want 25", n)
	}
	first := w.AdminC.Get("/leads").Body
	more := regexp.MustCompile(`href="(/leads\?before=\d+)"`).FindStringSubmatch(first)
	if more == nil {
		t.Fatal("no link to the next page")
	}
	if n := count(strings.ReplaceAll(more[1], "&amp;", "&")); n != 5 {
		t.Errorf("second page has %d leads, want 5", n)
	}
	for path, want := range map[string]int{
		"/leads?q=cliente%2007":    1,
		"/leads?q=C07%40X07":       1, // e-mail, case-insensitive
		"/leads?q=%25":             0, // LIKE wildcards match themselves
		"/leads?status=contactado": 10,
		"/leads?tag=feria":         6,
		"/leads?status=bogus":      25, // unknown filter values are ignored
		"/leads?q=zzz":             0,
	} {
		if n := count(path); n != want {
			t.Errorf("%s: %d leads, want %d", path, n, want)
		}
	}
	// htmx search returns only the results fragment.
	w.AdminC.HTMX = true
	r := w.AdminC.Get("/leads?q=cliente")
	w.AdminC.HTMX = false
	if strings.Contains(r.Body, "<html") || !strings.Contains(r.Body, `id="leads-results"`) {
		t.Errorf("htmx search should return the results fragment only")
	}
}

func TestConcurrentEditsDoNotOverwrite(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, id := create(t, w.RepC, lead(nil))
	edit := func(c *apptest.Client, name string) int {
		return c.Post("/leads/"+id, lead(map[string]string{"name": name, "version": "1", "owner_id": fmt.Sprint(w.Rep.ID)})).Status
	}
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	for i, c := range []*apptest.Client{w.RepC, w.ManagerC} {
		wg.Add(1)
		go func(i int, c *apptest.Client) {
			defer wg.Done()
			statuses[i] = edit(c, fmt.Sprintf("Nombre %d", i))
		}(i, c)
	}
	wg.Wait()
	ok, conflict := 0, 0
	for _, s := range statuses {
		switch s {
		case http.StatusSeeOther:
			ok++
		case http.StatusConflict:
			conflict++
		}
	}
	if ok != 1 || conflict != 1 {
		t.Fatalf("statuses %v, want one save and one conflict", statuses)
	}
	if n := w.Env.Count(`SELECT version FROM leads WHERE id = $1`, id); n != 2 {
		t.Errorf("version %d, want 2", n)
	}
	if r := w.RepC.Post("/leads/"+id, lead(map[string]string{"version": "1", "owner_id": fmt.Sprint(w.Rep.ID)})); r.Status != http.StatusConflict || !strings.Contains(r.Body, "Otra persona ha cambiado") {
		t.Errorf("stale edit: %d", r.Status)
	}
}
