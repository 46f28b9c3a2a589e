package inbound

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"pulso/app/config"
	"pulso/app/inbound/senderauth"
	"pulso/app/linktoken"
	"pulso/queries"
)

// SMTP is the listener for the orgs' inbox addresses. It accepts mail only
// for known addresses, and answers 250 only once the message is stored and
// its processing queued in one committed transaction.
type SMTP struct {
	srv *smtp.Server
}

// NewSMTP builds the server for cfg's inbox domain, size limit and hourly
// caps, checking senders against dns (senderauth.System in production);
// Serve it on a listener and Shutdown it.
func NewSMTP(db *pgxpool.Pool, jobs *river.Client[pgx.Tx], log *slog.Logger, cfg config.Config, dns senderauth.Resolver) *SMTP {
	be := &backend{
		db: db, q: queries.New(db), jobs: jobs, log: log, domain: strings.ToLower(cfg.InboundDomain), dns: dns,
		perIP: int64(cfg.InboundPerIPHour), perOrg: int64(cfg.InboundPerOrgHour),
	}
	srv := smtp.NewServer(be)
	srv.Domain = cfg.InboundDomain
	srv.MaxMessageBytes = cfg.InboundMaxBytes
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
	dns    senderauth.Resolver
	// Messages accepted per hour from one client IP, and for one org.
	perIP, perOrg int64
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	s := &session{b: b, remote: c.Conn().RemoteAddr().String(), helo: c.Hostname()}
	if ap, err := netip.ParseAddrPort(s.remote); err == nil {
		s.ip = ap.Addr().Unmap()
	}
	return s, nil
}

type session struct {
	b      *backend
	remote string
	ip     netip.Addr
	helo   string
	from   string
	orgs   []int64
}

func (s *session) Reset()        { s.from, s.orgs = "", nil }
func (s *session) Logout() error { return nil }

// capWindow is the span the hourly caps count over. The caps count the
// messages stored in PostgreSQL, so every instance sees the same numbers;
// they are read before the message arrives, so sessions running at the
// same moment may together pass a cap by as many messages as they are.
const capWindow = time.Hour

var (
	errNoSuchInbox = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox here"}
	errTryLater    = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
	// 4xx: the sending server keeps the message and retries, so a burst is
	// slowed down, not lost.
	errIPCap  = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "Too many messages from your IP address in the last hour; try again later"}
	errOrgCap = &smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "This inbox has received too many messages in the last hour; try again later"}
	errDNS    = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 3}, Message: "Could not check the sender's domain in DNS (SPF, DKIM, DMARC); try again later"}
)

// Mail refuses a client that has used up its hourly cap, before it sends
// recipients or data.
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := s.b.q.CountInboundFromIP(ctx, queries.CountInboundFromIPParams{RemoteIP: s.ip.String(), Since: time.Now().Add(-capWindow)})
	if err != nil {
		s.b.log.Error("inbound cap lookup", "remote", s.remote, "error", err)
		return errTryLater
	}
	if n >= s.b.perIP {
		s.b.log.Warn("inbound e-mail refused: client over its hourly cap", "remote", s.remote, "count", n, "cap", s.b.perIP)
		return errIPCap
	}
	s.from = from
	return nil
}

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
		return errTryLater
	}
	for _, o := range s.orgs {
		if o == orgID {
			return nil
		}
	}
	n, err := s.b.q.CountInboundForOrg(ctx, queries.CountInboundForOrgParams{OrgID: orgID, Since: time.Now().Add(-capWindow)})
	if err != nil {
		s.b.log.Error("inbound cap lookup", "org_id", orgID, "error", err)
		return errTryLater
	}
	if n >= s.b.perOrg {
		s.b.log.Warn("inbound e-mail refused: org over its hourly cap", "org_id", orgID, "remote", s.remote, "count", n, "cap", s.b.perOrg)
		return errOrgCap
	}
	s.orgs = append(s.orgs, orgID)
	return nil
}

// authTimeout bounds the DNS work of the sender checks for one message.
const authTimeout = 20 * time.Second

// Data checks who sent the message, then stores one copy per org
// addressed. go-smtp enforces the size limit while reading (552).
//
// A message that fails DMARC, even under p=reject, is accepted and
// flagged rather than refused here: mail forwarded to the inbox (from a
// rep's own mailbox, a contact form relay) often breaks SPF and sometimes
// DKIM, and a real enquiry is worth keeping. A flagged message lands on
// the customer it names only as a flagged entry (processing does not
// trust it), and RFC 7489 6.7 leaves the receiver this choice. A DNS failure is different: asking
// the sender to retry gets a real verdict soon.
func (s *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	actx, acancel := context.WithTimeout(context.Background(), authTimeout)
	env := senderauth.Envelope{HELO: s.helo, MailFrom: s.from}
	if s.ip.IsValid() {
		env.IP = net.IP(s.ip.AsSlice())
	}
	auth := senderauth.Check(actx, s.b.dns, raw, env)
	acancel()
	if auth.Temporary() {
		s.b.log.Warn("inbound e-mail deferred: sender checks hit a DNS failure", "remote", s.remote, "auth", auth.String(s.b.domain))
		return errDNS
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d := Delivery{Via: "smtp", EnvelopeFrom: s.from, RemoteIP: s.ip.String(), HELO: s.helo, Auth: auth, Host: s.b.domain}
	if !s.ip.IsValid() {
		d.RemoteIP = ""
	}
	for _, org := range s.orgs {
		rc, err := Receive(ctx, s.b.db, s.b.jobs, org, raw, d)
		if err != nil {
			s.b.log.Error("inbound store failed", "org_id", org, "remote", s.remote, "error", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Could not store the message; try again later"}
		}
		s.b.log.Info("inbound e-mail received", "org_id", org, "inbound_id", rc.ID, "duplicate", rc.Duplicate, "bytes", len(raw), "verified", auth.Verified)
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
