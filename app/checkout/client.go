package checkout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client is a Provider over the provider's HTTP API.
type Client struct {
	base  string
	token string
	hc    *http.Client
}

var _ Provider = (*Client)(nil)

// New returns a client for the API at baseURL ("https://api.mercadopago.com"
// or the fake's URL) authenticating with accessToken. hc nil means a client
// with a 15 s timeout: a checkout is created while a person waits.
func New(baseURL, accessToken string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: accessToken, hc: hc}
}

// Error is a failed call to the provider: a network failure (Status 0,
// Err set) or an HTTP error answer with the provider's message.
type Error struct {
	Op      string // methods, create, payment
	Status  int    // HTTP status; 0 when no answer arrived
	Code    string // the provider's error code ("bad_request", "unauthorized"...)
	Message string // the provider's message, for logs
	Err     error  // the transport error when Status is 0
}

func (e *Error) Error() string {
	if e.Status == 0 {
		return fmt.Sprintf("checkout: %s: %v", e.Op, e.Err)
	}
	s := fmt.Sprintf("checkout: %s: provider answered %d", e.Op, e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// ErrNotFound matches (errors.Is) a provider 404: a payment id from a
// webhook that this account cannot see. Not worth retrying.
var ErrNotFound = errors.New("checkout: not found")

// Is makes errors.Is(err, ErrNotFound) true for a 404.
func (e *Error) Is(target error) bool {
	return target == ErrNotFound && e.Status == http.StatusNotFound
}

// Retryable says whether the same call may succeed later unchanged: no
// answer (network, timeout), 429 or 5xx. A webhook receiver answers non-2xx
// on these so the provider sends it again; anything else is a bug or a
// bad id and retrying only repeats it. A caller's own cancellation is not
// retryable: nobody is waiting any more.
func Retryable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	if e.Status == 0 {
		return !errors.Is(e.Err, context.Canceled)
	}
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// maxResponse bounds what is read from the provider: its answers are a few
// KB; a runaway body must not eat memory.
const maxResponse = 1 << 20

// Methods lists the active payment methods for currency, in the provider's
// order.
func (c *Client) Methods(ctx context.Context, currency string) ([]Method, error) {
	if !ValidCurrency(currency) {
		return nil, fmt.Errorf("checkout: methods: currency %q not sold", currency)
	}
	var list []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Status string `json:"status"`
	}
	if err := c.do(ctx, "methods", http.MethodGet, "/v1/payment_methods?currency="+url.QueryEscape(currency), nil, &list); err != nil {
		return nil, err
	}
	out := make([]Method, 0, len(list))
	for _, m := range list {
		// Methods the provider has switched off are listed as
		// non-"active"; offering one would fail on the provider's page.
		if m.Status == "active" && m.ID != "" {
			out = append(out, Method{ID: m.ID, Name: m.Name})
		}
	}
	return out, nil
}

// preference is the subset of a Checkout Pro preference Pulso sends.
type preference struct {
	Items             []prefItem        `json:"items"`
	Payer             *prefPayer        `json:"payer,omitempty"`
	BackURLs          map[string]string `json:"back_urls"`
	AutoReturn        string            `json:"auto_return"`
	ExternalReference string            `json:"external_reference"`
	PaymentMethods    prefMethods       `json:"payment_methods"`
}

type prefItem struct {
	ID         string      `json:"id"`
	Title      string      `json:"title"`
	Quantity   int         `json:"quantity"`
	CurrencyID string      `json:"currency_id"`
	UnitPrice  json.Number `json:"unit_price"` // the decimal string as a JSON number, digit for digit
}

type prefPayer struct {
	Email string `json:"email"`
}

type prefMethods struct {
	DefaultPaymentMethodID string `json:"default_payment_method_id"`
}

// Create makes a checkout for ch and returns where to send the browser.
// Each call makes a new checkout: a preference is only an offer, nothing
// is charged until the person pays on the page, so a retried Create costs
// nothing but an unused page.
func (c *Client) Create(ctx context.Context, ch Charge) (Checkout, error) {
	if err := ch.validate(); err != nil {
		return Checkout{}, err
	}
	p := preference{
		Items: []prefItem{{ID: ch.Reference, Title: ch.Title, Quantity: 1, CurrencyID: ch.Currency, UnitPrice: json.Number(ch.Amount)}},
		// A pending payment (cash voucher) lands on the success page too:
		// Pulso says "we'll confirm when it's paid" there either way.
		BackURLs:          map[string]string{"success": ch.SuccessURL, "pending": ch.SuccessURL, "failure": ch.CancelURL},
		AutoReturn:        "approved",
		ExternalReference: ch.Reference,
		PaymentMethods:    prefMethods{DefaultPaymentMethodID: ch.Method},
	}
	if ch.Payer != "" {
		p.Payer = &prefPayer{Email: ch.Payer}
	}
	body, err := json.Marshal(p)
	if err != nil {
		return Checkout{}, fmt.Errorf("checkout: create: %w", err)
	}
	var out struct {
		ID        string `json:"id"`
		InitPoint string `json:"init_point"`
	}
	if err := c.do(ctx, "create", http.MethodPost, "/checkout/preferences", body, &out); err != nil {
		return Checkout{}, err
	}
	if out.ID == "" || !httpURL(out.InitPoint) {
		return Checkout{}, &Error{Op: "create", Status: http.StatusOK, Message: "answer without id or init_point"}
	}
	return Checkout{ID: out.ID, URL: out.InitPoint}, nil
}

func (ch Charge) validate() error {
	bad := func(why string) error { return fmt.Errorf("checkout: create: %s", why) }
	switch {
	case ch.Reference == "" || len(ch.Reference) > 256:
		return bad("reference empty or over 256 bytes")
	case strings.TrimSpace(ch.Title) == "":
		return bad("no title")
	case !validAmount(ch.Amount):
		return fmt.Errorf("%w (got %q)", ErrAmount, ch.Amount)
	case !ValidCurrency(ch.Currency):
		return bad(fmt.Sprintf("currency %q not sold", ch.Currency))
	case ch.Method == "":
		return bad("no payment method")
	case !httpURL(ch.SuccessURL) || !httpURL(ch.CancelURL):
		return bad("success and cancel URLs must be absolute http(s) URLs")
	}
	return nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// Payment fetches payment id: the truth to apply. Amount comes back in
// Charge.Amount's form ("49.00") whatever the provider's JSON number looked
// like, so the caller compares strings.
func (c *Client) Payment(ctx context.Context, id string) (Payment, error) {
	// Ids come from webhooks and redirects, i.e. from outside: only digits
	// and letters go into the path.
	if id == "" || len(id) > 64 || strings.IndexFunc(id, func(r rune) bool {
		return !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-' || r == '_')
	}) >= 0 {
		return Payment{}, fmt.Errorf("checkout: payment: bad id %q", id)
	}
	var p struct {
		ID                json.RawMessage `json:"id"`
		Status            string          `json:"status"`
		TransactionAmount json.Number     `json:"transaction_amount"`
		CurrencyID        string          `json:"currency_id"`
		ExternalReference string          `json:"external_reference"`
		DateApproved      *string         `json:"date_approved"`
	}
	if err := c.do(ctx, "payment", http.MethodGet, "/v1/payments/"+id, nil, &p); err != nil {
		return Payment{}, err
	}
	malformed := func(why string) error {
		return &Error{Op: "payment", Status: http.StatusOK, Message: "malformed answer: " + why}
	}
	gotID, ok := idText(p.ID)
	if !ok || gotID != id {
		return Payment{}, malformed("id " + string(p.ID) + " is not the one asked for")
	}
	amount, ok := normalAmount(p.TransactionAmount.String())
	if !ok {
		return Payment{}, malformed("transaction_amount " + p.TransactionAmount.String())
	}
	out := Payment{
		ID: gotID, Reference: p.ExternalReference, Status: status(p.Status),
		Amount: amount, Currency: p.CurrencyID, ProviderStatus: p.Status,
	}
	if out.Status == Approved {
		if p.DateApproved == nil {
			return Payment{}, malformed("approved without date_approved")
		}
		t, err := time.Parse(time.RFC3339, *p.DateApproved)
		if err != nil {
			return Payment{}, malformed("date_approved " + *p.DateApproved)
		}
		out.PaidAt = t
	}
	return out, nil
}

// status reduces the provider's payment statuses (pending, approved,
// authorized, in_process, in_mediation, rejected, cancelled, refunded,
// charged_back: the "Get payment status" table of the Mercado Pago docs)
// to the four Pulso acts on. Anything unknown is Pending: never applied,
// never reverted, until a status Pulso understands arrives.
func status(s string) Status {
	switch s {
	case "approved":
		return Approved
	case "rejected", "cancelled":
		return Rejected
	case "refunded", "charged_back":
		return Refunded
	default: // pending, authorized, in_process, in_mediation, new words
		return Pending
	}
}

// do sends one request and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, op, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return &Error{Op: op, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		// The status arrived but the body did not: a broken connection,
		// as retryable as no answer at all.
		return &Error{Op: op, Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Op: op, Status: resp.StatusCode}
		var pe struct {
			Message string `json:"message"`
			Error   string `json:"error"`
		}
		if json.Unmarshal(data, &pe) == nil {
			e.Code, e.Message = pe.Error, pe.Message
		} else {
			e.Message = truncate(string(data), 200)
		}
		return e
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &Error{Op: op, Status: resp.StatusCode, Message: "malformed answer: " + err.Error()}
	}
	return nil
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
