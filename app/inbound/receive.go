package inbound

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/live"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// Receipt says what became of a received message.
type Receipt struct {
	ID int64
	// Duplicate: the org already had this Message-ID; nothing was stored.
	Duplicate bool
}

// Receive stores a raw message for an org and enqueues its processing in
// the same transaction: once it returns nil the message is durable (the
// SMTP listener answers 250 only then) and will be processed even if this
// process dies. A message the org already has (same Message-ID, or the same
// bytes when it has none) is not stored or queued again.
func Receive(ctx context.Context, db *pgxpool.Pool, jobs *river.Client[pgx.Tx], orgID int64, raw []byte, via, envelopeFrom string, uploadedBy *int64) (Receipt, error) {
	key := HeaderMessageID(raw)
	if key == "" {
		sum := sha256.Sum256(raw)
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	envelopeFrom = clean(envelopeFrom)
	if len(envelopeFrom) > 1000 {
		envelopeFrom = envelopeFrom[:1000]
	}
	envelopeFrom = strings.ToValidUTF8(envelopeFrom, "")
	var r Receipt
	err := live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		id, err := q.ReceiveInboundMessage(ctx, queries.ReceiveInboundMessageParams{
			OrgID: orgID, MessageID: key, Via: via, EnvelopeFrom: envelopeFrom, Raw: raw, SizeBytes: int64(len(raw)), UploadedBy: uploadedBy,
		})
		if errors.Is(err, pgx.ErrNoRows) {
			prev, err := q.GetInboundMessageByMessageID(ctx, queries.GetInboundMessageByMessageIDParams{OrgID: orgID, MessageID: key})
			r = Receipt{ID: prev.ID, Duplicate: true}
			return err
		}
		if err != nil {
			return err
		}
		r.ID = id
		_, err = jobs.InsertTx(ctx, tx, jobargs.InboundEmail{OrgID: orgID, InboundID: id}, nil)
		return err
	})
	return r, err
}
