package pipelineweb

import (
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/ident"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
	pipelineview "pulso/views/pipeline"
)

var settingsPage = web.Page{Title: "pipeline.settings_title", Nav: "pipeline_settings"}

// Settings is /admin/pipeline: each stage's default probability and idle
// limit, and the cancel reasons.
func (h *Handler) Settings(c *fiber.Ctx) error {
	return h.renderSettings(c, fiber.StatusOK, nil, nil, c.Query("saved") == "1")
}

func (h *Handler) renderSettings(c *fiber.Ctx, status int, typed map[string]string, errs map[string]string, saved bool) error {
	p := web.MustPrincipal(c)
	ctx := c.UserContext()
	stages, err := h.Q.ListPipelineStages(ctx, p.OrgID)
	if err != nil {
		return err
	}
	reasons, err := h.Q.ListCancelReasons(ctx, p.OrgID)
	if err != nil {
		return err
	}
	v := pipelineview.SettingsPage{Errors: errs, Saved: saved}
	if v.Errors == nil {
		v.Errors = map[string]string{}
	}
	for _, s := range stages {
		st := pipelineview.StageSetting{Stage: s.Stage, Probability: strconv.Itoa(int(s.Probability))}
		if s.IdleDays != nil {
			st.IdleDays = strconv.Itoa(int(*s.IdleDays))
		}
		if typed != nil {
			st.Probability, st.IdleDays = typed["probability_"+s.Stage], typed["idle_days_"+s.Stage]
		}
		v.Stages = append(v.Stages, st)
	}
	for _, r := range reasons {
		v.Reasons = append(v.Reasons, pipelineview.Reason{ID: r.ID, Name: r.Name, Active: r.Active})
	}
	return web.Render(c, status, settingsPage, pipelineview.Settings(v))
}

// SaveSettings stores every stage's probability and idle limit at once.
func (h *Handler) SaveSettings(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	typed := map[string]string{}
	errs := map[string]string{}
	type setting struct {
		stage string
		prob  int32
		idle  *int32
	}
	var out []setting
	for _, s := range pipelineview.Stages {
		pk, ik := "probability_"+s, "idle_days_"+s
		typed[pk], typed[ik] = strings.TrimSpace(c.FormValue(pk)), strings.TrimSpace(c.FormValue(ik))
		st := setting{stage: s}
		if n, err := strconv.Atoi(typed[pk]); err != nil || n < 0 || n > 100 {
			errs[pk] = "pipeline.probability_invalid"
		} else {
			st.prob = int32(n)
		}
		if typed[ik] != "" {
			if n, err := strconv.Atoi(typed[ik]); err != nil || n < 1 || n > 365 {
				errs[ik] = "pipeline.idle_days_invalid"
			} else {
				d := int32(n)
				st.idle = &d
			}
		}
		out = append(out, st)
	}
	if len(errs) > 0 {
		return h.renderSettings(c, fiber.StatusUnprocessableEntity, typed, errs, false)
	}
	ctx := c.UserContext()
	err := live.BeginFunc(ctx, h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		for _, s := range out {
			if err := q.UpdatePipelineStage(ctx, queries.UpdatePipelineStageParams{OrgID: p.OrgID, Stage: s.stage, Probability: s.prob, IdleDays: s.idle}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return web.Redirect(c, "/admin/pipeline?saved=1")
}

// AddReason adds a cancel reason; a name that exists already is an error
// next to the field.
func (h *Handler) AddReason(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	name := strings.TrimSpace(c.FormValue("name"))
	errs := map[string]string{}
	switch {
	case name == "":
		errs["name"] = "validation.required"
	case len([]rune(name)) > 120 || !ident.CleanText(name) || strings.ContainsAny(name, "\n\t"):
		errs["name"] = "validation.bad_chars"
	}
	if len(errs) == 0 {
		_, err := h.Q.CreateCancelReason(c.UserContext(), queries.CreateCancelReasonParams{OrgID: p.OrgID, Name: name})
		if isNoRows(err) {
			errs["name"] = "pipeline.reason_exists"
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		return h.renderSettings(c, fiber.StatusUnprocessableEntity, nil, errs, false)
	}
	return web.Redirect(c, "/admin/pipeline")
}

// ToggleReason retires a reason (or brings it back); deals keep theirs.
func (h *Handler) ToggleReason(c *fiber.Ctx) error {
	p := web.MustPrincipal(c)
	id, err := web.ID(c)
	if err != nil {
		return err
	}
	n, err := h.Q.ToggleCancelReason(c.UserContext(), queries.ToggleCancelReasonParams{OrgID: p.OrgID, ID: id})
	if err != nil {
		return err
	}
	if n == 0 {
		return web.ErrNotFound
	}
	return web.Redirect(c, "/admin/pipeline")
}
