package apptest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"pulso/app/calendar"
	"pulso/app/live"
	"pulso/app/quotes"
	"pulso/queries"
)

// SignedQuote makes a quote of owner's for the customer — two lines, 5 ×
// 2,00 € and 2 h × 30,00 €, at the 21 % IVA, valid ten days — sends it and
// has the client sign it with a drawn line, through the domain functions
// the handlers use. It returns the quote's id.
func (e *Env) SignedQuote(t testing.TB, org queries.Org, owner queries.User, customer int64) int64 {
	t.Helper()
	rate := fmt.Sprint(e.Count(`SELECT id FROM tax_rates WHERE country = 'ES' AND kind = 'iva' AND rate = 21`))
	madrid, _ := time.LoadLocation("Europe/Madrid")
	day := calendar.Today(time.Now(), madrid)
	var id int64
	err := live.BeginFunc(context.Background(), e.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		qt, err := q.CreateQuote(ctx, queries.CreateQuoteParams{OrgID: org.ID, CustomerID: customer, OwnerID: owner.ID})
		if err != nil {
			return err
		}
		id = qt.ID
		if _, err := q.CreateQuoteVersion(ctx, queries.CreateQuoteVersionParams{OrgID: org.ID, QuoteID: qt.ID, N: 1,
			ValidUntil: pgtype.Date{Time: day.AddDate(0, 0, 10), Valid: true}, Currency: org.Currency}); err != nil {
			return err
		}
		d, errs, err := quotes.ParseDraft(ctx, q, org.ID, org.Country, quotes.DraftInput{ValidUntil: day.AddDate(0, 0, 10).Format("2006-01-02"),
			Lines: []quotes.LineInput{{Description: "Ladrillo", Unit: "ud", Quantity: "5", UnitPrice: "2,00", TaxRateID: rate},
				{Description: "Montaje", Unit: "h", Quantity: "2", UnitPrice: "30", TaxRateID: rate}}}, day)
		if err != nil || len(errs) > 0 {
			return fmt.Errorf("%v %v", err, errs)
		}
		rev, err := quotes.SaveDraft(ctx, tx, org.ID, qt.ID, qt.Revision, 1, d)
		if err != nil {
			return err
		}
		if _, err = quotes.Send(ctx, tx, e.Deps.Jobs, quotes.SendInput{OrgID: org.ID, QuoteID: qt.ID, Revision: rev, UserID: owner.ID,
			Locale: "es", Links: e.Deps.Cfg.LinkKeys(), Now: time.Now()}); err != nil {
			return err
		}
		l, err := q.GetQuoteLink(ctx, queries.GetQuoteLinkParams{OrgID: org.ID, QuoteID: qt.ID, VersionN: 1})
		if err != nil {
			return err
		}
		img := image.NewNRGBA(image.Rect(0, 0, 200, 80))
		for x := 10; x < 190; x++ {
			img.Set(x, 40, color.Black)
		}
		var b bytes.Buffer
		_ = png.Encode(&b, img)
		return quotes.Sign(ctx, tx, e.Deps.Jobs, queries.FindQuoteLinkRow{OrgID: org.ID, ID: l.ID, QuoteID: qt.ID, VersionN: 1},
			quotes.SignInput{Name: "Luis", Signature: b.Bytes(), Now: time.Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}
