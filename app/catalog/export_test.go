package catalog_test

import (
	"context"

	"pulso/app/quotes"
)

func quotesPriceFor(s *shop, product, base int64) (int64, error) {
	return quotes.PriceFor(context.Background(), s.env.Q, s.org.ID, s.customer, product, base)
}
