// Package checkout is Pulso's side of a hosted-checkout payment provider:
// the Provider interface the billing code talks to, an HTTP Client for a
// provider shaped like Mercado Pago's Checkout Pro, and the verification of
// the provider's signed webhooks.
//
// The flow it serves: an org admin upgrades the plan, Pulso lists the
// payment methods (Methods), creates a checkout for the prorated amount
// (Create) and sends the browser to Checkout.URL. The person pays on the
// provider's page; the provider redirects back to SuccessURL and, on its
// own schedule, POSTs a signed webhook. Pulso checks the signature
// (Verify), then fetches the payment (Payment) and applies it. The webhook
// only says "look at payment X": it may come twice, late, out of order or
// be retried after a non-2xx answer, and the redirect's query string can be
// typed by anyone, so neither is trusted for the amount or status; the
// fetch is. Applying once is the caller's job, keyed on Payment.ID, after
// checking the payment's Reference, Amount and Currency against the upgrade
// it claims to pay.
//
// Modelled on Mercado Pago's documented API:
//   - POST /checkout/preferences creates a Checkout Pro preference; its
//     init_point is the page to send the buyer to, external_reference is
//     echoed back on the payment and on the back_urls redirect
//     (https://www.mercadopago.com.mx/developers/en/docs/checkout-pro-preferences/create-payment-preference.md,
//     https://www.mercadopago.com.br/developers/en/docs/checkout-pro/checkout-customization/user-interface/redirection).
//   - GET /v1/payments/{id} is the payment, with status, transaction_amount,
//     currency_id, external_reference and date_approved
//     (https://www.mercadopago.com.br/developers/en/docs/checkout-api/additional-content/notifications/ipn/online-payments/online-url-after-notification).
//   - Webhooks carry x-signature "ts=<unix>,v1=<hex HMAC-SHA256>" over the
//     manifest "id:<data.id>;request-id:<x-request-id>;ts:<ts>;" keyed with
//     the application's webhook secret; data.id and x-request-id are the
//     notification's, ts the header's, and the manifest ends in ";"
//     (the "secret signature" of
//     https://www.mercadopago.com.mx/developers/es/docs/your-integrations/notifications/webhooks.md,
//     as spelled out in https://mintlify.wiki/mercadopago/sdk-java/guides/webhooks
//     and https://dev.to/marceloaraujodev/mercado-pago-has-no-stripe-trigger-heres-what-that-costs-you-1ja1).
//   - An unanswered or non-2xx notification is sent again, for days
//     (the retry table of the IPN page above).
//
// Simplifications, on purpose:
//   - One item per checkout, quantity 1: a plan upgrade is one line.
//   - Methods asks for ?currency=; Mercado Pago's list is per account
//     (country), not per currency, and has no such filter. One Pulso
//     account per country gives the same answer.
//   - The chosen method travels as payment_methods.default_payment_method_id;
//     the real page would still offer the others.
//   - Mercado Pago signs the data.id of the notification URL's query string;
//     Verify reads it from the JSON body (data.id), which carries the same
//     value, because Verify is given the header and body only.
//   - Amounts are two-decimal strings for EUR, MXN and ARS alike.
package checkout

import (
	"context"
	"errors"
	"strings"
	"time"
)

// Method is one way to pay offered in Pulso's upgrade dialog.
type Method struct {
	ID   string // card, bank_transfer, cash
	Name string // as the provider names it, for the dialog
}

// Charge is what Pulso asks the provider to collect.
type Charge struct {
	Reference  string // Pulso's id for this upgrade; the payment echoes it back
	Title      string // shown on the provider's page
	Amount     string // exact decimal with two places: "49.00"
	Currency   string // EUR, MXN or ARS
	Method     string // a Method.ID
	SuccessURL string // where the browser returns after paying
	CancelURL  string // where it returns when the person gives up
	Payer      string // e-mail, optional
}

// Checkout is a created hosted checkout.
type Checkout struct {
	ID  string
	URL string // where to send the browser
}

// Status is a payment's state reduced to what Pulso acts on.
type Status string

const (
	// Approved means the money is collected: apply the upgrade.
	Approved Status = "approved"
	// Pending covers everything not final yet (a cash voucher not yet paid,
	// a review, a dispute in progress): wait for the next webhook.
	Pending Status = "pending"
	// Rejected covers rejected and cancelled payments: nothing to apply.
	Rejected Status = "rejected"
	// Refunded covers refunds and chargebacks: the money went back.
	Refunded Status = "refunded"
)

// Payment is the provider's record of a payment: the truth Pulso applies.
type Payment struct {
	ID        string
	Reference string // Charge.Reference
	Status    Status
	Amount    string // two decimals, same form as Charge.Amount
	Currency  string
	PaidAt    time.Time // date approved; zero unless approved
	// ProviderStatus is the provider's own status word ("in_process",
	// "charged_back"...), for logs and support: Status is what to act on.
	ProviderStatus string
}

// Provider is what Pulso's billing needs from a payment provider.
type Provider interface {
	Methods(ctx context.Context, currency string) ([]Method, error)
	Create(ctx context.Context, c Charge) (Checkout, error)
	Payment(ctx context.Context, id string) (Payment, error)
}

// Currencies Pulso sells in: Spain, Mexico, Argentina.
var currencies = map[string]bool{"EUR": true, "MXN": true, "ARS": true}

// ValidCurrency says whether Pulso charges in currency.
func ValidCurrency(currency string) bool { return currencies[currency] }

// ErrAmount is an amount that is not a positive exact decimal with two
// places.
var ErrAmount = errors.New("checkout: amount must be a positive decimal with two places, like 49.00")

// maxIntDigits bounds an amount far above any plan price, so a typo or an
// overflow somewhere upstream never reaches the provider.
const maxIntDigits = 12

// validAmount accepts exactly the form Charge.Amount promises: digits, a
// dot, two digits, no leading zeros, above zero. Strict on the way out so
// the string Pulso compares later is the one it sent.
func validAmount(s string) bool {
	whole, frac, ok := strings.Cut(s, ".")
	if !ok || len(frac) != 2 || !digits(frac) || !digits(whole) || len(whole) > maxIntDigits {
		return false
	}
	if len(whole) > 1 && whole[0] == '0' {
		return false
	}
	return strings.Trim(whole+frac, "0") != ""
}

// normalAmount writes a provider's JSON number ("49", "49.5", "49.50") with
// two places, by moving digits around, never through float64: the provider
// drops trailing zeros, Pulso compares strings. More than two significant
// decimals, exponents or signs are refused: a plan price never has them.
func normalAmount(n string) (string, bool) {
	whole, frac, dot := strings.Cut(n, ".")
	if !digits(whole) || (dot && !digits(frac)) {
		return "", false
	}
	if len(frac) > 2 {
		if strings.Trim(frac[2:], "0") != "" {
			return "", false
		}
		frac = frac[:2]
	}
	frac += strings.Repeat("0", 2-len(frac))
	whole = strings.TrimLeft(whole, "0")
	if whole == "" {
		whole = "0"
	}
	if len(whole) > maxIntDigits {
		return "", false
	}
	return whole + "." + frac, true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
