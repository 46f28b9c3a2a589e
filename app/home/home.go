// Package home serves the page each user lands on after signing in.
package home

import (
	"github.com/gofiber/fiber/v2"

	"pulso/app/web"
	homeview "pulso/views/home"
)

// Show renders the home page.
func Show(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	return web.Render(c, fiber.StatusOK, web.Page{Title: "nav.home", Nav: "home"},
		homeview.Home(homeview.Page{Name: p.Name, Role: string(p.Role), OrgName: p.OrgName}))
}

// Admin lists the admin's tools (the phone's way to them).
func Admin(c *fiber.Ctx) error {
	return web.Render(c, fiber.StatusOK, web.Page{Title: "nav.admin", Nav: "admin"}, homeview.Admin())
}
