package catalog_test

import (
	"context"

	"pulso/app/catalog"
)

func quotesPriceFor(s *shop, product, base int64) (int64, error) {
	return catalog.PriceFor(context.Background(), s.env.Q, s.org.ID, s.customer, product, base)
}
