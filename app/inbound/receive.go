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

	"pulso/app/inbound/senderauth"
	"pulso/app/live"
	"pulso/queries"
	"pulso/workers/jobargs"
)

// Delivery is how a message reached Pulso and what its sender proved.
type Delivery struct {
	Via          string // smtp | upload
	EnvelopeFrom string // MAIL FROM; "" for uploads and bounces
	UploadedBy   *int64 // the admin who uploaded it
	RemoteIP     string // the SMTP client; "" for uploads
	HELO         string
	// Auth is the verdict of senderauth.Check, made by Host (the inbox
	// domain, named in the stored Authentication-Results).
	Auth senderauth.Result
	Host string
}

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
//
// The message keeps its Authentication-Results and, when the checks
// proved it, the From domain they proved: processing trusts the From
// address only if it is in that domain.
func Receive(ctx context.Context, db *pgxpool.Pool, jobs *river.Client[pgx.Tx], orgID int64, raw []byte, d Delivery) (Receipt, error) {
	key := HeaderMessageID(raw)
	if key == "" {
		sum := sha256.Sum256(raw)
		key = "sha256:" + hex.EncodeToString(sum[:])
	}
	verified := ""
	if d.Auth.Verified {
		verified = d.Auth.From
	}
	var r Receipt
	err := live.BeginFunc(ctx, db, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		id, err := q.ReceiveInboundMessage(ctx, queries.ReceiveInboundMessageParams{
			OrgID: orgID, MessageID: key, Via: d.Via, EnvelopeFrom: bounded(d.EnvelopeFrom, 1000), Raw: raw, SizeBytes: int64(len(raw)), UploadedBy: d.UploadedBy,
			RemoteIP: bounded(d.RemoteIP, 45), Helo: bounded(d.HELO, 255), AuthResults: bounded(d.Auth.String(d.Host), 2000), VerifiedDomain: bounded(verified, 255),
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

// bounded makes what a client sent fit its column: valid UTF-8, no NUL,
// at most max bytes.
func bounded(s string, max int) string {
	s = clean(s)
	if len(s) > max {
		s = s[:max]
	}
	return strings.ToValidUTF8(s, "")
}
