// Package views renders Pulso's pages with templ. It imports nothing from
// app: handlers hand it plain view models, and the request-wide parts (who
// is signed in, the CSRF token, flashes) travel in the context as a Shell.
package views

import "context"

// Shell is what the layout needs about the current request.
type Shell struct {
	Title   string
	User    *User // nil when nobody is signed in
	CSRF    string
	Flashes []Flash
	Nav     string // key of the active navigation item
}

// User is the signed-in user as the layout shows them.
type User struct {
	ID      int64
	Name    string
	Email   string
	Role    string
	OrgName string
	Unread  int64 // unread notifications, shown on the bell
	// Sells: may change sales objects (leads, customers, deals, tasks,
	// quotes, orders); an accountant only reads them, so pages leave out
	// the buttons that would be refused.
	Sells bool
	// Billing: a billing role (web.Billing), whose navigation offers the
	// VERI*FACTU pages.
	Billing bool
	// Operator: the org is Pulso's operator; its admins also get the
	// operator's tools (OperatorTools).
	Operator bool
}

// Sells reports whether the viewer may change sales objects (see User).
func Sells(ctx context.Context) bool {
	u := ShellFrom(ctx).User
	return u != nil && u.Sells
}

// Bills reports whether the user works on billing (see User.Billing).
func (u *User) Bills() bool { return u != nil && u.Billing }

// IsAdmin reports whether admin navigation is shown.
func (u *User) IsAdmin() bool { return u != nil && u.Role == "admin" }

// IsOperatorAdmin reports whether the operator's tools are shown.
func (u *User) IsOperatorAdmin() bool { return u.IsAdmin() && u.Operator }

// Flash is a one-time message shown after a redirect. Kind is info, success,
// warning or error; Message is already translated.
type Flash struct {
	Kind    string
	Message string
}

type shellKey struct{}

// WithShell stores the shell for the layout and components to read.
func WithShell(ctx context.Context, s *Shell) context.Context {
	return context.WithValue(ctx, shellKey{}, s)
}

// ShellFrom returns the request's shell (an empty one outside a request).
func ShellFrom(ctx context.Context) *Shell {
	if s, ok := ctx.Value(shellKey{}).(*Shell); ok {
		return s
	}
	return &Shell{}
}
