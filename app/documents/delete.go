package documents

import (
	"context"
	"encoding/json"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
)

// Delete removes a document (its uploader or an admin) and notes it on the
// timeline. The bytes stay: the same content may back another document,
// and content-addressed files are cheap to keep.
func (h *Handler) Delete(c *fiber.Ctx) error {
	d, err := h.document(c)
	if err != nil {
		return err
	}
	p := web.MustPrincipal(c)
	if p.Role != web.RoleAdmin && (d.UploadedBy == nil || *d.UploadedBy != p.UserID) {
		return web.ErrForbidden
	}
	pa := parentOf(d)
	err = live.BeginFunc(c.UserContext(), h.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := h.Q.WithTx(tx)
		if err := q.DeleteDocument(ctx, queries.DeleteDocumentParams{OrgID: p.OrgID, ID: d.ID}); err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{"document_id": d.ID, "filename": d.Filename, "action": "deleted"})
		_, err := q.AppendActivity(ctx, queries.AppendActivityParams{
			OrgID: p.OrgID, LeadID: d.LeadID, CustomerID: d.CustomerID, ActorID: &p.UserID,
			Kind: "document_deleted", Summary: truncate(d.Filename, 500), Data: data,
		})
		return err
	})
	if err != nil {
		return err
	}
	if !web.IsPartial(c) {
		return web.Redirect(c, pa.base())
	}
	return h.render(c, fiber.StatusOK, pa, "")
}
