package mlfake

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// PutOrder creates or replaces an order and bumps its last_updated. It
// sends no notification (fixtures are set up quietly; call Notify). A zero
// DateCreated becomes now; a paid order without DateClosed gets its
// payment's approval time, or date_created.
func (s *Server) PutOrder(o Order) {
	o = o.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.put(o, time.Time{})
}

// put stores o; a zero updated means "now" (stamp). Callers hold s.mu.
func (s *Server) put(o Order, updated time.Time) {
	if o.DateCreated.IsZero() {
		o.DateCreated = s.now().Truncate(time.Millisecond)
	}
	for i := range o.Payments {
		p := &o.Payments[i]
		if p.DateApproved.IsZero() && p.Status != "in_process" && p.Status != "pending" && p.Status != "rejected" {
			p.DateApproved = o.DateCreated.Add(113 * time.Second)
		}
	}
	if o.DateClosed.IsZero() {
		for _, p := range o.Payments {
			if !p.DateApproved.IsZero() {
				o.DateClosed = p.DateApproved.Add(time.Second)
				break
			}
		}
	}
	if updated.IsZero() {
		updated = s.stamp()
	}
	o.LastUpdated = updated
	s.orders[o.ID] = &o
}

// Order returns a copy of the stored order, for assertions.
func (s *Server) Order(id int64) (Order, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orders[id]
	if !ok {
		return Order{}, false
	}
	return o.clone(), true
}

// SetStatus changes an order's status, bumps last_updated and notifies
// (§2.10: the hook that moves paid → cancelled). Only the status moves;
// shape payments with PutOrder and the builders when they matter.
func (s *Server) SetStatus(orderID int64, status string) {
	s.mu.Lock()
	o, ok := s.orders[orderID]
	if !ok {
		s.mu.Unlock()
		panic("mlfake: SetStatus of unknown order " + strconv.FormatInt(orderID, 10))
	}
	o.Status = status
	o.LastUpdated = s.stamp()
	s.mu.Unlock()
	s.Notify(orderID)
}

// search is GET /orders/search (§2.1, §2.10).
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	g, ok := s.user(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	seller, err := strconv.ParseInt(q.Get("seller"), 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", "seller is required")
		return
	}
	if seller != g.user {
		writeForbidden(w)
		return
	}
	limit, offset := 50, 0
	if v := q.Get("limit"); v != "" {
		// Above 50 is refused, not clamped, to catch clients that would
		// otherwise silently page wrong (§2.10).
		if limit, err = strconv.Atoi(v); err != nil || limit < 0 || limit > 50 {
			writeErr(w, http.StatusBadRequest, "bad_request", "invalid limit "+v+": must be between 0 and 50")
			return
		}
	}
	if v := q.Get("offset"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil || offset < 0 {
			writeErr(w, http.StatusBadRequest, "bad_request", "invalid offset "+v)
			return
		}
	}
	sort := q.Get("sort")
	switch sort {
	case "":
		sort = "date_asc"
	case "date_asc", "date_desc":
	default:
		writeErr(w, http.StatusBadRequest, "bad_request", "invalid sort "+sort)
		return
	}
	// Only these names filter; anything else is ignored, as ML ignores
	// order.last_updated.from (§2.1) — a client using the wrong name gets
	// every order back, exactly as in production.
	type span struct {
		from, to time.Time
		get      func(*Order) time.Time
	}
	spans := map[string]*span{
		"order.date_created":      {get: func(o *Order) time.Time { return o.DateCreated }},
		"order.date_last_updated": {get: func(o *Order) time.Time { return o.LastUpdated }},
		"order.date_closed":       {get: func(o *Order) time.Time { return o.DateClosed }},
	}
	for name, sp := range spans {
		for _, end := range []string{"from", "to"} {
			v := q.Get(name + "." + end)
			if v == "" {
				continue
			}
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeErr(w, http.StatusBadRequest, "bad_request", "invalid date "+name+"."+end+": "+v)
				return
			}
			if end == "from" {
				sp.from = t
			} else {
				sp.to = t
			}
		}
	}
	statuses := splitList(q.Get("order.status"))
	tags, notTags := splitList(q.Get("tags")), splitList(q.Get("tags.not"))

	s.mu.Lock()
	var hits []*Order
	for _, o := range s.orders {
		if o.SellerID != seller || (len(statuses) > 0 && !slices.Contains(statuses, o.Status)) {
			continue
		}
		if !containsAll(o.Tags, tags) || containsAny(o.Tags, notTags) {
			continue
		}
		in := true
		for _, sp := range spans {
			t := sp.get(o)
			if (!sp.from.IsZero() && (t.IsZero() || t.Before(sp.from))) || (!sp.to.IsZero() && (t.IsZero() || t.After(sp.to))) {
				in = false
			}
		}
		if in {
			hits = append(hits, o)
		}
	}
	slices.SortFunc(hits, func(a, b *Order) int {
		c := cmp.Or(a.DateCreated.Compare(b.DateCreated), cmp.Compare(a.ID, b.ID))
		if sort == "date_desc" {
			return -c
		}
		return c
	})
	total := len(hits)
	page := hits[min(offset, total):min(offset+limit, total)]
	results := make([]map[string]any, 0, len(page))
	for _, o := range page {
		results = append(results, o.wire())
	}
	s.mu.Unlock()

	sortName := map[string]string{"date_asc": "Date ascending", "date_desc": "Date descending"}
	writeJSON(w, http.StatusOK, map[string]any{
		"query":   "",
		"display": "complete",
		"paging":  map[string]any{"total": total, "offset": offset, "limit": limit},
		"results": results,
		"sort":    map[string]any{"id": sort, "name": sortName[sort]},
		"available_sorts": []map[string]any{
			{"id": "date_asc", "name": sortName["date_asc"]},
			{"id": "date_desc", "name": sortName["date_desc"]},
		},
		"filters": []any{},
	})
}

// order is GET /orders/{id} (§2.2, §2.10): 404 unknown, 403 another
// seller's.
func (s *Server) order(w http.ResponseWriter, r *http.Request) {
	g, ok := s.user(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", "invalid order id")
		return
	}
	s.mu.Lock()
	o, found := s.orders[id]
	var body map[string]any
	if found && o.SellerID == g.user {
		body = o.wire()
	}
	s.mu.Unlock()
	switch {
	case !found:
		writeErr(w, http.StatusNotFound, "business_logic_error", "Resource not found")
	case body == nil:
		writeForbidden(w)
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

// pack is GET /packs/{id} (§2.6). The reference gives no body; this one
// is a plausible minimum: the pack id, its orders' ids, the buyer and
// dates.
func (s *Server) pack(w http.ResponseWriter, r *http.Request) {
	g, ok := s.user(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		writeErr(w, http.StatusBadRequest, "bad_request", "invalid pack id")
		return
	}
	s.mu.Lock()
	var members []*Order
	for _, o := range s.orders {
		if o.PackID == id {
			members = append(members, o)
		}
	}
	slices.SortFunc(members, func(a, b *Order) int { return cmp.Compare(a.ID, b.ID) })
	mine := true
	var body map[string]any
	if len(members) > 0 {
		orders := make([]map[string]any, 0, len(members))
		created, updated := members[0].DateCreated, members[0].LastUpdated
		for _, o := range members {
			mine = mine && o.SellerID == g.user
			orders = append(orders, map[string]any{"id": o.ID})
			if o.DateCreated.Before(created) {
				created = o.DateCreated
			}
			if o.LastUpdated.After(updated) {
				updated = o.LastUpdated
			}
		}
		body = map[string]any{
			"id": id, "orders": orders,
			"buyer":        map[string]any{"id": members[0].Buyer.ID},
			"date_created": mlDate(created), "last_updated": mlDate(updated),
		}
	}
	s.mu.Unlock()
	switch {
	case body == nil:
		writeErr(w, http.StatusNotFound, "business_logic_error", "Resource not found")
	case !mine:
		writeForbidden(w)
	default:
		writeJSON(w, http.StatusOK, body)
	}
}

func splitList(v string) []string {
	if v == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func containsAny(have, want []string) bool {
	for _, w := range want {
		if slices.Contains(have, w) {
			return true
		}
	}
	return false
}
