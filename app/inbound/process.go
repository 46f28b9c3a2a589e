package inbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/documents"
	"pulso/app/files"
	"pulso/app/leads"
	"pulso/app/live"
	"pulso/queries"
)

// Processor turns stored messages into leads or activities.
type Processor struct {
	DB       *pgxpool.Pool
	Files    files.Store // where attachments kept as documents go
	MaxBytes int64       // one message
	DocMax   int64       // one attachment kept as a document
	Log      *slog.Logger
}

// NewProcessor is the processing the inbound_email job runs (and an
// upload runs at once): messages up to maxBytes, attachments kept as
// documents up to docMax.
func NewProcessor(db *pgxpool.Pool, maxBytes, docMax int64, log *slog.Logger) *Processor {
	return &Processor{DB: db, Files: files.New(db), MaxBytes: maxBytes, DocMax: docMax, Log: log}
}

// Outcome statuses of inbound_messages.
const (
	StatusPending  = "pending"
	StatusLead     = "lead"
	StatusActivity = "activity"
	StatusRejected = "rejected"
)

// excerptRunes bounds the body kept in an activity's data.
const excerptRunes = 2000

// Process handles one stored message, in one transaction with the row
// locked: a message already processed is left alone, so the job's retries,
// a redelivery and the upload's immediate run never create anything twice.
func (p *Processor) Process(ctx context.Context, jobs *river.Client[pgx.Tx], orgID, id int64) error {
	return live.BeginFunc(ctx, p.DB, func(ctx context.Context, tx pgx.Tx) error {
		q := queries.New(tx)
		row, err := q.LockInboundMessage(ctx, queries.LockInboundMessageParams{OrgID: orgID, ID: id})
		if errors.Is(err, pgx.ErrNoRows) {
			return river.JobCancel(errors.New("inbound message no longer exists"))
		}
		if err != nil {
			return err
		}
		if row.Status != StatusPending {
			return nil
		}
		m, err := Parse(row.Raw, p.MaxBytes)
		if reason, ok := IsRejection(err); ok {
			p.Log.InfoContext(ctx, "inbound e-mail rejected", "org_id", orgID, "inbound_id", id, "reason", reason)
			return q.FinishInboundMessage(ctx, queries.FinishInboundMessageParams{
				OrgID: orgID, ID: id, Status: StatusRejected, Reason: reason, FromAddr: m.FromAddr, FromName: m.FromName, Subject: cut(m.Subject, 500),
			})
		}
		if err != nil {
			return err
		}
		// The From address is only a claim; the checks at receipt proved
		// its domain or did not. An unproven message still lands on the
		// person it names, but flagged, so nobody takes it for them.
		unverified := !Verified(row.VerifiedDomain, m.FromAddr)
		target, err := p.findSender(ctx, q, orgID, m.FromAddr)
		if err != nil {
			return err
		}
		status := StatusActivity
		var created *queries.Lead
		if target.LeadID == nil && target.CustomerID == nil {
			l, err := p.createLead(ctx, q, orgID, m, unverified)
			if err != nil {
				return err
			}
			created, status, target = &l, StatusLead, documents.Target{LeadID: &l.ID}
		}
		files, skipped, err := p.storeAttachments(ctx, orgID, id, m.Attachments)
		if err != nil {
			return err
		}
		data, _ := json.Marshal(map[string]any{
			"message_id": m.MessageID, "inbound_id": id, "from": m.FromAddr, "from_name": m.FromName,
			"excerpt": cut(m.Text, excerptRunes), "attachments": len(files), "skipped_attachments": skipped,
			"auth": row.AuthResults,
		})
		summary := cut(m.Subject, 500)
		if _, err := q.AppendActivity(ctx, queries.AppendActivityParams{
			OrgID: orgID, LeadID: target.LeadID, CustomerID: target.CustomerID, Kind: "email", Summary: summary, Data: data,
			SenderUnverified: unverified,
		}); err != nil {
			return err
		}
		for _, f := range files {
			if _, err := documents.Attach(ctx, q, orgID, target, f.name, f.blob, documents.Source{SenderUnverified: unverified}); err != nil {
				return err
			}
		}
		if err := q.FinishInboundMessage(ctx, queries.FinishInboundMessageParams{
			OrgID: orgID, ID: id, Status: status, FromAddr: m.FromAddr, FromName: m.FromName, Subject: summary,
			LeadID: target.LeadID, CustomerID: target.CustomerID,
		}); err != nil {
			return err
		}
		if created != nil {
			if err := leads.PublishCreated(ctx, q, *created); err != nil {
				return err
			}
			return leads.NotifyAssigned(ctx, tx, jobs, *created)
		}
		return nil
	})
}

// Verified reports whether the From address is in the domain the sender
// checks proved at receipt (verifiedDomain, "" when they proved nothing).
func Verified(verifiedDomain, fromAddr string) bool {
	at := strings.LastIndexByte(fromAddr, '@')
	return verifiedDomain != "" && at >= 0 && strings.EqualFold(fromAddr[at+1:], verifiedDomain)
}

// findSender looks the address up: a customer (its own e-mail or a
// contact's) first, then a lead; a converted lead hands over to its customer.
func (p *Processor) findSender(ctx context.Context, q *queries.Queries, orgID int64, addr string) (documents.Target, error) {
	cid, err := q.FindSenderCustomer(ctx, queries.FindSenderCustomerParams{OrgID: orgID, Email: addr})
	if err == nil {
		return documents.Target{CustomerID: &cid}, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return documents.Target{}, err
	}
	l, err := q.FindSenderLead(ctx, queries.FindSenderLeadParams{OrgID: orgID, Email: addr})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return documents.Target{}, nil
	case err != nil:
		return documents.Target{}, err
	case l.CustomerID != nil:
		return documents.Target{CustomerID: l.CustomerID}, nil
	}
	return documents.Target{LeadID: &l.ID}, nil
}

// createLead makes a lead of an unknown sender the way web capture does:
// the org's assignment rules pick the owner.
func (p *Processor) createLead(ctx context.Context, q *queries.Queries, orgID int64, m Message, unverified bool) (queries.Lead, error) {
	org, err := q.GetOrg(ctx, orgID)
	if err != nil {
		return queries.Lead{}, err
	}
	name := m.FromName
	if name == "" {
		name = m.FromAddr
	}
	notes := m.Text
	if m.Subject != "" {
		notes = m.Subject + "\n\n" + m.Text
	}
	l := queries.CreateLeadParams{
		OrgID: orgID, Name: cut(name, 200), ContactName: cut(m.FromName, 200), Email: m.FromAddr,
		Country: org.Country, Source: "email", Status: "nuevo", Notes: cut(notes, 10000), Tags: []string{},
	}
	l.OwnerID, err = leads.AssignOwner(ctx, q, orgID, leads.LeadFacts{Source: l.Source, Country: l.Country, Tags: l.Tags})
	if err != nil {
		return queries.Lead{}, err
	}
	created, err := q.CreateLead(ctx, l)
	if err != nil || !unverified {
		return created, err
	}
	return q.FlagLeadSenderUnverified(ctx, queries.FlagLeadSenderUnverifiedParams{OrgID: orgID, ID: created.ID})
}

type storedFile struct {
	name string
	blob documents.Blob
}

// storeAttachments keeps the attachments documents accept; the rest (a
// program, an unknown type) are counted, logged and left out.
// A store failure is an error: the job retries, and storing the same
// bytes again finds the file the failed attempt wrote.
func (p *Processor) storeAttachments(ctx context.Context, orgID, id int64, atts []Attachment) ([]storedFile, int, error) {
	var out []storedFile
	skipped := 0
	for _, a := range atts {
		b, err := documents.Store(ctx, p.Files, orgID, bytes.NewReader(a.Data), p.DocMax)
		if _, refused := documents.IsRejection(err); err != nil && !refused {
			return nil, 0, err
		}
		if err != nil {
			skipped++
			p.Log.InfoContext(ctx, "inbound attachment not kept", "org_id", orgID, "inbound_id", id, "filename", a.Filename, "error", err.Error())
			continue
		}
		out = append(out, storedFile{name: a.Filename, blob: b})
	}
	return out, skipped, nil
}

func cut(s string, runes int) string {
	if utf8.RuneCountInString(s) <= runes {
		return s
	}
	return string([]rune(s)[:runes])
}
