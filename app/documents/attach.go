package documents

import (
	"context"
	"encoding/json"
	"errors"
	"net/url"
	"path/filepath"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgconn"

	"pulso/queries"
)

// Target is what a document hangs off: exactly one of the ids is set.
type Target struct {
	LeadID, CustomerID *int64
}

// Source is who put a document there: a user, or the system (UploadedBy
// nil) for an inbound e-mail attachment, flagged when the e-mail's sender
// could not be authenticated.
type Source struct {
	UploadedBy       *int64
	SenderUnverified bool
}

// Attach records a stored blob as a document of the target and writes the
// 'document' activity on its timeline, in the caller's transaction (q from
// WithTx).
func Attach(ctx context.Context, q *queries.Queries, orgID int64, t Target, filename string, b Blob, src Source) (queries.Document, error) {
	name := SafeFilename(filename)
	uploadedBy := src.UploadedBy
	d, err := q.CreateDocument(ctx, queries.CreateDocumentParams{
		OrgID: orgID, LeadID: t.LeadID, CustomerID: t.CustomerID, Filename: name,
		ContentType: b.ContentType, SizeBytes: b.Size, Sha256: b.SHA256, FileID: b.FileID, UploadedBy: uploadedBy,
		SenderUnverified: src.SenderUnverified,
	})
	if err != nil {
		return d, err
	}
	data, _ := json.Marshal(map[string]any{"document_id": d.ID, "filename": name, "size": b.Size, "content_type": b.ContentType, "action": "added"})
	_, err = q.AppendActivity(ctx, queries.AppendActivityParams{
		OrgID: orgID, LeadID: t.LeadID, CustomerID: t.CustomerID, ActorID: uploadedBy,
		Kind: "document", Summary: Summary(name), Data: data, SenderUnverified: src.SenderUnverified,
	})
	return d, err
}

// FileGone reports that the file a blob named was deleted before the
// document referring to it could commit.
func FileGone(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503" && pe.ConstraintName == "documents_file_fkey"
}

// SafeFilename keeps what a person would recognise of a client-supplied
// name: the last path element, without control characters, quotes or
// separators, at most 255 bytes, never empty.
func SafeFilename(name string) string {
	name = strings.ToValidUTF8(name, "")
	name = filepath.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r):
			return ' '
		case unicode.IsControl(r), r == '"', r == '/', r == '\\', r == ';', r == unicode.ReplacementChar:
			return -1
		}
		return r
	}, name)
	name = strings.Trim(strings.TrimSpace(name), ".")
	name = strings.TrimSpace(name)
	for len(name) > 255 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name == "" {
		return "documento"
	}
	return name
}

func truncate(s string, runes int) string {
	if utf8.RuneCountInString(s) <= runes {
		return s
	}
	return string([]rune(s)[:runes])
}

// Summary is a file name as the activity timeline keeps it.
func Summary(name string) string { return truncate(name, 500) }

// ContentDisposition offers the file as a download under its name: an ASCII
// fallback for old clients and the UTF-8 name (RFC 6266 / 5987).
func ContentDisposition(name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return '_'
		}
		return r
	}, name)
	return `attachment; filename="` + ascii + `"; filename*=UTF-8''` + url.PathEscape(name)
}
