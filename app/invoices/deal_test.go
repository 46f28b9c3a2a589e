package invoices_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"pulso/app/invoices"
	"pulso/queries"
)

// The deal page links the invoices of its quote's order: one from a
// delivery note of it, one of the rest of the order, and the corrective
// of the first; another deal's invoice stays off it.
func TestDealPageLinksItsInvoices(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	opp, err := w.env.Q.CreateOpportunity(ctx, queries.CreateOpportunityParams{OrgID: w.org.ID, CustomerID: w.customer, Title: "Reforma",
		Amount: 10000, Stage: "en_negociacion", OwnerID: &w.user.ID})
	if err != nil {
		t.Fatal(err)
	}
	o := w.order(t, w.customer)
	w.env.Exec(`UPDATE quotes SET opportunity_id = $2 WHERE id = $1`, o.QuoteID, opp.ID)
	note := w.deliver(t, o.ID, today(), map[int32]string{1: "5"})
	partial, err := w.fromNotes(note)
	if err != nil {
		t.Fatal(err)
	}
	partial = w.mustIssue(t, partial.ID, time.Time{})
	// The rest of the order by its own note, left a draft.
	rest, err := w.fromNotes(w.deliver(t, o.ID, today(), map[int32]string{2: "2"}))
	if err != nil {
		t.Fatal(err)
	}
	corr := w.mustIssue(t, w.draft(t, invoices.DraftInput{Kind: invoices.Corrective, CorrectiveType: "R1", Method: invoices.ByDifference,
		Reason: "Precio", Corrects: []int64{partial.ID}, Lines: []invoices.LineInput{w.line("Ladrillo (abono)", "-1", 100, "21")}}).ID, time.Time{})
	elsewhere := w.order(t, w.customer) // another quote, no deal
	other, err := w.fromOrder(elsewhere.ID, false)
	if err != nil {
		t.Fatal(err)
	}

	page := w.env.LoginAs(w.user).Get(fmt.Sprintf("/opportunities/%d", opp.ID))
	if page.Status != 200 {
		t.Fatalf("deal page: %d", page.Status)
	}
	for _, id := range []int64{partial.ID, rest.ID, corr.ID} {
		if !strings.Contains(page.Body, fmt.Sprintf(`href="/invoices/%d"`, id)) {
			t.Errorf("deal page lacks invoice %d", id)
		}
	}
	if strings.Contains(page.Body, fmt.Sprintf(`href="/invoices/%d"`, other.ID)) {
		t.Error("deal page links another deal's invoice")
	}
	if !strings.Contains(page.Body, *partial.FullNumber) || !strings.Contains(page.Body, *corr.FullNumber) || !strings.Contains(page.Body, "Borrador") {
		t.Error("deal page lacks numbers or the draft's state")
	}
}
