package jobs

import (
	"github.com/gofiber/fiber/v2"
	"github.com/riverqueue/river/rivertype"

	"pulso/app/web"
)

// Retry makes a failed, given-up or cancelled job of the org run again now.
// A job whose state moved on since the page was drawn (it ran, or someone
// else retried it) is left alone and the admin is told.
func (h *Handler) Retry(c *fiber.Ctx) error {
	ctx := c.UserContext()
	j, err := h.jobFromPath(c)
	if err != nil {
		return err
	}
	if !CanRetry(j.State) {
		web.Flash(c, "warning", "jobs.not_retryable")
		return back(c)
	}
	updated, err := h.Jobs.JobRetry(ctx, j.ID)
	if err != nil {
		return err
	}
	if updated.State != rivertype.JobStateAvailable {
		// It started running between the lookup and the retry; River
		// leaves running jobs alone.
		web.Flash(c, "warning", "jobs.not_retryable")
		return back(c)
	}
	h.Log.InfoContext(ctx, "job retried", web.RequestAttrs(c, "job_id", j.ID, "job_kind", j.Kind, "job_state", string(j.State))...)
	web.Flash(c, "success", "jobs.retried")
	return back(c)
}
