package jobs

import (
	"github.com/gofiber/fiber/v2"
	"github.com/riverqueue/river/rivertype"

	"pulso/app/web"
)

// Cancel stops a job of the org that has not finished. A queued job is
// cancelled at once; a running one is asked to stop and is cancelled when
// its worker returns (River's semantics).
func (h *Handler) Cancel(c *fiber.Ctx) error {
	ctx := c.UserContext()
	j, err := h.jobFromPath(c)
	if err != nil {
		return err
	}
	if !CanCancel(j.State) {
		web.Flash(c, "warning", "jobs.not_cancellable")
		return back(c)
	}
	updated, err := h.Jobs.JobCancel(ctx, j.ID)
	if err != nil {
		return err
	}
	h.Log.InfoContext(ctx, "job cancelled", web.RequestAttrs(c, "job_id", j.ID, "job_kind", j.Kind, "job_state", string(updated.State))...)
	switch updated.State {
	case rivertype.JobStateCancelled:
		web.Flash(c, "success", "jobs.cancelled")
	case rivertype.JobStateRunning:
		web.Flash(c, "info", "jobs.cancel_requested")
	default:
		// It finished between the lookup and the cancel; River left it be.
		web.Flash(c, "warning", "jobs.not_cancellable")
	}
	return back(c)
}
