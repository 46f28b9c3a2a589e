package catalog

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/shopspring/decimal"

	"pulso/app/money"
	"pulso/queries"
)

// ListPrice applies a price list to a product's base price (cents):
//   - percent lists: base × (1 + percent / 100), rounded to the cent half
//     away from zero, never below one cent;
//   - fixed lists: the list's price for the product when it has one,
//     the base price otherwise.
func ListPrice(base int64, kind string, percent decimal.Decimal, item *int64) int64 {
	switch kind {
	case "fixed":
		if item != nil {
			return *item
		}
		return base
	case "percent":
		hundred := decimal.NewFromInt(100)
		p := decimal.NewFromInt(base).Mul(hundred.Add(percent)).Div(hundred).Round(0).IntPart()
		return max(p, 1)
	}
	return base
}

// PriceFor is a product's unit price for a customer: through the
// customer's active price list when they have one, its base price if not.
func PriceFor(ctx context.Context, q *queries.Queries, orgID, customerID, productID, base int64) (int64, error) {
	l, err := q.CustomerPriceList(ctx, queries.CustomerPriceListParams{OrgID: orgID, CustomerID: customerID, ProductID: productID})
	if errors.Is(err, pgx.ErrNoRows) {
		return base, nil
	}
	if err != nil {
		return 0, err
	}
	return ListPrice(base, l.Kind, money.Decimal(l.Percent), l.ItemPrice), nil
}
