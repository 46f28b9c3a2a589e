// Package mailtest runs a real SMTP server inside the test process
// (github.com/emersion/go-smtp on 127.0.0.1), so tests go through the whole
// SMTP conversation — greeting, STARTTLS, AUTH, MAIL, RCPT, DATA — and then
// assert on what the server received.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From string
	To   []string
	Data []byte
	User string // who authenticated; empty without AUTH
	TLS  bool   // whether the conversation was encrypted when DATA came
}

// Options shape the server.
type Options struct {
	// Username and Password, when set, make AUTH PLAIN mandatory.
	Username, Password string
	// TLS offers STARTTLS with this config (see TLS), or, with Implicit,
	// speaks TLS from the first byte (smtps).
	TLS      *tls.Config
	Implicit bool
}

// Server is a running test server; it stops when the test ends.
type Server struct {
	Addr string
	opts Options

	mu         sync.Mutex
	msgs       []Message
	rejectRcpt *smtp.SMTPError
}

// NewServer starts a server on 127.0.0.1 and a free port.
func NewServer(t testing.TB, opts Options) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Addr: ln.Addr().String(), opts: opts}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, conn: c}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	// Credentials over plain TCP are fine on loopback; the client refuses
	// them anywhere else.
	srv.AllowInsecureAuth = true
	if opts.TLS != nil {
		if opts.Implicit {
			ln = tls.NewListener(ln, opts.TLS)
		} else {
			srv.TLSConfig = opts.TLS
		}
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

// URL is the SMTP_URL that reaches this server, with its credentials.
func (s *Server) URL() string {
	u := url.URL{Scheme: "smtp", Host: s.Addr}
	if s.opts.TLS != nil && s.opts.Implicit {
		u.Scheme = "smtps"
	}
	if s.opts.Username != "" {
		u.User = url.UserPassword(s.opts.Username, s.opts.Password)
	}
	return u.String()
}

// Messages returns what the server has accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// RejectRcpt makes the server answer every RCPT TO with code and text
// (e.g. 550 no such user, 451 try later); code 0 accepts again.
func (s *Server) RejectRcpt(code int, text string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rejectRcpt = nil
	if code != 0 {
		s.rejectRcpt = &smtp.SMTPError{Code: code, EnhancedCode: smtp.NoEnhancedCode, Message: text}
	}
}

type session struct {
	srv  *Server
	conn *smtp.Conn
	user string
	msg  Message
}

func (ss *session) AuthMechanisms() []string {
	if ss.srv.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.srv.opts.Username || password != ss.srv.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.srv.opts.Username != "" && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	ss.msg = Message{From: from}
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.srv.mu.Lock()
	reject := ss.srv.rejectRcpt
	ss.srv.mu.Unlock()
	if reject != nil {
		return reject
	}
	ss.msg.To = append(ss.msg.To, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if len(ss.msg.To) == 0 {
		return errors.New("no recipients")
	}
	ss.msg.Data = b
	ss.msg.User = ss.user
	_, ss.msg.TLS = ss.conn.TLSConnectionState()
	ss.srv.mu.Lock()
	ss.srv.msgs = append(ss.srv.msgs, ss.msg)
	ss.srv.mu.Unlock()
	return nil
}

func (ss *session) Reset()        { ss.msg = Message{} }
func (ss *session) Logout() error { return nil }

// TLS returns a server config with a fresh self-signed certificate for
// 127.0.0.1, and the pool a client must trust to verify it.
func TLS(t testing.TB) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool
}
