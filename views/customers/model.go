// Package customers renders the customer list, the one-screen customer form,
// the customer 360 page with its tabs, and the lead conversion form.
package customers

import (
	"strconv"

	"pulso/views/components"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Address is one postal address as shown.
type Address struct {
	Street, PostalCode, City, Province, Country string
}

// Customer is one customer as pages show it; money is already formatted.
type Customer struct {
	ID                                               int64
	LegalName, TradeName, TaxID, Country             string
	Email, Phone, IBAN                               string
	SepaMandateRef, SepaMandateDate                  string
	PaymentTermsDays                                 int32
	OwnerName                                        string
	Tags                                             []string
	Notes                                            string
	Billing, Shipping                                *Address
	BillingInitial, BillingRecommended, BillingFinal string
	TaxRegime, ExemptCause, IRPF                     string
}

// Row is one line of the list.
type Row struct {
	ID                                   int64
	LegalName, TradeName, TaxID, Country string
	Email, Phone, OwnerName              string
	Tags                                 []string
}

// Filters are the list's query parameters.
type Filters struct{ Q, Owner, Tag, Country string }

// ListPage is the customer list.
type ListPage struct {
	Filters     Filters
	Rows        []Row
	Owners      []components.SelectOption
	MoreURL     string
	Export      bool   // the viewer may export the list
	ExportQuery string // the filters, for the export links
}

// Duplicate is the existing customer with the tax id just typed.
type Duplicate struct {
	ID     int64
	Name   string
	Hidden bool   // another rep's customer: named as existing, not linked
	Owner  string // whose it is, when Hidden ("" when nobody's)
}

// FormPage is the create/edit form.
type FormPage struct {
	ID        int64 // 0 for a new customer
	Values    map[string]string
	Errors    map[string]string
	Owners    []components.SelectOption
	Conflict  bool // someone else saved after the form was loaded
	Duplicate *Duplicate
	// Regimes and Causes are the tax options (app/tax decides them).
	Regimes, Causes []components.SelectOption
	// What the viewer may change: the customer's data (sales), its
	// direct-debit details (billing). The rest is shown read-only or,
	// for someone who changes only the direct debit, not at all.
	Data, Mandate bool
}

// irpfOptions are the IRPF retentions a Spanish customer may apply.
var irpfOptions = []components.SelectOption{{Value: "0", Label: "customers.irpf_none"}, {Value: "15", Label: "customers.irpf_15"},
	{Value: "7", Label: "customers.irpf_7"}}

func (f FormPage) action() string {
	if f.ID == 0 {
		return "/customers"
	}
	return "/customers/" + itoa(f.ID)
}

// Contact is one person at the customer.
type Contact struct {
	ID                           int64
	Name, JobTitle, Email, Phone string
	Primary                      bool
}

// Opportunity is one row of the opportunities tab.
type Opportunity struct {
	ID           int64
	Title, Stage string
	Amount       string
	Created      string
}

// Change is one field's old and new value in a timeline entry. Values are
// shown as they are, or as catalog ids ValuePrefix+value when set.
type Change struct{ Label, Old, New, ValuePrefix string }

// Activity is one timeline entry.
type Activity struct {
	Kind, Summary, Actor, When string
	LeadID                     int64
	Changes                    []Change
	// SenderUnverified: an e-mail (or its attachment) whose sender was not
	// authenticated.
	SenderUnverified bool
}

// Invoice is one row of the Ventas tab: State is issued, voided or draft
// (a proforma is kind proforma).
type Invoice struct {
	ID                                  int64
	Kind, State, Number, Date, Corrects string
	Total, Used                         string
}

// Purchase is an order or a quote in the purchase history.
type Purchase struct {
	ID                          int64
	Number, Status, Date, Total string
}

// Balance is the customer's account: what was invoiced (issued invoices,
// correctives with their sign), the saldo utilizado (payments and credits
// applied) and what is still outstanding.
type Balance struct {
	Invoiced, Used, Outstanding string
}

// Tabs of the 360 page, in order.
var Tabs = []string{"summary", "contacts", "opportunities", "tasks", "documents", "activity", "sales"}

// ShowPage is the customer 360.
type ShowPage struct {
	Customer Customer
	// Edit: the viewer may change some of the customer's fields (sales
	// its data, billing its direct-debit details).
	Edit          bool
	Tab           string
	Contacts      []Contact
	Opportunities []Opportunity
	Activities    []Activity
	// The Ventas tab: issued and voided invoices, correctives apart,
	// drafts and proformas apart, the balance, and the purchase history.
	Invoices    []Invoice
	Correctives []Invoice
	Drafts      []Invoice
	Balance     Balance
	Orders      []Purchase
	Quotes      []Purchase
	// The contact form being re-shown with errors (ContactID 0: the new one).
	ContactID     int64
	ContactValues map[string]string
	ContactErrors map[string]string
}

// ConvertPage is the form that turns a lead into a customer.
type ConvertPage struct {
	LeadID     int64
	LeadName   string
	Values     map[string]string
	Errors     map[string]string
	Existing   *Duplicate // the customer the lead will be attached to
	Message    string     // a refusal (already converted, discarded, another rep's customer)
	Owner      string     // whom the refusal names
	CustomerID int64      // where an already converted lead went
}
