package web

import (
	"slices"
	"time"

	"github.com/gofiber/fiber/v2"

	"pulso/app/calendar"
)

// Role is what a user may do in their org.
type Role string

const (
	RoleAdmin      Role = "admin"
	RoleManager    Role = "manager"
	RoleRep        Role = "rep"
	RoleAccountant Role = "accountant"
)

// Roles lists every role, for validation.
var Roles = []Role{RoleAdmin, RoleManager, RoleRep, RoleAccountant}

// Who may do what beyond reading their scope. The route table guards with
// these lists, and handlers ask the same lists (Role.In) to show only what
// the viewer may use, so each rule is written once.
var (
	// Sales change the sales objects: leads, customers, deals, tasks,
	// quotes and orders (and the contacts and documents hanging off
	// them). An accountant reads them all and changes none, except a
	// customer's direct-debit details (Billing).
	Sales = []Role{RoleAdmin, RoleManager, RoleRep}
	// Billing change a customer's direct-debit details (IBAN and SEPA
	// mandate): whoever changes them decides whose account is charged.
	Billing = []Role{RoleAdmin, RoleAccountant}
	// DealDeleters delete deals (a soft delete: the history stays).
	DealDeleters = []Role{RoleAdmin, RoleManager}
	// Exporters download lists in bulk: a rep's list is theirs to work,
	// not to carry away; the accountant exports for billing (the customer
	// export carries the IBANs).
	Exporters = []Role{RoleAdmin, RoleManager, RoleAccountant}
	// TargetSetters set monthly sales targets: a manager for their team,
	// an admin for anyone (app/targets.MaySet decides whose).
	TargetSetters = []Role{RoleAdmin, RoleManager}
)

// In reports whether r is one of roles.
func (r Role) In(roles []Role) bool { return slices.Contains(roles, r) }

// Principal is the signed-in user of a request. Every query an area runs is
// scoped by OrgID taken from here, never from the request.
type Principal struct {
	OrgID      int64
	UserID     int64
	Role       Role
	Name       string
	Email      string
	Locale     string
	OrgName    string
	OrgCountry string
	Currency   string
	TimeZone   string
	// Operator: the org is Pulso's operator (orgs.operator), whose admins
	// edit the plans every org subscribes to.
	Operator bool
	// UnreadNotifications feeds the bell; read with the session, in one query.
	UnreadNotifications int64
	// SessionHash identifies the request's session (the stored hash of its
	// cookie): a live socket is bound to it and closes when it ends.
	SessionHash []byte
}

const principalKey = "pulso.principal"

// SetPrincipal attaches the signed-in user to the request.
func SetPrincipal(c *fiber.Ctx, p *Principal) { c.Locals(principalKey, p) }

// CurrentPrincipal returns the signed-in user, or nil.
func CurrentPrincipal(c *fiber.Ctx) *Principal {
	p, _ := c.Locals(principalKey).(*Principal)
	return p
}

// MustPrincipal returns the signed-in user of a route guarded by auth.Require;
// reaching it without one is a wiring bug, not a user error.
func MustPrincipal(c *fiber.Ctx) *Principal {
	p := CurrentPrincipal(c)
	if p == nil {
		panic("web.MustPrincipal on a route without auth.Require")
	}
	return p
}

// Today is now's calendar day in the org's zone, as a date at UTC
// midnight (how dates are kept).
func (p *Principal) Today(now time.Time) time.Time {
	return calendar.Today(now, p.Location())
}

// Location is the org's time zone, for showing times (UTC if the stored
// name is unknown, which the org form prevents).
func (p *Principal) Location() *time.Location {
	return calendar.ZoneOrUTC(p.TimeZone)
}
