// Package quotes renders quotes: the list, the three-step editor, a
// quote's page, and the page a client opens from the link.
package quotes

import (
	"strconv"

	"pulso/views/components"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Statuses a list can filter by, in menu order.
var Statuses = []string{"draft", "sent", "signed", "rejected", "expired"}

// Row is one quote in the list.
type Row struct {
	ID                                     int64
	Number, Customer, Owner, Status, Total string
	ValidUntil                             string
	Version                                int32
	Opened                                 bool
}

// ListPage is /quotes.
type ListPage struct {
	Rows    []Row
	Status  string
	MoreURL string
}

// HeaderForm is step 1: customer, contact, deal.
type HeaderForm struct {
	ID                                 int64
	Values, Errors                     map[string]string
	Customers, Contacts, Opportunities []components.SelectOption
}

// LineForm is one editable line, as typed.
type LineForm struct {
	ProductID, Description, Unit, Quantity, UnitPrice, Discount, TaxRateID string
}

// ReviewLine is a line as printed.
type ReviewLine struct {
	Description, Quantity, Unit, UnitPrice, Discount, TaxRate, Amount string
}

// EditorPage is the editor at one of its three steps.
type EditorPage struct {
	Step     int
	ID       int64
	Number   string
	Customer string
	Revision int32
	Header   HeaderForm
	// Step 2.
	Lines             []LineForm
	Rates             []components.SelectOption
	Country           string
	ValidUntil, Terms string
	Recargo           bool
	IRPF              string
	Errors            map[string]string
	Saved             bool
	Totals            components.Totals
	// Step 3.
	Contact, Opportunity, SendTo string
	Version                      int32
	Review                       []ReviewLine
	Error                        string
}

// Product is a catalog search hit in the editor.
type Product struct {
	ID                      int64
	Code, Name, Price, Unit string
}

// VersionRow is one version on a quote's page.
type VersionRow struct {
	N                                         int32
	Status, Total, ValidUntil, SentAt, SHA256 string
}

// EventRow is one line of the audit trail.
type EventRow struct {
	Kind                                            string
	Version                                         int32
	At, User, Signer, Reason, IP, UserAgent, SHA256 string
}

// ShowPage is a quote's page.
type ShowPage struct {
	ID, CustomerID, OpportunityID          int64
	Number, Customer, Contact, Opportunity string
	Owner, Status                          string
	Current                                int32
	Expired, HasDraft                      bool
	Link                                   string
	LinkVersion                            int32
	// LinkHidden: the link works but predates derived tokens, so it
	// cannot be shown (the next version's link can).
	LinkHidden  bool
	OrderID     int64
	OrderNumber string
	Versions    []VersionRow
	Events      []EventRow
}

// ClientPage is what the client sees at /q/{token}.
type ClientPage struct {
	Token                                  string
	Number                                 string
	Version                                int32
	Status                                 string // sent | superseded | signed | rejected
	Seller, SellerTaxID, Buyer, BuyerTaxID string
	ValidUntil, Terms                      string
	Lines                                  []ReviewLine
	Totals                                 components.Totals
	Errors                                 map[string]string
	LatestURL                              string
	Signer, SignedAt, SHA256               string
}
