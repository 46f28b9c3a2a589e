// Package invoices renders invoices: the list, the three-step editor of an
// invoice typed by hand, an invoice's page, and the corrective's form.
package invoices

import (
	"strconv"

	"pulso/views/components"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Msg is a field message: an i18n id and its parameters.
type Msg struct {
	ID     string
	Params map[string]any
}

// Errors are the field messages of a form, by field name as posted
// ("customer_id", "lines.2.quantity", ...).
type Errors map[string]Msg

// Kinds an invoice is, in menu order (values of app/invoices.Kind).
var Kinds = []string{"ordinary", "simplified", "corrective", "summary", "replacement", "proforma"}

// HandKinds are the kinds the by-hand editor offers: correctives start from
// the invoice they correct, summaries and replacements from their sources.
var HandKinds = []string{"ordinary", "simplified", "proforma"}

// States a list can filter by, in menu order.
var States = []string{"draft", "issued", "unpaid", "overdue", "paid", "voided"}

// Row is one invoice in the list.
type Row struct {
	ID                                   int64
	Number, Kind, Date, Customer, Owner  string
	Total, State, DueDate, Badge, Fiscal string
}

// Filters are the list's filters as typed.
type Filters struct {
	Kind, State, CustomerID, RepID, From, To string
}

// ListPage is /invoices.
type ListPage struct {
	Filters          Filters
	Customers, Reps  []components.SelectOption
	Errors           Errors
	Rows             []Row
	MoreURL, BaseURL string
}

// LineForm is one editable line, as typed.
type LineForm struct {
	ProductID, Description, Unit, Quantity, UnitPrice, Discount, TaxRateID string
}

// ReviewLine is a line as printed.
type ReviewLine struct {
	Description, Quantity, Unit, UnitPrice, Discount, TaxRate, Amount string
}

// EditorPage is the by-hand editor at one of its three steps. Steps carry
// what the earlier ones chose in hidden fields: nothing is stored before
// "save draft" or "issue".
type EditorPage struct {
	Step int
	// Replaces is the id of the draft being edited ("" for a new one):
	// saving replaces it.
	Replaces string
	// Canje is the simplified invoice a complete one (F3) replaces.
	Canje                    string
	Kind, CustomerID, Series string
	Customer                 string
	Notes, IssueDate         string
	OperationDate            string
	Customers, KindOptions   []components.SelectOption
	Lines                    []LineForm
	Rates                    []components.SelectOption
	Errors                   Errors
	Review                   []ReviewLine
	Totals                   components.Totals
}

// Product is a catalog search hit in the editor.
type Product struct {
	ID                      int64
	Code, Name, Price, Unit string
}

// Link is another document an invoice points at.
type Link struct {
	// Key names what it is (an i18n id, "" for none); Label is its number.
	Key, Href, Label, State string
}

// Payment is one allocation on an invoice's page.
type Payment struct {
	Date, Amount, Kind, By string
}

// Record is one VERI*FACTU record of the invoice.
type Record struct {
	ID                                int64
	Kind, Status, Seq, Code, Text, At string
}

// Party as printed on the invoice's page.
type Party struct {
	Name, TaxID, Address string
}

// ShowPage is an invoice's page.
type ShowPage struct {
	ID                                int64
	Number, Kind, FiscalType, State   string
	Badge                             string
	IssueDate, DueDate, OperationDate string
	Period                            string
	Issuer, Customer                  Party
	CustomerID                        int64
	Lines                             []ReviewLine
	// PricesIncludeTax: the lines' prices and amounts include IVA.
	PricesIncludeTax               bool
	Totals                         components.Totals
	Total, Allocated, Outstanding  string
	Payments                       []Payment
	Sources                        []Link
	Corrects, CorrectedBy          []Link
	Records                        []Record
	CorrectiveType, Method, Reason string
	VoidReason, VoidedAt           string
	Notes                          string
	Fiscal                         bool
	// Billing: the viewer is admin or accountant (the VERI*FACTU XML is
	// theirs to download).
	Billing bool
	// What the viewer may do here.
	CanIssue, CanDelete, CanPay, CanEdit bool
	CanVoid, CanCorrect, CanConvert      bool
	// CanReplace: a simplified invoice the customer wants as a complete one.
	CanReplace                     bool
	Errors                         Errors
	IssueDateValue, PaidOn, Amount string
	// OperationDateValue is when the goods or services were supplied, if
	// not on the issue date (RD 1619/2012 art. 6.1.f).
	OperationDateValue string
	VoidReasonValue    string
}

// CorrectForm is the rectificativa of an issued invoice.
type CorrectForm struct {
	ID                              int64
	Number, Customer                string
	Type, Method, Reason, IssueDate string
	Lines                           []LineForm
	Rates                           []components.SelectOption
	Errors                          Errors
}

// FiscalForm is the admin's Datos fiscales: what issued invoices say of
// the org, as stored or as typed.
type FiscalForm struct {
	TaxID, Address string
	// Activity is the RD 1619/2012 art. 4.2 letter ("" none); Activities
	// the choices ("" first), none outside Spain.
	Activity   string
	Activities []string
	Errors     map[string]string
	Saved      bool
}
