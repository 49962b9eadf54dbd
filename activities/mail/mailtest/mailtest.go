// Package mailtest runs a real SMTP server (emersion/go-smtp) in-process on 127.0.0.1 for tests: it
// speaks the protocol a relay speaks, records each conversation's envelope and raw DATA, and can be
// told to answer the next MAIL, RCPT or DATA with an error code, to authenticate users and to offer
// STARTTLS with a throwaway certificate.
package mailtest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Stage is the SMTP command a scripted failure answers.
type Stage string

// Stages a failure can be injected at. DATA fails after the content was sent (at the final dot),
// which is when a real relay rejects a message.
const (
	StageMail Stage = "MAIL"
	StageRcpt Stage = "RCPT"
	StageData Stage = "DATA"
)

// Received is one accepted message.
type Received struct {
	From string
	To   []string
	Data []byte
	// User is the authenticated user, empty without AUTH; TLS says whether STARTTLS was used.
	User string
	TLS  bool
}

// Options configure the server.
type Options struct {
	// Users enables AUTH PLAIN with these username → password pairs.
	Users map[string]string
	// AllowInsecureAuth offers AUTH without TLS (go-smtp otherwise only offers it after STARTTLS).
	AllowInsecureAuth bool
	// TLS offers STARTTLS with a self-signed certificate for the listen host; Server.RootCAs trusts it.
	TLS bool
	// Host is the loopback address to listen on; default 127.0.0.1. Another loopback address
	// (127.0.0.2) is not "localhost" to go-mail, which exempts localhost from its TLS-for-AUTH rule.
	Host string
}

// Server is the running server.
type Server struct {
	Host string
	Port int
	// RootCAs trusts the server's certificate when Options.TLS is set.
	RootCAs *x509.CertPool

	mu       sync.Mutex
	received []Received
	failures []failure
	attempts map[Stage]int
	authFail int
}

type failure struct {
	stage Stage
	code  int
}

// Start listens on 127.0.0.1:0 and serves until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{attempts: map[Stage]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{srv: s, opts: opts, conn: c}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.MaxMessageBytes = 8 << 20
	srv.MaxRecipients = 200
	srv.AllowInsecureAuth = opts.AllowInsecureAuth
	srv.ErrorLog = discardLogger{}
	host := opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	if opts.TLS {
		cert, pool, err := selfSigned(host)
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		s.RootCAs = pool
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Host, s.Port = host, l.Addr().(*net.TCPAddr).Port
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		// Serve registers the listener asynchronously; a Close that ran first would not see it,
		// so close it here as well or Serve would block forever.
		_ = l.Close()
		<-done
	})
	return s
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Fail makes the next command at stage answer with code (4xx temporary, 5xx permanent). Calls queue:
// two Fail(StageRcpt, 451) fail the next two RCPT commands.
func (s *Server) Fail(stage Stage, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, failure{stage, code})
}

// Messages returns the accepted messages so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.received...)
}

// Attempts counts the commands seen at a stage, failed or not.
func (s *Server) Attempts(stage Stage) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.attempts[stage]
}

// AuthFailures counts rejected AUTH attempts.
func (s *Server) AuthFailures() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.authFail
}

// next records an attempt at stage and pops its scripted failure, if any.
func (s *Server) next(stage Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attempts[stage]++
	for i, f := range s.failures {
		if f.stage != stage {
			continue
		}
		s.failures = append(s.failures[:i], s.failures[i+1:]...)
		class := f.code / 100
		return &smtp.SMTPError{
			Code:         f.code,
			EnhancedCode: smtp.EnhancedCode{class, 0, 0},
			Message:      "mailtest scripted failure",
		}
	}
	return nil
}

type session struct {
	srv  *Server
	opts Options
	conn *smtp.Conn
	user string
	from string
	to   []string
}

var _ smtp.AuthSession = (*session)(nil)

func (ss *session) AuthMechanisms() []string {
	if len(ss.opts.Users) == 0 {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain || len(ss.opts.Users) == 0 {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if want, ok := ss.opts.Users[username]; !ok || want != password || (identity != "" && identity != username) {
			ss.srv.mu.Lock()
			ss.srv.authFail++
			ss.srv.mu.Unlock()
			return smtp.ErrAuthFailed
		}
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if len(ss.opts.Users) > 0 && ss.user == "" {
		return smtp.ErrAuthRequired
	}
	if err := ss.srv.next(StageMail); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.srv.next(StageRcpt); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.srv.next(StageData); err != nil {
		return err
	}
	_, isTLS := ss.conn.TLSConnectionState()
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	ss.srv.received = append(ss.srv.received, Received{
		From: ss.from, To: append([]string(nil), ss.to...), Data: data, User: ss.user, TLS: isTLS,
	})
	return nil
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// selfSigned makes a certificate for 127.0.0.1 (and host) and the pool that trusts it.
func selfSigned(host string) (tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.ParseIP(host)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}
