package documentsweb

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"pulso/app/documents"
	"pulso/app/files"
	"pulso/app/live"
	"pulso/app/web"
	"pulso/queries"
)

// Delete removes a document (its uploader or an admin) and notes it on the
// timeline. Its bytes go too unless another document of the org has the
// same content.
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
			Kind: "document_deleted", Summary: documents.Summary(d.Filename), Data: data,
		})
		return err
	})
	if err != nil {
		return err
	}
	h.release(c.UserContext(), p.OrgID, d.FileID)
	if !web.IsPartial(c) {
		return web.Redirect(c, pa.base())
	}
	return h.render(c, fiber.StatusOK, pa, "")
}

// release deletes a file's bytes unless a document of the org still uses
// them. It runs after the commit that dropped the reference; the store
// refuses (ErrInUse) when anything else still refers to the file — an
// import of the same bytes, or an upload of them that committed meanwhile.
// A failure only leaves unused bytes behind, so it is logged, not returned.
func (h *Handler) release(ctx context.Context, orgID, fileID int64) {
	used, err := h.Q.FileHasDocuments(ctx, queries.FileHasDocumentsParams{OrgID: orgID, FileID: fileID})
	if err == nil && !used {
		err = h.files.Delete(ctx, orgID, fileID)
	}
	if err != nil && !errors.Is(err, files.ErrInUse) {
		h.Log.WarnContext(ctx, "document bytes not deleted", "org_id", orgID, "file_id", fileID, "error", err.Error())
	}
}
