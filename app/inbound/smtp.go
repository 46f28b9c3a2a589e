package inbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/linktoken"
	"pulso/queries"
)

// SMTP is the listener for the orgs' inbox addresses. It accepts mail only
// for known addresses, and answers 250 only once the message is stored and
// its processing queued in one committed transaction.
type SMTP struct {
	srv *smtp.Server
}

// NewSMTP builds the server; Serve it on a listener and Shutdown it.
func NewSMTP(db *pgxpool.Pool, jobs *river.Client[pgx.Tx], log *slog.Logger, domain string, maxBytes int64) *SMTP {
	be := &backend{db: db, q: queries.New(db), jobs: jobs, log: log, domain: strings.ToLower(domain)}
	srv := smtp.NewServer(be)
	srv.Domain = domain
	srv.MaxMessageBytes = maxBytes
	srv.MaxRecipients = 20
	srv.ReadTimeout = 2 * time.Minute
	srv.WriteTimeout = 2 * time.Minute
	srv.ErrorLog = smtpLog{log}
	return &SMTP{srv: srv}
}

// smtpLog puts go-smtp's own complaints (broken connections, protocol
// errors) in the structured log instead of bare stderr lines.
type smtpLog struct{ log *slog.Logger }

func (l smtpLog) Printf(format string, v ...any) {
	l.log.Warn("inbound SMTP", "detail", fmt.Sprintf(format, v...))
}

func (l smtpLog) Println(v ...any) {
	l.log.Warn("inbound SMTP", "detail", strings.TrimSpace(fmt.Sprintln(v...)))
}

// Serve accepts connections until Shutdown.
func (s *SMTP) Serve(ln net.Listener) error {
	err := s.srv.Serve(ln)
	if errors.Is(err, smtp.ErrServerClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting and waits (until ctx ends) for conversations
// in progress; a client cut off mid-DATA got no 250 and will retry.
func (s *SMTP) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	return err
}

type backend struct {
	db     *pgxpool.Pool
	q      *queries.Queries
	jobs   *river.Client[pgx.Tx]
	log    *slog.Logger
	domain string
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, remote: c.Conn().RemoteAddr().String()}, nil
}

type session struct {
	b      *backend
	remote string
	from   string
	orgs   []int64
}

func (s *session) Reset()        { s.from, s.orgs = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

var errNoSuchInbox = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}

// Rcpt accepts leads+<token>@<domain> of a known inbox, any case.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	token, ok := InboxToken(to, s.b.domain)
	if !ok {
		return errNoSuchInbox
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	orgID, err := s.b.q.GetInboxByTokenHash(ctx, linktoken.Hash(token))
	if errors.Is(err, pgx.ErrNoRows) {
		return errNoSuchInbox
	}
	if err != nil {
		s.b.log.Error("inbound rcpt lookup", "error", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	}
	for _, o := range s.orgs {
		if o == orgID {
			return nil
		}
	}
	s.orgs = append(s.orgs, orgID)
	return nil
}

// Data stores one copy per org addressed. go-smtp enforces the size limit
// while reading (552).
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, org := range s.orgs {
		rc, err := Receive(ctx, s.b.db, s.b.jobs, org, raw, "smtp", s.from, nil)
		if err != nil {
			s.b.log.Error("inbound store failed", "org_id", org, "remote", s.remote, "error", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Could not store the message; try again later"}
		}
		s.b.log.Info("inbound e-mail received", "org_id", org, "inbound_id", rc.ID, "duplicate", rc.Duplicate, "bytes", len(raw))
	}
	return nil
}

// InboxToken extracts the token of leads+<token>@<domain>; ok is false for
// any other address.
func InboxToken(addr, domain string) (string, bool) {
	addr = strings.ToLower(strings.Trim(strings.TrimSpace(addr), "<>"))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || addr[at+1:] != strings.ToLower(domain) {
		return "", false
	}
	token, ok := strings.CutPrefix(addr[:at], "leads+")
	if !ok || len(token) < 16 || len(token) > 64 {
		return "", false
	}
	for _, r := range token {
		if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
			return "", false
		}
	}
	return token, true
}

// Address is an org's inbox address.
func Address(token, domain string) string { return "leads+" + token + "@" + domain }
