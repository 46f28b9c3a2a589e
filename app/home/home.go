// Package home serves the page each user lands on after signing in.
package home

import (
	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"pulso/app/web"
	homeview "pulso/views/home"
)

// Part renders one part of the home page; the area that owns it provides
// it (My day: tasks; the dashboard and a rep's numbers: the dashboard).
type Part func(*fiber.Ctx) (templ.Component, error)

// Show renders the home page: managers and admins land on the dashboard;
// reps on their own numbers above their day; the accountant on the
// welcome (their numbers are on the dashboard, in their navigation).
func Show(day, dashboard, mine Part) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := web.MustPrincipal(c)
		page := homeview.Page{Name: p.Name, Role: string(p.Role), OrgName: p.OrgName}
		var err error
		switch p.Role {
		case web.RoleRep:
			if page.Numbers, err = mine(c); err != nil {
				return err
			}
			if page.Day, err = day(c); err != nil {
				return err
			}
		case web.RoleManager, web.RoleAdmin:
			if page.Dashboard, err = dashboard(c); err != nil {
				return err
			}
		}
		return web.Render(c, fiber.StatusOK, web.Page{Title: "nav.home", Nav: "home"}, homeview.Home(page))
	}
}

// Admin lists the admin's tools (the phone's way to them).
func Admin(c *fiber.Ctx) error {
	return web.Render(c, fiber.StatusOK, web.Page{Title: "nav.admin", Nav: "admin"}, homeview.Admin())
}
