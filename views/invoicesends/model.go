// Package invoicesends renders an invoice's sends: the fragment the
// invoice page loads (sends, opens and the forms to send, schedule, change,
// cancel and resend) and the client's page at /i/{token}.
package invoicesends

import "strconv"

// Panel is the sends fragment of one invoice.
type Panel struct {
	InvoiceID int64
	// Sendable: issued (proformas included). Otherwise NotSendable says why
	// (a message id) and no form is shown.
	Sendable    bool
	NotSendable string
	// Zone is the org's time zone the schedule is read in; MinDate today there.
	Zone, MinDate string
	// Values prefill the forms (to, date, time); Errors are field → message
	// id ("to", "at", "invoice", "send"); EditID is the scheduled send whose
	// change form the errors belong to (0: the new-send forms).
	Values map[string]string
	Errors map[string]string
	EditID int64
	// Notice is a message id said above the list after an action, with
	// NoticeData.
	Notice     string
	NoticeData map[string]any
	Sends      []Send
	Opens      []Open
}

// Send is one row of the list.
type Send struct {
	ID             int64
	State          string
	To, ToName, By string
	At             string // scheduled or sent, in the org's zone
	Date, Time     string // the scheduled minute, for the change form
	Resend         bool
	EmailStatus    string
	Opens          int64
	LastOpen       string
	Failure        string
}

// Open is one recorded visit to a link.
type Open struct {
	At, IP, UserAgent, To string
}

// ClientPage is what a customer sees at /i/{token}.
type ClientPage struct {
	Token                     string
	Number, IssueDate         string
	Seller, SellerTaxID       string
	Buyer, BuyerTaxID         string
	Lines                     []Line
	Base, Tax, Surcharge      string
	Withheld, Total           string
	Proforma, Voided          bool
	HasSurcharge, HasWithheld bool
}

// Line is one line of the client's page.
type Line struct {
	Description, Quantity, Unit, Amount string
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func (p Panel) err(field string, sendID int64) string {
	if p.EditID != sendID {
		return ""
	}
	return p.Errors[field]
}

func (p Panel) val(field string) string { return p.Values[field] }
