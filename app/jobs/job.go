package jobs

import (
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"pulso/app/web"
)

// jobFromPath loads the :id job if it belongs to the caller's org. Anything
// else — a malformed id, a missing job, another org's, a system job — is
// 404, so ids of other tenants are not even confirmed to exist.
func (h *Handler) jobFromPath(c *fiber.Ctx) (*rivertype.JobRow, error) {
	id, err := web.ID(c)
	if err != nil {
		return nil, err
	}
	j, err := h.Jobs.JobGet(c.UserContext(), id)
	if errors.Is(err, river.ErrNotFound) {
		return nil, web.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if org, ok := orgOf(j); !ok || org != web.MustPrincipal(c).OrgID {
		return nil, web.ErrNotFound
	}
	return j, nil
}

// back returns to the tab the admin acted from.
func back(c *fiber.Ctx) error {
	state, ok := parseState(c.FormValue("state"))
	if !ok {
		state = ""
	}
	return web.Redirect(c, listURL(state, ""))
}
