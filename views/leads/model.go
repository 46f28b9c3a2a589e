// Package leads renders the leads list, the one-screen lead form and the
// lead's page.
package leads

import (
	"time"

	"pulso/views/components"
	"pulso/views/customers"
)

// Lead is one lead as pages show it.
type Lead struct {
	ID                                     int64
	Name, ContactName, Email, Phone, TaxID string
	Country, Province, City                string
	Source, Status, DiscardReason, Notes   string
	Tags                                   []string
	OwnerID                                int64
	OwnerName                              string
	Version                                int32
	CreatedAt                              time.Time
	CreatedText                            string
	// Hidden: a duplicate the viewer may not open (another rep's lead).
	Hidden bool
	// CustomerID is what a converted lead became (0: not converted).
	CustomerID int64
	// SenderUnverified: made from an e-mail whose sender was not
	// authenticated; the name and address are only what it claimed.
	SenderUnverified bool
	Timeline         []customers.Activity
}

// Filters are the list's query parameters.
type Filters struct {
	Q, Status, Source, Tag, Owner, From, To string
}

// ListPage is the leads list.
type ListPage struct {
	Filters  Filters
	Leads    []Lead
	Owners   []components.SelectOption
	Statuses []string
	Sources  []string
	NextID   int64
	MoreURL  string
}

// FormPage is the create/edit form.
type FormPage struct {
	ID         int64 // 0 for a new lead
	Values     map[string]string
	Errors     map[string]string
	Owners     []components.SelectOption
	Statuses   []string
	Duplicates []Lead
	Conflict   bool // someone else saved this lead after it was loaded
	Converted  bool // a converted lead's status is no longer a choice
}

func (f FormPage) action() string {
	if f.ID == 0 {
		return "/leads"
	}
	return "/leads/" + itoa(f.ID)
}
