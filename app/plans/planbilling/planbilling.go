// Package planbilling is the operator invoicing a subscriber: the plans'
// charges are real invoices of the operator's org (orgs.operator) to a
// customer of that org standing for the subscriber org. Upgrades (plansweb)
// and the monthly charge (the subscriptions pass) both invoice through it.
// It lives apart from app/plans because invoices imports plans (issuing
// counts vouchers).
package planbilling

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/invoices"
	"pulso/app/tax"
	"pulso/queries"
)

// Operator is the org that invoices the plans sold in currency (an
// invoice is in its issuer's currency: one operator org per currency); ok
// is false when there is none.
func Operator(ctx context.Context, q *queries.Queries, currency string) (queries.Org, bool, error) {
	op, err := q.GetOperatorOrg(ctx, currency)
	if errors.Is(err, pgx.ErrNoRows) {
		return op, false, nil
	}
	return op, err == nil, err
}

// GeneralRate is the operator country's general IVA rate in force on day:
// the plans are a service taxed at the general rate.
func GeneralRate(ctx context.Context, q *queries.Queries, country string, day time.Time) (tax.Rate, error) {
	rates, err := tax.IVAOn(ctx, q, country, day)
	if err != nil {
		return tax.Rate{}, err
	}
	if len(rates) == 0 {
		return tax.Rate{}, fmt.Errorf("planbilling: no IVA rate in force in %s on %s", country, day.Format(time.DateOnly))
	}
	return rates[0], nil
}

// BillingCustomer is the operator's customer for subscriber orgID, made
// once from the org's name, tax id and country and remembered on the
// subscription (locked, so two charges at once make one customer).
func BillingCustomer(ctx context.Context, q *queries.Queries, op queries.Org, orgID int64) (int64, error) {
	s, err := q.LockSubscription(ctx, orgID)
	if err != nil {
		return 0, err
	}
	if s.BillingCustomerID != nil {
		c, err := q.GetCustomer(ctx, queries.GetCustomerParams{OrgID: op.ID, ID: *s.BillingCustomerID})
		if err == nil {
			return c.ID, nil
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return 0, err
		}
		// The operator deleted it: make it again.
	}
	org, err := q.GetOrg(ctx, orgID)
	if err != nil {
		return 0, err
	}
	// A company with two Pulso orgs (or one made again) is one customer of
	// the operator: its tax id names it, and may name only one customer.
	c, err := q.GetCustomerByTaxID(ctx, queries.GetCustomerByTaxIDParams{OrgID: op.ID, TaxID: org.TaxID})
	if errors.Is(err, pgx.ErrNoRows) {
		c, err = q.CreateCustomer(ctx, queries.CreateCustomerParams{OrgID: op.ID, LegalName: org.Name, TaxID: org.TaxID, Country: org.Country,
			Tags: []string{}, Notes: fmt.Sprintf("Suscriptor de Pulso (organización %d)", org.ID)})
	}
	if err != nil {
		return 0, err
	}
	return c.ID, q.SetSubscriptionBillingCustomer(ctx, queries.SetSubscriptionBillingCustomerParams{OrgID: orgID, BillingCustomerID: &c.ID})
}

// Line is a line of a plan's invoice: a quantity of a service at a net
// unit price in minor units of the operator's currency.
type Line struct {
	Description, Unit string
	Quantity          int64
	UnitPrice         int64
}

// Draft drafts in tx the operator's invoice of lines to subscriber orgID,
// taxed at the operator's general IVA in force on day. Its total is what
// the subscriber owes.
func Draft(ctx context.Context, tx pgx.Tx, op queries.Org, orgID int64, lines []Line, day, now time.Time) (queries.Invoice, error) {
	q := queries.New(tx)
	customer, err := BillingCustomer(ctx, q, op, orgID)
	if err != nil {
		return queries.Invoice{}, err
	}
	rate, err := GeneralRate(ctx, q, op.Country, day)
	if err != nil {
		return queries.Invoice{}, err
	}
	in := make([]invoices.LineInput, len(lines))
	for i, l := range lines {
		in[i] = invoices.LineInput{Description: l.Description, Unit: l.Unit, Quantity: decimal.NewFromInt(l.Quantity),
			UnitPrice: l.UnitPrice, TaxRateID: rate.ID}
	}
	return invoices.CreateDraft(ctx, tx, invoices.DraftInput{OrgID: op.ID, Kind: invoices.Ordinary, CustomerID: &customer, Lines: in, Now: now})
}
