package apptest

import (
	"testing"

	"pulso/app/web"
	"pulso/queries"
)

// World is the org most area tests act in: an admin, a manager with Rep on
// their team, and Rep2 on nobody's team, each signed in with a browser-like
// client of their own. E-mails are admin@, manager@, rep@ and rep2@ the
// given domain. Tests add what their area needs around it.
type World struct {
	Env                           *Env
	Org                           queries.Org
	Admin, Manager, Rep, Rep2     queries.User
	AdminC, ManagerC, RepC, Rep2C *Client
}

// NewWorld builds a World in a fresh database (see New for opts).
func NewWorld(t testing.TB, org, domain string, opts ...Option) *World {
	t.Helper()
	env := New(t, opts...)
	w := &World{Env: env, Org: env.Org(org)}
	w.Admin = env.User(w.Org, "admin@"+domain, web.RoleAdmin)
	w.Manager = env.User(w.Org, "manager@"+domain, web.RoleManager)
	w.Rep = env.User(w.Org, "rep@"+domain, web.RoleRep)
	w.Rep2 = env.User(w.Org, "rep2@"+domain, web.RoleRep)
	env.Exec(`UPDATE users SET manager_id = $1 WHERE id = $2`, w.Manager.ID, w.Rep.ID)
	w.AdminC, w.ManagerC, w.RepC, w.Rep2C = env.LoginAs(w.Admin), env.LoginAs(w.Manager), env.LoginAs(w.Rep), env.LoginAs(w.Rep2)
	return w
}
