package mlfake

import "time"

// seedCatalog is the small fixed set of listings Seed sells, so SKUs repeat
// across orders the way a real seller's do. Prices are in cents.
var seedCatalog = []struct {
	id, title, sku string
	cents          int64
}{
	{"MLA1100000001", "Auriculares inalambricos XY", "SKU-AUR-01", 15000_00},
	{"MLA1100000002", "Funda de silicona para celular", "SKU-FUN-02", 4500_50},
	{"MLA1100000003", "Cargador USB-C 20W", "SKU-CAR-03", 8999_00},
	{"MLA1100000004", "Mouse optico inalambrico", "SKU-MOU-04", 12345_50},
	{"MLA1100000005", "Teclado mecanico", "SKU-TEC-05", 59999_00},
	{"MLA1100000006", "Cable HDMI 2 m", "SKU-CAB-06", 3200_00},
}

var seedBuyers = []Buyer{
	{ID: 501000001, Nickname: "JUANPEREZ77", FirstName: "Juan", LastName: "Perez"},
	{ID: 501000002, Nickname: "MARIAG_BA"},
	{ID: 501000003, Nickname: "ROSARIO.COMPRAS", FirstName: "Lucia", LastName: "Gomez"},
	{ID: 501000004, Nickname: "TECNO_MDZ"},
	{ID: 501000005, Nickname: "CAROLINA.S", FirstName: "Carolina", LastName: "Sosa"},
}

// Seed adds n paid orders of seller, the first created at start and the
// rest 47 minutes apart, and returns their ids in creation order. The same
// calls on a new Server give the same orders: every fifth order has two
// lines, every seventh is a Mercado Shops sale, every fourth paid 3500 of
// shipping, and orders 3 and 4 (when n ≥ 4) are one pack. last_updated is
// a few minutes after payment, like an untouched historic order, so Seed
// does not disturb "updated since" cursors set after start.
func (s *Server) Seed(seller int64, n int, start time.Time) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seed(seller, n, func(i int) (created, updated time.Time) {
		created = start.Add(time.Duration(i) * 47 * time.Minute).Truncate(time.Millisecond)
		return created, created.Add(5 * time.Minute)
	})
}

// SeedNow adds n orders shaped as Seed's, created and last updated now
// (each update strictly later than the one before), as a busy seller's
// orders arrive: however many, they all fall after a catch-up cursor set
// earlier and inside its first 30-day window, which Seed's 47-minute
// spacing cannot do for thousands of orders (the sync benchmark).
func (s *Server) SeedNow(seller int64, n int) []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seed(seller, n, func(int) (created, updated time.Time) {
		at := s.stamp()
		return at, at
	})
}

// seed makes Seed's orders with the dates at gives the i-th. Callers hold
// s.mu.
func (s *Server) seed(seller int64, n int, at func(i int) (created, updated time.Time)) []int64 {
	var pack int64
	if n >= 4 {
		s.seedPack++
		pack = s.seedPack
	}
	ids := make([]int64, 0, n)
	for i := range n {
		s.seedID++
		for s.orders[s.seedID] != nil {
			s.seedID++
		}
		id := s.seedID
		c := seedCatalog[i%len(seedCatalog)]
		items := []Item{{ID: c.id, Title: c.title, SKU: c.sku, Quantity: int64(1 + i%3), UnitPrice: mlNumber(c.cents)}}
		if i%5 == 4 {
			c2 := seedCatalog[(i+2)%len(seedCatalog)]
			items = append(items, Item{ID: c2.id, Title: c2.title, SKU: c2.sku, Quantity: 1, UnitPrice: mlNumber(c2.cents)})
		}
		created, updated := at(i)
		o := NewOrder(seller, id, items...).At(created).WithBuyer(seedBuyers[i%len(seedBuyers)])
		if i%4 == 0 {
			o = o.Shipping("3500")
		}
		o = o.Paid()
		if i%7 == 6 {
			o = o.MShops()
		}
		if pack != 0 && (i == 2 || i == 3) {
			// One cart: one buyer, one order per item (§2.6).
			o = o.WithBuyer(seedBuyers[2]).InPack(pack)
		}
		s.put(o, updated)
		ids = append(ids, id)
	}
	return ids
}
