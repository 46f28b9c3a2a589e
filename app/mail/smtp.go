package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"time"

	"pulso/queries"
)

// Mailer sends stored e-mails through SMTP_URL. Without one it is an outbox
// mailer: the send_email job keeps messages for /admin/outbox instead, so a
// development machine needs no mail server.
type Mailer struct {
	server *url.URL // nil: outbox only
	from   netmail.Address
	// HelloName is what EHLO announces.
	HelloName string
	// TLS is the base TLS configuration (ServerName is filled in); nil uses
	// the system roots. Tests put their own CA here.
	TLS *tls.Config
	// Timeout bounds one whole SMTP conversation.
	Timeout time.Duration
	// RequireTLS (PULSO_SMTP_REQUIRE_TLS) refuses to talk to an smtp://
	// server that does not offer STARTTLS, instead of sending in the clear:
	// a server (or someone in the path stripping the offer) cannot
	// downgrade the conversation. smtps:// is TLS from the first byte anyway.
	RequireTLS bool
}

// NewMailer builds the mailer for SMTP_URL (empty: outbox) and
// PULSO_MAIL_FROM. smtp:// upgrades with STARTTLS whenever the server
// offers it (and, with RequireTLS, only then sends); smtps:// is TLS from
// the first byte (usually port 465).
// Credentials in the URL are sent with AUTH PLAIN, and only over TLS or to
// localhost (net/smtp refuses otherwise, so a password never crosses the
// network in the clear).
func NewMailer(smtpURL, from string) (*Mailer, error) {
	f, err := parseFrom(from)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	if host == "" {
		host = "localhost"
	}
	m := &Mailer{from: f, HelloName: host, Timeout: time.Minute}
	if smtpURL == "" {
		return m, nil
	}
	u, err := url.Parse(smtpURL)
	if err != nil {
		// Never echo the URL: it may hold a password.
		return nil, errors.New("SMTP_URL does not parse")
	}
	if (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("SMTP_URL must be smtp://[user:pass@]host[:port] or smtps://...")
	}
	m.server = u
	return m, nil
}

// Outbox reports whether messages are kept for /admin/outbox rather than
// sent. A nil Mailer is an outbox too, so tests and web-only processes need
// not build one.
func (m *Mailer) Outbox() bool { return m == nil || m.server == nil }

// From is the sender every message carries.
func (m *Mailer) From() netmail.Address { return m.from }

// SendError is a failed SMTP conversation: the step it failed at and, when
// the server answered, its reply code.
type SendError struct {
	Step string // dial, hello, starttls, auth, mail, rcpt, data
	Code int    // SMTP reply code; 0 when the server did not answer
	Err  error
}

func (e *SendError) Error() string { return "smtp " + e.Step + ": " + e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Permanent reports whether retrying cannot help: the server refused the
// recipient with a 5xx reply (no such mailbox, relaying denied for it).
// Other 5xx replies (to AUTH, MAIL or DATA) usually mean our configuration
// or a server policy is wrong, which an operator can fix while the job
// retries, so they are not permanent.
func Permanent(err error) bool {
	var se *SendError
	return errors.As(err, &se) && se.Step == "rcpt" && se.Code >= 500 && se.Code < 600
}

// Deliver sends a stored e-mail. It returns nil only once the server has
// accepted the message data (250 after DATA): from then on the message is
// the server's responsibility, even if QUIT or the connection fails.
func (m *Mailer) Deliver(ctx context.Context, e queries.Email, atts ...Attachment) error {
	if m.Outbox() {
		return errors.New("mail: no SMTP server configured")
	}
	raw, err := Compose(m.from, e, time.Now(), atts...)
	if err != nil {
		return err
	}
	return m.send(ctx, e.ToAddress, raw)
}

func (m *Mailer) send(ctx context.Context, to string, raw []byte) error {
	if m.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, m.Timeout)
		defer cancel()
	}
	host := m.server.Hostname()
	port := m.server.Port()
	if port == "" {
		port = "587"
		if m.server.Scheme == "smtps" {
			port = "465"
		}
	}
	tlsConfig := m.tlsConfig(host)

	var conn net.Conn
	var err error
	dialer := &net.Dialer{}
	if m.server.Scheme == "smtps" {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	}
	if err != nil {
		return &SendError{Step: "dial", Err: err}
	}
	// net/smtp has no context: the deadline bounds every read and write,
	// and cancellation (shutdown) cuts the conversation short.
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return stepError("hello", err)
	}
	defer c.Close()
	if err := c.Hello(m.HelloName); err != nil {
		return stepError("hello", err)
	}
	if m.server.Scheme == "smtp" {
		if ok, _ := c.Extension("STARTTLS"); ok {
			if err := c.StartTLS(tlsConfig); err != nil {
				return stepError("starttls", err)
			}
		} else if m.RequireTLS {
			// Not permanent: the job keeps the message while the server is fixed.
			return &SendError{Step: "starttls", Err: errors.New("server does not offer STARTTLS and PULSO_SMTP_REQUIRE_TLS is on; nothing was sent")}
		}
	}
	if u := m.server.User; u != nil {
		if ok, _ := c.Extension("AUTH"); !ok {
			return &SendError{Step: "auth", Err: errors.New("server does not offer AUTH but SMTP_URL has credentials")}
		}
		pass, _ := u.Password()
		if err := c.Auth(smtp.PlainAuth("", u.Username(), pass, host)); err != nil {
			return stepError("auth", err)
		}
	}
	if err := c.Mail(m.from.Address); err != nil {
		return stepError("mail", err)
	}
	if err := c.Rcpt(to); err != nil {
		return stepError("rcpt", err)
	}
	w, err := c.Data()
	if err != nil {
		return stepError("data", err)
	}
	if _, err := w.Write(raw); err != nil {
		w.Close()
		return stepError("data", err)
	}
	if err := w.Close(); err != nil {
		return stepError("data", err)
	}
	// Accepted. A failed QUIT changes nothing for the message.
	_ = c.Quit()
	return nil
}

func (m *Mailer) tlsConfig(host string) *tls.Config {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if m.TLS != nil {
		cfg = m.TLS.Clone()
	}
	cfg.ServerName = host
	return cfg
}

func stepError(step string, err error) error {
	se := &SendError{Step: step, Err: err}
	var te *textproto.Error
	if errors.As(err, &te) {
		se.Code = te.Code
		se.Err = fmt.Errorf("%d %s", te.Code, te.Msg)
	}
	return se
}
