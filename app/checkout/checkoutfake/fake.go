// Package checkoutfake is a stand-in for the hosted-checkout provider, for
// tests and the dev demo: the Mercado-Pago-shaped API that checkout.Client
// speaks, a small pay page the browser is sent to, and signed webhooks to
// Pulso, with knobs for what real providers do to a receiver (duplicates,
// retries while it is down).
//
// What it does not pretend: money, fraud checks, pending cash vouchers, and
// the real retry schedule (minutes to days); it retries within a second so
// tests finish. Everything lives in memory and is safe for concurrent use.
package checkoutfake

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"pulso/app/checkout"
)

// Token is the access token the fake accepts as "Authorization: Bearer".
const Token = "TEST-checkoutfake-0000"

// maxAttempts is how often one delivery is tried before the fake gives
// up: Mercado Pago documents the first dispatch plus five retries.
const maxAttempts = 6

// collectorID plays the seller's account id, the prefix Mercado Pago puts
// on preference ids.
const collectorID = 202809963

// Server is the fake provider.
type Server struct {
	mu       sync.Mutex
	prefs    map[string]*pref
	payments []*payment
	byID     map[string]*payment
	nextPay  int64
	nextEvt  int64
	hookURL  string
	secret   []byte
	dup      int
	failNext int
	attempts int
	pending  int // events whose delivery has not ended (sent, given up or stopped)
	closed   bool

	hs      *httptest.Server
	handler http.Handler
	hc      *http.Client
	done    chan struct{} // closed by Close: stops retries and deliveries
	stop    context.CancelFunc
	ctx     context.Context
	wg      sync.WaitGroup // in-flight webhook deliveries
}

type pref struct {
	id, ref, title, amount, currency, method string
	success, failure, payer                  string
	approved                                 string // the approved payment's id, once paid
}

type payment struct {
	id, ref, amount, currency, method, status, detail, title, payer string
	created, updated, approved                                      time.Time
}

// New returns a fake that is not listening: serve Handler on a listener of
// your own (the dev demo on a fixed port). Checkout URLs then take the
// scheme and host of the API request that created them, so the handler
// must be mounted at the root.
func New() *Server {
	ctx, stop := context.WithCancel(context.Background())
	s := &Server{
		prefs:   map[string]*pref{},
		byID:    map[string]*payment{},
		nextPay: 1000000000,
		nextEvt: 5000000000,
		dup:     1,
		hc:      &http.Client{Timeout: 10 * time.Second},
		done:    make(chan struct{}),
		ctx:     ctx,
		stop:    stop,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/payment_methods", s.auth(s.methods))
	mux.HandleFunc("POST /checkout/preferences", s.auth(s.createPref))
	mux.HandleFunc("GET /v1/payments/{id}", s.auth(s.getPayment))
	mux.HandleFunc("GET /checkout/v1/redirect", s.page)
	mux.HandleFunc("POST /checkout/v1/redirect/pay", s.payForm)
	mux.HandleFunc("POST /checkout/v1/redirect/cancel", s.cancelForm)
	s.handler = mux
	return s
}

// Start returns a fake listening on a local port (httptest).
func Start() *Server {
	s := New()
	s.hs = httptest.NewServer(s.handler)
	return s
}

// URL is the API base to give checkout.New; "" for a fake from New.
func (s *Server) URL() string {
	if s.hs == nil {
		return ""
	}
	return s.hs.URL
}

// Handler serves the API and the pay page.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops listening, abandons pending retries and waits for deliveries
// in flight to end.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.stop()
	s.mu.Unlock()
	if s.hs != nil {
		s.hs.Close()
	}
	s.wg.Wait()
}

// SetWebhook is where notifications go and the secret they are signed
// with. Without it, nothing is sent.
func (s *Server) SetWebhook(url string, secret []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hookURL = url
	s.secret = append([]byte(nil), secret...)
}

// DuplicateWebhooks makes each later event be delivered n times, at once
// and concurrently, with the same x-request-id: what a provider's
// at-least-once delivery does on a bad day. n < 1 means 1.
func (s *Server) DuplicateWebhooks(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dup = max(n, 1)
}

// FailWebhooksNext makes the next n delivery attempts fail as if Pulso's
// receiver were unreachable: they count in Webhooks but send nothing, and
// the fake retries each delivery (up to 6 attempts, backing off from 25 ms)
// until an attempt is answered 2xx. A receiver answering non-2xx is retried
// the same way without this knob.
func (s *Server) FailWebhooksNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = max(n, 0)
}

// Delivering is how many events are still being delivered: an event stops
// counting once an attempt is answered 2xx or its last attempt has ended.
// Tests wait for 0 to know every attempt there will be has been made.
func (s *Server) Delivering() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pending
}

// Webhooks is how many delivery attempts were made so far, failed ones
// included.
func (s *Server) Webhooks() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts
}

// Payments are all payments in the order they were made, as
// checkout.Client would read them.
func (s *Server) Payments() []checkout.Payment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]checkout.Payment, 0, len(s.payments))
	for _, p := range s.payments {
		out = append(out, p.public())
	}
	return out
}

func (p *payment) public() checkout.Payment {
	cp := checkout.Payment{ID: p.id, Reference: p.ref, Amount: p.amount, Currency: p.currency, ProviderStatus: p.status}
	switch p.status {
	case "approved":
		cp.Status, cp.PaidAt = checkout.Approved, p.approved
	case "rejected":
		cp.Status = checkout.Rejected
	case "refunded":
		cp.Status = checkout.Refunded
	default:
		cp.Status = checkout.Pending
	}
	return cp
}

// Pay is the payer paying checkoutID: the payment is approved and its
// webhook sent in the background. Paying a checkout already paid returns
// the same payment and sends nothing (a double click on "Pagar"). "" for
// an unknown checkout.
func (s *Server) Pay(checkoutID string) (paymentID string) {
	p, fresh := s.settle(checkoutID, true)
	if p == nil {
		return ""
	}
	if fresh {
		s.notify(p.id, "payment.created")
	}
	return p.id
}

// Reject is the payer's card being declined on checkoutID: a rejected
// payment and its webhook. The checkout can still be paid afterwards,
// which makes a second payment with the same reference, as on the real
// page when the person tries another card.
func (s *Server) Reject(checkoutID string) {
	if p, _ := s.settle(checkoutID, false); p != nil {
		s.notify(p.id, "payment.created")
	}
}

// Refund turns an approved payment into a refunded one and notifies it.
// False when paymentID is not an approved payment.
func (s *Server) Refund(paymentID string) bool {
	s.mu.Lock()
	p := s.byID[paymentID]
	ok := p != nil && p.status == "approved"
	if ok {
		p.status, p.detail, p.updated = "refunded", "refunded", time.Now().Truncate(time.Millisecond)
	}
	s.mu.Unlock()
	if ok {
		s.notify(paymentID, "payment.updated")
	}
	return ok
}

// settle makes the payment for a checkout; fresh is false when an approved
// one already existed.
func (s *Server) settle(checkoutID string, approve bool) (p *payment, fresh bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	pr := s.prefs[checkoutID]
	if pr == nil {
		return nil, false
	}
	if approve && pr.approved != "" {
		return s.byID[pr.approved], false
	}
	s.nextPay++
	// The API writes milliseconds; keep no more, so Payments and a fetch
	// agree to the instant.
	now := time.Now().Truncate(time.Millisecond)
	p = &payment{
		id: strconv.FormatInt(s.nextPay, 10), ref: pr.ref, amount: pr.amount,
		currency: pr.currency, method: pr.method, title: pr.title, payer: pr.payer,
		created: now, updated: now,
	}
	if approve {
		p.status, p.detail, p.approved = "approved", "accredited", now
		pr.approved = p.id
	} else {
		p.status, p.detail = "rejected", "cc_rejected_other_reason"
	}
	s.payments = append(s.payments, p)
	s.byID[p.id] = p
	return p, true
}

// notify sends the event for payment id to the webhook, dup times, each
// in its own goroutine with its own retries.
func (s *Server) notify(id, action string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hookURL == "" || s.closed {
		return
	}
	s.nextEvt++
	ev := event{
		url: s.hookURL, secret: s.secret, requestID: uuid(), dataID: id,
		body: mustJSON(map[string]any{
			"id": s.nextEvt, "live_mode": false, "type": "payment", "action": action,
			"date_created": time.Now().Format(mpTime), "user_id": collectorID, "api_version": "v1",
			"data": map[string]string{"id": id},
		}),
	}
	for range s.dup {
		s.wg.Add(1)
		s.pending++
		go s.deliver(ev)
	}
}

type event struct {
	url       string
	secret    []byte
	requestID string
	dataID    string
	body      []byte
}

func (s *Server) deliver(ev event) {
	defer func() {
		s.mu.Lock()
		s.pending--
		s.mu.Unlock()
		s.wg.Done()
	}()
	wait := 25 * time.Millisecond
	for attempt := 1; attempt <= maxAttempts; attempt++ {
		if s.attempt(ev) || attempt == maxAttempts {
			return
		}
		select {
		case <-time.After(wait):
		case <-s.done:
			return
		}
		wait = min(2*wait, 400*time.Millisecond)
	}
}

// attempt is one POST of ev, signed afresh (each attempt has its own ts,
// as a provider signs when it sends). True when answered 2xx.
func (s *Server) attempt(ev event) bool {
	s.mu.Lock()
	s.attempts++
	down := s.failNext > 0
	if down {
		s.failNext--
	}
	s.mu.Unlock()
	if down {
		return false
	}
	// Mercado Pago also puts data.id and type in the query string (that is
	// the data.id it signs); the body carries the same.
	u, err := url.Parse(ev.url)
	if err != nil {
		return false
	}
	q := u.Query()
	q.Set("data.id", ev.dataID)
	q.Set("type", "payment")
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, u.String(), strings.NewReader(string(ev.body)))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(checkout.HeaderRequestID, ev.requestID)
	req.Header.Set(checkout.HeaderSignature, checkout.Sign(ev.secret, ev.requestID, ev.dataID, time.Now()))
	resp, err := s.hc.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode <= 299
}

// mpTime is how Mercado Pago writes dates: milliseconds and an offset.
const mpTime = "2006-01-02T15:04:05.000-07:00"

// methodsByCurrency is what each country's account offers. Each list has
// one inactive method, which the client must not offer.
var methodsByCurrency = map[string][]methodInfo{
	"EUR": {
		{"card", "Tarjeta de crédito o débito", "credit_card", "active"},
		{"bank_transfer", "Transferencia bancaria", "bank_transfer", "active"},
		{"cash", "Efectivo", "ticket", "inactive"},
	},
	"MXN": {
		{"card", "Tarjeta de crédito o débito", "credit_card", "active"},
		{"bank_transfer", "Transferencia SPEI", "bank_transfer", "active"},
		{"cash", "Efectivo en OXXO", "ticket", "active"},
		{"atm", "Cajero automático", "atm", "inactive"},
	},
	"ARS": {
		{"card", "Tarjeta de crédito o débito", "credit_card", "active"},
		{"bank_transfer", "Transferencia bancaria", "bank_transfer", "active"},
		{"cash", "Efectivo en Rapipago o Pago Fácil", "ticket", "active"},
		{"atm", "Red Link", "atm", "inactive"},
	},
}

type methodInfo struct{ id, name, typ, status string }

func findMethod(currency, id string) (methodInfo, bool) {
	for _, m := range methodsByCurrency[currency] {
		if m.id == id && m.status == "active" {
			return m, true
		}
	}
	return methodInfo{}, false
}

// auth checks the bearer token, constant-time as a real API would.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(tok), []byte(Token)) != 1 {
			apiError(w, http.StatusUnauthorized, "unauthorized", "invalid access token")
			return
		}
		h(w, r)
	}
}

// apiError answers in Mercado Pago's error shape.
func apiError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"message": msg, "error": code, "status": status, "cause": []any{}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(mustJSON(v))
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps and structs of plain values are marshalled
	}
	return b
}

func (s *Server) methods(w http.ResponseWriter, r *http.Request) {
	list, ok := methodsByCurrency[r.URL.Query().Get("currency")]
	if !ok {
		apiError(w, http.StatusBadRequest, "bad_request", "unsupported currency")
		return
	}
	out := make([]map[string]string, 0, len(list))
	for _, m := range list {
		out = append(out, map[string]string{"id": m.id, "name": m.name, "payment_type_id": m.typ, "status": m.status})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createPref(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Items []struct {
			Title      string      `json:"title"`
			Quantity   int         `json:"quantity"`
			CurrencyID string      `json:"currency_id"`
			UnitPrice  json.Number `json:"unit_price"`
		} `json:"items"`
		Payer *struct {
			Email string `json:"email"`
		} `json:"payer"`
		BackURLs          map[string]string `json:"back_urls"`
		ExternalReference string            `json:"external_reference"`
		PaymentMethods    struct {
			DefaultPaymentMethodID string `json:"default_payment_method_id"`
		} `json:"payment_methods"`
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.UseNumber()
	if err := dec.Decode(&in); err != nil {
		apiError(w, http.StatusBadRequest, "bad_request", "invalid JSON: "+err.Error())
		return
	}
	if len(in.Items) != 1 || in.Items[0].Quantity != 1 || strings.TrimSpace(in.Items[0].Title) == "" {
		apiError(w, http.StatusBadRequest, "bad_request", "exactly one titled item of quantity 1")
		return
	}
	it := in.Items[0]
	amount, ok := twoPlaces(it.UnitPrice.String())
	if !ok {
		apiError(w, http.StatusBadRequest, "bad_request", "unit_price must be positive with at most two decimals")
		return
	}
	if _, ok := methodsByCurrency[it.CurrencyID]; !ok {
		apiError(w, http.StatusBadRequest, "bad_request", "unsupported currency_id")
		return
	}
	method := in.PaymentMethods.DefaultPaymentMethodID
	if _, ok := findMethod(it.CurrencyID, method); !ok {
		apiError(w, http.StatusBadRequest, "bad_request", "payment method not available for the currency")
		return
	}
	success, failure := in.BackURLs["success"], in.BackURLs["failure"]
	if !absURL(success) || !absURL(failure) {
		apiError(w, http.StatusBadRequest, "invalid_back_urls", "back_urls.success and back_urls.failure must be absolute URLs")
		return
	}
	p := &pref{
		id: fmt.Sprintf("%d-%s", collectorID, uuid()), ref: in.ExternalReference, title: it.Title,
		amount: amount, currency: it.CurrencyID, method: method,
		success: success, failure: failure,
	}
	if in.Payer != nil {
		p.payer = in.Payer.Email
	}
	s.mu.Lock()
	s.prefs[p.id] = p
	s.mu.Unlock()
	init := s.baseFor(r) + "/checkout/v1/redirect?pref_id=" + url.QueryEscape(p.id)
	writeJSON(w, http.StatusCreated, map[string]any{
		"id": p.id, "collector_id": collectorID, "external_reference": p.ref,
		"init_point": init, "sandbox_init_point": init,
		"date_created": time.Now().Format(mpTime),
	})
}

// baseFor is the fake's own base URL, for links to the pay page.
func (s *Server) baseFor(r *http.Request) string {
	if s.hs != nil {
		return s.hs.URL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func absURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// twoPlaces reads a JSON number as sent by the client into "49.00" form,
// without floats; false for signs, exponents, >2 decimals, zero.
func twoPlaces(n string) (string, bool) {
	whole, frac, _ := strings.Cut(n, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" || strings.Trim(frac, "0123456789") != "" || len(frac) > 2 || len(whole) > 12 {
		return "", false
	}
	if strings.Contains(n, ".") && frac == "" {
		return "", false
	}
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	frac += strings.Repeat("0", 2-len(frac))
	if whole == "0" && frac == "00" {
		return "", false
	}
	return whole + "." + frac, true
}

// jsonAmount writes "49.00" as Mercado Pago does, a number without
// trailing zeros (49, 49.5), so the client's normalising is exercised.
func jsonAmount(a string) json.Number {
	a = strings.TrimRight(strings.TrimRight(a, "0"), ".")
	return json.Number(a)
}

func (s *Server) getPayment(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p := s.byID[r.PathValue("id")]
	var out map[string]any
	if p != nil {
		id, _ := strconv.ParseInt(p.id, 10, 64)
		m, _ := findMethod(p.currency, p.method)
		var approved any // null unless approved at some point
		if !p.approved.IsZero() {
			approved = p.approved.Format(mpTime)
		}
		out = map[string]any{
			"id": id, "status": p.status, "status_detail": p.detail,
			"transaction_amount": jsonAmount(p.amount), "currency_id": p.currency,
			"external_reference": p.ref, "description": p.title,
			"date_created": p.created.Format(mpTime), "date_last_updated": p.updated.Format(mpTime),
			"date_approved": approved, "payment_method_id": p.method, "payment_type_id": m.typ,
			"payer": map[string]string{"email": p.payer},
		}
	}
	s.mu.Unlock()
	if p == nil {
		apiError(w, http.StatusNotFound, "not_found", "Payment not found")
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func uuid() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
