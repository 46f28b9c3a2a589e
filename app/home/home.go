// Package home serves the page each user lands on after signing in.
package home

import (
	"github.com/a-h/templ"
	"github.com/gofiber/fiber/v2"

	"pulso/app/web"
	homeview "pulso/views/home"
)

// Show renders the home page: for reps and managers, with their day (day
// renders it; the tasks area owns it).
func Show(day func(*fiber.Ctx) (templ.Component, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		p := web.MustPrincipal(c)
		page := homeview.Page{Name: p.Name, Role: string(p.Role), OrgName: p.OrgName}
		if p.Role == web.RoleRep || p.Role == web.RoleManager {
			d, err := day(c)
			if err != nil {
				return err
			}
			page.Day = d
		}
		return web.Render(c, fiber.StatusOK, web.Page{Title: "nav.home", Nav: "home"}, homeview.Home(page))
	}
}

// Admin lists the admin's tools (the phone's way to them).
func Admin(c *fiber.Ctx) error {
	return web.Render(c, fiber.StatusOK, web.Page{Title: "nav.admin", Nav: "admin"}, homeview.Admin())
}
