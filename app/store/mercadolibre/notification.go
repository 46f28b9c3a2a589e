package mercadolibre

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Notification is one webhook POST from ML (§3). It carries no order
// data: the receiver answers 200 at once (ML wants ≤ 500 ms) and later
// fetches Resource with the seller's token. Delivery is at-least-once and
// unordered, so processing must be idempotent per order.
type Notification struct {
	ID            string // "_id"; the same on redeliveries
	Resource      string // e.g. "/orders/2000008765432101"
	Topic         string // "orders_v2" for sales
	UserID        int64  // the seller: picks the connection/tenant
	ApplicationID int64
	Attempts      int // grows on redelivery
	Sent          time.Time
	Received      time.Time
}

// maxNotification bounds a body; real ones are a few hundred bytes.
const maxNotification = 64 << 10

// ParseNotification reads a webhook body strictly: topic, resource and
// user_id are required because without them nothing can be fetched or
// routed, and a body without them is not from ML. Unknown keys (e.g.
// "actions") are tolerated.
func ParseNotification(body []byte) (Notification, error) {
	if len(body) > maxNotification {
		return Notification{}, errors.New("mercadolibre: notification: body too large")
	}
	var w struct {
		ID            string      `json:"_id"`
		Resource      string      `json:"resource"`
		Topic         string      `json:"topic"`
		UserID        json.Number `json:"user_id"`
		ApplicationID json.Number `json:"application_id"`
		Attempts      int         `json:"attempts"`
		Sent          string      `json:"sent"`
		Received      string      `json:"received"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&w); err != nil {
		return Notification{}, fmt.Errorf("mercadolibre: notification: %w", err)
	}
	if dec.More() {
		return Notification{}, errors.New("mercadolibre: notification: trailing data after the JSON object")
	}
	n := Notification{ID: w.ID, Resource: w.Resource, Topic: w.Topic, Attempts: w.Attempts}
	switch {
	case n.Topic == "":
		return Notification{}, errors.New("mercadolibre: notification: missing topic")
	case n.Resource == "" || !strings.HasPrefix(n.Resource, "/"):
		return Notification{}, fmt.Errorf("mercadolibre: notification: missing or relative resource %q", n.Resource)
	}
	var err error
	if n.UserID, err = strconv.ParseInt(w.UserID.String(), 10, 64); err != nil || n.UserID <= 0 {
		return Notification{}, fmt.Errorf("mercadolibre: notification: missing or bad user_id %q", w.UserID)
	}
	if w.ApplicationID != "" {
		if n.ApplicationID, err = strconv.ParseInt(w.ApplicationID.String(), 10, 64); err != nil {
			return Notification{}, fmt.Errorf("mercadolibre: notification: bad application_id %q", w.ApplicationID)
		}
	}
	if n.Sent, err = parseDate("sent", w.Sent); err != nil {
		return Notification{}, fmt.Errorf("mercadolibre: notification: %w", err)
	}
	if n.Received, err = parseDate("received", w.Received); err != nil {
		return Notification{}, fmt.Errorf("mercadolibre: notification: %w", err)
	}
	return n, nil
}

// OrderID is the order an orders_v2 notification is about: "/orders/123"
// → 123. Other topics, and resources of any other form, give false.
func (n Notification) OrderID() (int64, bool) {
	if n.Topic != "orders_v2" {
		return 0, false
	}
	rest, ok := strings.CutPrefix(n.Resource, "/orders/")
	if !ok || rest == "" || !digits(rest) {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}
