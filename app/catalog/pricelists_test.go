package catalog_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"pulso/app/apptest"
	"pulso/app/catalog"
	"pulso/app/web"
	"pulso/queries"
)

func pngOf(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		img.Set(x, x*h/w, color.NRGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

type shop struct {
	env           *apptest.Env
	org           queries.Org
	admin, rep    *apptest.Client
	drill, gloves int64
	customer      int64
}

func newShop(t *testing.T) *shop {
	env := apptest.New(t)
	s := &shop{env: env, org: env.Org("Listas S.L.")}
	s.admin = env.LoginAs(env.User(s.org, "admin@listas.test", web.RoleAdmin))
	repU := env.User(s.org, "rep@listas.test", web.RoleRep)
	s.rep = env.LoginAs(repU)
	ctx := context.Background()
	rate := int64(env.Count(`SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`))
	for _, p := range []struct {
		code, name string
		price      int64
		dst        *int64
	}{{"TAL", "Taladro", 10000, &s.drill}, {"GUA", "Guantes", 999, &s.gloves}} {
		pr, err := env.Q.CreateProduct(ctx, queries.CreateProductParams{OrgID: s.org.ID, Code: p.code, Name: p.name, Unit: "ud", Price: p.price, TaxRateID: rate, Active: true})
		if err != nil {
			t.Fatal(err)
		}
		*p.dst = pr.ID
	}
	owner := repU.ID
	cu, err := env.Q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: s.org.ID, LegalName: "Ferretería Sur", Country: "ES", OwnerID: &owner,
		Tags: []string{}, Email: "compras@sur.test"})
	if err != nil {
		t.Fatal(err)
	}
	s.customer = cu.ID
	return s
}

func (s *shop) list(t *testing.T, name, kind, percent string) int64 {
	t.Helper()
	r := s.admin.Post("/catalog/price-lists", url.Values{"name": {name}, "kind": {kind}, "percent": {percent}})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("create list: %d %s", r.Status, r.Body)
	}
	return int64(s.env.Count(`SELECT id FROM price_lists WHERE name = $1`, name))
}

func TestPriceListsPriceQuotesForTheirCustomers(t *testing.T) {
	s := newShop(t)
	// Bad input gets field messages.
	for name, f := range map[string]url.Values{
		"no name":      {"name": {" "}, "kind": {"percent"}, "percent": {"-10"}},
		"zero percent": {"name": {"A"}, "kind": {"percent"}, "percent": {"0"}},
		"-100 percent": {"name": {"A"}, "kind": {"percent"}, "percent": {"-100"}},
		"bad kind":     {"name": {"A"}, "kind": {"other"}},
	} {
		if r := s.admin.Post("/catalog/price-lists", f); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, "field-error") {
			t.Errorf("%s: %d", name, r.Status)
		}
	}
	if r := s.rep.Get("/catalog/price-lists"); r.Status != http.StatusForbidden {
		t.Errorf("a rep opens price lists: %d", r.Status)
	}

	pro := s.list(t, "Profesionales", "percent", "-12,5")
	if r := s.admin.Post("/catalog/price-lists", url.Values{"name": {"Profesionales"}, "kind": {"fixed"}}); r.Status != http.StatusUnprocessableEntity {
		t.Errorf("duplicate name: %d", r.Status)
	}
	r := s.admin.Get(fmt.Sprintf("/catalog/price-lists/%d", pro))
	contains(t, r.Body, "87,50", "8,74") // 100 − 12,5 %; 9,99 − 12,5 % = 8,74125
	fixed := s.list(t, "Mayorista", "fixed", "")
	if r := s.admin.Post(fmt.Sprintf("/catalog/price-lists/%d/prices", fixed), url.Values{"product_id": {fmt.Sprint(s.drill)}, "price": {"79,00"}}); r.Status != http.StatusSeeOther {
		t.Fatalf("set price: %d", r.Status)
	}
	if n := s.env.Count(`SELECT count(*) FROM price_list_items WHERE price_list_id = $1 AND product_id = $2 AND price = 7900`, fixed, s.drill); n != 1 {
		t.Fatal("fixed price not stored")
	}
	// Assign the fixed list; a quote for the customer takes its prices.
	if r := s.admin.Post(fmt.Sprintf("/catalog/price-lists/%d/customers", fixed), url.Values{"customer_id": {fmt.Sprint(s.customer)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("assign: %d", r.Status)
	}
	if n := s.env.Count(`SELECT count(*) FROM customers WHERE id = $1 AND price_list_id = $2`, s.customer, fixed); n != 1 {
		t.Fatalf("customer not on the list")
	}
	r = s.rep.Post("/quotes", url.Values{"customer_id": {fmt.Sprint(s.customer)}})
	var qid int64
	fmt.Sscanf(r.Header.Get("Location"), "/quotes/%d/edit", &qid)
	rev := fmt.Sprint(s.env.Count(`SELECT revision FROM quotes WHERE id = $1`, qid))
	r = s.rep.Post(fmt.Sprintf("/quotes/%d/draft", qid), url.Values{"revision": {rev}, "valid_until": {time.Now().AddDate(0, 0, 10).Format("2006-01-02")},
		"add_product": {fmt.Sprint(s.drill)}})
	if n := s.env.Count(`SELECT count(*) FROM quote_lines WHERE quote_id = $1 AND product_id = $2 AND unit_price = 7900`, qid, s.drill); n != 1 {
		t.Errorf("the quote line does not take the customer's list price (%d): %d lines, prices %d", r.Status, s.env.Count(`SELECT count(*) FROM quote_lines WHERE quote_id = $1`, qid), s.env.Count(`SELECT coalesce(max(unit_price),0) FROM quote_lines WHERE quote_id = $1`, qid))
	}
	// A product the fixed list has no price for keeps its base price.
	if got := catalogPrice(t, s, s.gloves); got != 999 {
		t.Errorf("gloves in the fixed list: %d", got)
	}
	// PDF and e-mail to the customer.
	r = s.admin.Get(fmt.Sprintf("/catalog/price-lists/%d/pdf", fixed))
	if r.Status != 200 || !strings.HasPrefix(r.Body, "%PDF-") {
		t.Fatalf("price list PDF: %d", r.Status)
	}
	if r := s.admin.Post(fmt.Sprintf("/catalog/price-lists/%d/send", fixed), url.Values{"customer_id": {fmt.Sprint(s.customer)}}); r.Status != http.StatusSeeOther {
		t.Fatalf("send: %d", r.Status)
	}
	s.admin.Post(fmt.Sprintf("/catalog/price-lists/%d/send", fixed), url.Values{"customer_id": {fmt.Sprint(s.customer)}})
	if n := s.env.Count(`SELECT count(*) FROM emails e JOIN email_attachments a ON a.email_id = e.id WHERE e.template = 'price_list' AND e.to_address = 'compras@sur.test'`); n != 1 {
		t.Errorf("price list e-mails with the PDF: %d, want 1 (a double tap sends once)", n)
	}
}

func catalogPrice(t *testing.T, s *shop, product int64) int64 {
	t.Helper()
	var base int64
	if err := s.env.DB.QueryRow(context.Background(), `SELECT price FROM products WHERE id = $1`, product).Scan(&base); err != nil {
		t.Fatal(err)
	}
	got, err := quotesPriceFor(s, product, base)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestProductImagesAndLogo(t *testing.T) {
	s := newShop(t)
	// A phone photo: big, resized on the way in.
	big := pngOf(3000, 2000)
	r := s.admin.PostFiles(fmt.Sprintf("/catalog/%d/image", s.drill), nil, apptest.File{Field: "image", Name: "taladro.png", Data: big})
	if r.Status != http.StatusSeeOther {
		t.Fatalf("upload: %d", r.Status)
	}
	var w, h int
	var hash string
	var thumb []byte
	if err := s.env.DB.QueryRow(context.Background(), `SELECT width, height, sha256, thumb FROM product_images WHERE product_id = $1`, s.drill).Scan(&w, &h, &hash, &thumb); err != nil {
		t.Fatal(err)
	}
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(thumb))
	if w != 1024 || h != 682 || err != nil || cfg.Width != 160 || cfg.Height != 106 {
		t.Fatalf("stored %d×%d, thumb %d×%d (%v)", w, h, cfg.Width, cfg.Height, err)
	}
	// The list shows the thumbnail; it is served with a year of caching.
	list := s.rep.Get("/catalog")
	turl := catalog.ImageURL(s.drill, hash, "thumb")
	contains(t, list.Body, turl)
	img := s.rep.Get(turl)
	if img.Status != 200 || img.Header.Get("Content-Type") != "image/jpeg" || !strings.Contains(img.Header.Get("Cache-Control"), "max-age=31536000") {
		t.Fatalf("thumbnail: %d %v", img.Status, img.Header)
	}
	if r := s.rep.Get(catalog.ImageURL(s.drill, strings.Repeat("0", 64), "thumb")); r.Status != 404 {
		t.Errorf("stale hash: %d", r.Status)
	}
	// Not a picture, or a rep: refused.
	r = s.admin.PostFiles(fmt.Sprintf("/catalog/%d/image", s.gloves), nil, apptest.File{Field: "image", Name: "x.png", Data: []byte("not an image")})
	if n := s.env.Count(`SELECT count(*) FROM product_images WHERE product_id = $1`, s.gloves); n != 0 || r.Status != http.StatusSeeOther {
		t.Errorf("a non-image was stored (%d)", r.Status)
	}
	if r := s.rep.PostFiles(fmt.Sprintf("/catalog/%d/image", s.gloves), nil, apptest.File{Field: "image", Name: "x.png", Data: pngOf(100, 100)}); r.Status != http.StatusForbidden {
		t.Errorf("a rep uploads a picture: %d", r.Status)
	}
	// The logo heads the PDFs.
	if r := s.admin.PostFiles("/admin/logo", nil, apptest.File{Field: "logo", Name: "logo.png", Data: pngOf(1200, 400)}); r.Status != http.StatusSeeOther {
		t.Fatalf("logo: %d", r.Status)
	}
	if n := s.env.Count(`SELECT count(*) FROM orgs WHERE id = $1 AND logo IS NOT NULL AND length(logo) < 524288`, s.org.ID); n != 1 {
		t.Fatal("logo not stored")
	}
	fixed := s.list(t, "Con logo", "percent", "5")
	pdf := s.admin.Get(fmt.Sprintf("/catalog/price-lists/%d/pdf", fixed)).Body
	if !strings.Contains(pdf, "/Subtype /Image") {
		t.Error("the price list PDF has no logo")
	}
}
