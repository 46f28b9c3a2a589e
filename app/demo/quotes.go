package demo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/shopspring/decimal"

	"pulso/app/calendar"
	"pulso/app/catalog"
	"pulso/app/linktoken"
	"pulso/app/money"
	"pulso/app/orders"
	"pulso/app/quotes"
	"pulso/app/tax"
	"pulso/queries"
)

type demoProduct struct {
	code, name, group, unit string
	price                   int64
}

var demoProducts = []demoProduct{
	{"TAL-18V", "Taladro percutor 18 V", "Herramienta eléctrica", "ud", 12990},
	{"AMO-125", "Amoladora 125 mm", "Herramienta eléctrica", "ud", 7450},
	{"BRO-SET", "Juego de brocas (25 piezas)", "Accesorios", "ud", 2399},
	{"DIS-CORTE", "Disco de corte metal 125 mm", "Accesorios", "ud", 189},
	{"GUA-NIT", "Guantes de nitrilo (caja 100)", "Protección", "ud", 995},
	{"GAF-PRO", "Gafas de protección", "Protección", "ud", 650},
	{"MON-H", "Montaje e instalación", "Servicios", "h", 4000},
	{"PORTES", "Portes y entrega", "Servicios", "servicio", 1500},
}

// seedQuotes gives each demo org a small catalog (groups and products) and
// quotes in every state, made through the same functions the app uses:
// a draft, sent and opened, signed (deal won), rejected, expired, and one
// with two versions. The send and sign e-mails land in the outbox. It
// logs one live client link so a person can open it on a phone.
func seedQuotes(ctx context.Context, tx pgx.Tx, jobs *river.Client[pgx.Tx], keys linktoken.Keys, org queries.Org, users map[string]int64, log *slog.Logger) error {
	q := queries.New(tx)
	has, err := q.QuoteProducts(ctx, queries.QuoteProductsParams{OrgID: org.ID})
	if err != nil {
		return err
	}
	if len(has) > 0 {
		// Seeded already; a month later every demo link has expired, so
		// send a fresh quote when none can be opened.
		if _, err := q.DemoLiveQuoteLink(ctx, org.ID); errors.Is(err, pgx.ErrNoRows) {
			opps, err := q.ListOpportunities(ctx, queries.ListOpportunitiesParams{OrgID: org.ID, Stage: strp("en_negociacion"), PageSize: 1})
			if err != nil || len(opps) == 0 || opps[0].OwnerID == nil {
				return err
			}
			qt, rev, err := demoQuote(ctx, tx, org, opps[0], has, 0, time.Now())
			if err != nil {
				return err
			}
			if _, err := quotes.Send(ctx, tx, jobs, quotes.SendInput{OrgID: org.ID, QuoteID: qt.ID, Revision: rev, UserID: *opps[0].OwnerID,
				Locale: "es", Links: keys, Now: time.Now()}); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		return logLiveLink(ctx, q, keys, org, log)
	}
	rates, err := tax.IVAOn(ctx, q, org.Country, time.Now())
	if err != nil || len(rates) == 0 {
		return err
	}
	general := rates[0].ID
	groups := map[string]int64{}
	var products []queries.Product
	for _, p := range demoProducts {
		gid, ok := groups[p.group]
		if !ok {
			g, err := q.CreateArticleGroup(ctx, queries.CreateArticleGroupParams{OrgID: org.ID, Name: p.group})
			if err != nil {
				return err
			}
			gid, groups[p.group] = g.ID, g.ID
		}
		pr, err := q.CreateProduct(ctx, queries.CreateProductParams{OrgID: org.ID, Code: p.code, Name: p.name, GroupID: &gid,
			Unit: p.unit, Price: p.price, TaxRateID: general, Active: true})
		if err != nil {
			return err
		}
		products = append(products, pr)
		if err := seedImage(ctx, q, org.ID, pr.ID, len(products)); err != nil {
			return err
		}
	}
	if err := seedPriceLists(ctx, q, org, products); err != nil {
		return err
	}
	logo, _, _, err := catalog.Fit(bytes.NewReader(demoLogo()), 600)
	if err != nil {
		return err
	}
	if err := q.SetOrgLogo(ctx, queries.SetOrgLogoParams{ID: org.ID, Logo: logo}); err != nil {
		return err
	}
	opps, err := q.ListOpportunities(ctx, queries.ListOpportunitiesParams{OrgID: org.ID, Stage: strp("en_analisis"), PageSize: 12})
	if err != nil {
		return err
	}
	catalogRows, err := q.QuoteProducts(ctx, queries.QuoteProductsParams{OrgID: org.ID})
	if err != nil {
		return err
	}
	loc := calendar.ZoneOrUTC(org.TimeZone)
	now := time.Now()
	// Two signed: the demo bills the second's deliveries (one of the rep's
	// deals, so the other rep's data can go without frozen invoices), the
	// first is left for whoever tries the demo to invoice.
	states := []string{"draft", "opened", "signed", "rejected", "expired", "revised", "sent", "signed"}
	if len(opps) > len(states)-1 {
		for k, o := range opps[len(states)-1:] {
			if o.OwnerID != nil && *o.OwnerID == users["rep@demo.test"] {
				opps[len(states)-1], opps[len(states)-1+k] = o, opps[len(states)-1]
				break
			}
		}
	}
	for i, o := range opps {
		if i == len(states) || o.OwnerID == nil {
			break
		}
		state := states[i]
		when := now.Add(-time.Duration(len(states)-i) * 26 * time.Hour)
		if state == "expired" {
			when = now.AddDate(0, 0, -40)
		}
		// Two of them are for customers under a special regime: the editor
		// and the PDF show the recargo and the exemption's legend.
		if regime := map[string]string{"opened": "exempt", "sent": "recargo"}[state]; regime != "" && org.Country == "ES" {
			cause := map[string]string{"exempt": "E1"}[regime]
			if err := q.SetCustomerTax(ctx, queries.SetCustomerTaxParams{OrgID: org.ID, ID: o.CustomerID, TaxRegime: regime,
				ExemptCause: cause, IrpfRate: money.Numeric(decimal.Zero)}); err != nil {
				return err
			}
		}
		qt, rev, err := demoQuote(ctx, tx, org, o, catalogRows, i, when)
		if err != nil {
			return err
		}
		if state == "draft" {
			continue
		}
		if _, err := quotes.Send(ctx, tx, jobs, quotes.SendInput{OrgID: org.ID, QuoteID: qt.ID, Revision: rev, UserID: *o.OwnerID,
			Locale: "es", BaseURL: "", Links: keys, Now: when}); err != nil {
			return err
		}
		l, err := q.GetQuoteLink(ctx, queries.GetQuoteLinkParams{OrgID: org.ID, QuoteID: qt.ID, VersionN: 1})
		if err != nil {
			return err
		}
		link := queries.FindQuoteLinkRow{OrgID: org.ID, ID: l.ID, QuoteID: qt.ID, VersionN: 1, TokenHash: l.TokenHash, TokenNonce: l.TokenNonce, ExpiresAt: l.ExpiresAt}
		client := quotes.Client{UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) demo"}
		switch state {
		case "opened", "signed", "rejected", "revised":
			if err := quotes.RecordOpen(ctx, tx, jobs, link, client, when.Add(time.Hour)); err != nil {
				return err
			}
		}
		switch state {
		case "signed":
			err = quotes.Sign(ctx, tx, jobs, link, quotes.SignInput{Name: "Ana Ruiz", Signature: demoSignature(), Client: client, Now: when.Add(2 * time.Hour)})
			if err == nil {
				_, err = orders.FromQuote(ctx, tx, org.ID, qt.ID, o.OwnerID, when.Add(3*time.Hour), loc)
			}
		case "rejected":
			err = quotes.Reject(ctx, tx, jobs, link, "El precio supera nuestro presupuesto este trimestre.", client, when.Add(2*time.Hour))
		case "revised":
			cur, gerr := q.GetQuote(ctx, queries.GetQuoteParams{OrgID: org.ID, ID: qt.ID})
			if gerr != nil {
				return gerr
			}
			if _, err := q.OpenNextVersion(ctx, queries.OpenNextVersionParams{OrgID: org.ID, QuoteID: qt.ID,
				MinValidUntil: calendar.Date(now)}); err != nil {
				return err
			}
			if err := q.CopyQuoteLines(ctx, queries.CopyQuoteLinesParams{OrgID: org.ID, QuoteID: qt.ID, FromN: 1, ToN: 2}); err != nil {
				return err
			}
			_, err = quotes.Send(ctx, tx, jobs, quotes.SendInput{OrgID: org.ID, QuoteID: qt.ID, Revision: cur.Revision, UserID: *o.OwnerID,
				Locale: "es", Links: keys, Now: now.Add(-time.Hour)})
		}
		if err != nil {
			return err
		}
	}
	log.Info("seeded catalog and quotes", "org", org.Name, "products", len(products))
	return logLiveLink(ctx, q, keys, org, log)
}

// demoQuote writes a draft quote for deal o with a few of the catalog's
// products, dated when (valid 30 days from then), and returns it with its
// revision.
func demoQuote(ctx context.Context, tx pgx.Tx, org queries.Org, o queries.ListOpportunitiesRow, products []queries.QuoteProductsRow, i int, when time.Time) (queries.Quote, int32, error) {
	q := queries.New(tx)
	qt, err := q.CreateQuote(ctx, queries.CreateQuoteParams{OrgID: org.ID, CustomerID: o.CustomerID, OpportunityID: &o.ID,
		OwnerID: *o.OwnerID, CreatedBy: o.OwnerID})
	if err != nil {
		return qt, 0, err
	}
	day := calendar.Civil(when)
	if _, err := q.CreateQuoteVersion(ctx, queries.CreateQuoteVersionParams{OrgID: org.ID, QuoteID: qt.ID, N: 1,
		ValidUntil: pgtype.Date{Time: day.AddDate(0, 0, 30), Valid: true}, Currency: org.Currency}); err != nil {
		return qt, 0, err
	}
	full, err := q.GetQuote(ctx, queries.GetQuoteParams{OrgID: org.ID, ID: qt.ID})
	if err != nil {
		return qt, 0, err
	}
	in := quotes.DraftInput{ValidUntil: day.AddDate(0, 0, 30).Format("2006-01-02"), Terms: "Pago a 30 días. Portes incluidos desde 300 €.",
		Customer: quotes.CustomerTaxOf(full)}
	recargo, irpf := in.Customer.Defaults()
	in.Recargo, in.IRPF = recargo, irpf.String()
	for k := 0; k < 3+i%3; k++ {
		p := products[(i+k)%len(products)]
		in.Lines = append(in.Lines, quotes.LineInput{ProductID: fmt.Sprint(p.ID), Description: p.Name, Unit: p.Unit,
			Quantity: fmt.Sprint(1 + (i+k)%4), UnitPrice: fmt.Sprintf("%d,%02d", p.Price/100, p.Price%100), DiscountPct: []string{"", "5", "10"}[k%3],
			TaxRateID: fmt.Sprint(p.TaxRateID)})
	}
	d, errs, err := quotes.ParseDraft(ctx, q, org.ID, org.Country, in, day)
	if err != nil {
		return qt, 0, err
	}
	if len(errs) > 0 {
		return qt, 0, fmt.Errorf("demo quote draft: %v", errs)
	}
	rev, err := quotes.SaveDraft(ctx, tx, org.ID, qt.ID, qt.Revision, 1, d)
	return qt, rev, err
}

// seedImage stores product picture n (a tinted tile with a simple shape)
// as an upload would be.
func seedImage(ctx context.Context, q *queries.Queries, orgID, productID int64, n int) error {
	pic, err := picture(n)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(pic.large)
	return q.SaveProductImage(ctx, queries.SaveProductImageParams{OrgID: orgID, ProductID: productID, Sha256: hex.EncodeToString(sum[:]),
		Image: pic.large, Thumb: pic.thumb, Width: int32(pic.w), Height: int32(pic.h)})
}

// drawn is a product picture as catalog.Fit stores it.
type drawn struct {
	large, thumb []byte
	w, h         int
}

// pictures holds the pictures drawn so far, by n: picture n is always the
// same, and a process that seeds many orgs (the browser tests seed
// thirteen copies of the demo) draws and encodes each once.
var pictures sync.Map

// picture draws picture n: a tinted disc on a light tile, through
// catalog.Fit like an upload.
func picture(n int) (*drawn, error) {
	if p, ok := pictures.Load(n); ok {
		return p.(*drawn), nil
	}
	img := image.NewNRGBA(image.Rect(0, 0, 480, 480))
	tints := []color.NRGBA{{0x0f, 0x76, 0x6e, 255}, {0xb4, 0x53, 0x09, 255}, {0x1d, 0x4e, 0xd8, 255}, {0x7c, 0x3a, 0xed, 255}}
	tint := tints[n%len(tints)]
	for y := 0; y < 480; y++ {
		for x := 0; x < 480; x++ {
			c := color.NRGBA{245, 246, 248, 255}
			dx, dy := x-240, y-240
			if dx*dx+dy*dy < (90+n*12)*(90+n*12) {
				c = tint
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, err
	}
	large, w, h, err := catalog.Fit(&b, 1024)
	if err != nil {
		return nil, err
	}
	thumb, _, _, err := catalog.Fit(bytes.NewReader(large), 160)
	if err != nil {
		return nil, err
	}
	p, _ := pictures.LoadOrStore(n, &drawn{large: large, thumb: thumb, w: w, h: h})
	return p.(*drawn), nil
}

// seedPriceLists makes two lists: 10 % off for professionals (given to a
// few customers) and a wholesale list with fixed prices for some products.
func seedPriceLists(ctx context.Context, q *queries.Queries, org queries.Org, products []queries.Product) error {
	pro, err := q.CreatePriceList(ctx, queries.CreatePriceListParams{OrgID: org.ID, Name: "Profesionales", Kind: "percent",
		Percent: money.Numeric(decimal.NewFromInt(-10))})
	if err != nil {
		return err
	}
	whole, err := q.CreatePriceList(ctx, queries.CreatePriceListParams{OrgID: org.ID, Name: "Mayorista", Kind: "fixed", Percent: money.Numeric(decimal.Zero)})
	if err != nil {
		return err
	}
	for i, p := range products {
		if i%2 == 0 {
			if err := q.SetPriceListItem(ctx, queries.SetPriceListItemParams{OrgID: org.ID, PriceListID: whole.ID, ProductID: p.ID, Price: p.Price * 80 / 100}); err != nil {
				return err
			}
		}
	}
	cs, err := q.ListCustomers(ctx, queries.ListCustomersParams{OrgID: org.ID, PageSize: 6})
	if err != nil {
		return err
	}
	for i, c := range cs {
		list := pro.ID
		if i%2 == 1 {
			list = whole.ID
		}
		if i >= 4 {
			break
		}
		if err := q.SetCustomerPriceList(ctx, queries.SetCustomerPriceListParams{OrgID: org.ID, ID: c.Customer.ID, PriceListID: &list}); err != nil {
			return err
		}
	}
	return nil
}

// demoLogo is a simple mark: a teal rounded band with a white bar.
func demoLogo() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 600, 200))
	for y := 0; y < 200; y++ {
		for x := 0; x < 600; x++ {
			c := color.NRGBA{255, 255, 255, 0}
			if x < 200 && (x-100)*(x-100)+(y-100)*(y-100) < 90*90 {
				c = color.NRGBA{0x0f, 0x76, 0x6e, 255}
				if x > 80 && x < 120 && y > 50 && y < 150 {
					c = color.NRGBA{255, 255, 255, 255}
				}
			} else if x > 230 && y > 80 && y < 120 {
				c = color.NRGBA{0x1f, 0x29, 0x37, 255}
			}
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// logLiveLink prints the client link of a sent, unanswered, valid quote:
// open it (after the base URL) on a phone to sign it. Only the demo logs a
// token, on purpose: it is there to be opened by whoever runs the demo.
func logLiveLink(ctx context.Context, q *queries.Queries, keys linktoken.Keys, org queries.Org, log *slog.Logger) error {
	token, err := liveToken(ctx, q, keys, org.ID)
	if token == "" || err != nil {
		return err
	}
	log.Info("demo quote a client can sign (open it after the base URL, on a phone)", "org", org.Name, "path", "/q/"+token)
	return nil
}

// liveToken is the token of the org's quote that can be signed now; ""
// when there is none.
func liveToken(ctx context.Context, q *queries.Queries, keys linktoken.Keys, orgID int64) (string, error) {
	nonce, err := q.DemoLiveQuoteLink(ctx, orgID)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return keys.Token(linktoken.Quote, nonce)
}

// demoSignature is a drawn-looking stroke.
func demoSignature() []byte {
	img := image.NewNRGBA(image.Rect(0, 0, 300, 100))
	for x := 20; x < 280; x++ {
		y := 50 + int(20*float64((x%60)-30)/30)
		img.Set(x, y, color.Black)
		img.Set(x, y+1, color.Black)
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// LiveQuoteURL is the client link of the main demo org's quote that can be
// signed now, under base; "" when there is none. keys are the server's, as
// for Seed.
func LiveQuoteURL(ctx context.Context, pool *pgxpool.Pool, keys linktoken.Keys, base string) (string, error) {
	q := queries.New(pool)
	org, err := q.GetOrgByName(ctx, orgs[0].Name)
	if err != nil {
		return "", err
	}
	token, err := liveToken(ctx, q, keys, org.ID)
	if token == "" || err != nil {
		return "", err
	}
	return quotes.ClientURL(base, token), nil
}
