//go:build !production

package mail

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"go.uber.org/zap"
)

// Received is one message accepted by the Sink.
type Received struct {
	From        string   // envelope sender (MAIL FROM)
	To          []string // envelope recipients (RCPT TO)
	Subject     string   // RFC 2047 decoded
	MessageID   string   // without <>
	Text        string   // decoded text/plain part
	HTML        string   // decoded text/html part
	Attachments []Attachment
	Raw         []byte
	At          time.Time
	File        string // path of the .eml copy, "" when kept in memory only
}

// Stage is the SMTP command at which RefuseAt rejects a transaction.
type Stage string

const (
	StageMail Stage = "MAIL"
	StageRcpt Stage = "RCPT"
	StageData Stage = "DATA"
)

// Sink is an in-process SMTP server that keeps every message it accepts, for
// tests and for the dev mode where a person reads the .eml files.
type Sink struct {
	log    *zap.Logger
	dir    string
	ln     net.Listener
	srv    *smtp.Server
	served chan struct{}

	mu          sync.Mutex
	msgs        []Received
	nextFile    int
	arrived     chan struct{} // closed and replaced on every arrival
	closed      bool
	refuseStage Stage
	refuseCode  int
	refuseLeft  int
	dropLeft    int
	refused     int // refusals served so far
	dropped     int // connections dropped so far
}

// StartSink listens on addr (e.g. "127.0.0.1:0"). With a non-empty dir every
// message is also written there as <n>.eml; numbering continues after files
// already present so a restarted dev server does not overwrite earlier mail.
func StartSink(addr string, dir string, log *zap.Logger) (*Sink, error) {
	if log == nil {
		log = zap.NewNop()
	}
	s := &Sink{log: log, dir: dir, nextFile: 1, arrived: make(chan struct{}), served: make(chan struct{})}
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("mail sink: %w", err)
		}
		n, err := lastEML(dir)
		if err != nil {
			return nil, fmt.Errorf("mail sink: %w", err)
		}
		s.nextFile = n + 1
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mail sink: listen %s: %w", addr, err)
	}
	s.ln = &dropListener{Listener: ln, sink: s}

	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &sinkSession{sink: s}, nil
	}))
	srv.Domain = "officeflow-sink"
	srv.AllowInsecureAuth = true
	srv.MaxMessageBytes = 32 << 20
	srv.MaxRecipients = 100
	// A stuck client must not keep Close (and a test) waiting forever.
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = time.Minute
	if el, err := zap.NewStdLogAt(log.Named("smtp"), zap.DebugLevel); err == nil {
		srv.ErrorLog = el
	}
	s.srv = srv

	go func() {
		defer close(s.served)
		if err := srv.Serve(s.ln); err != nil {
			log.Error("mail sink stopped", zap.Error(err))
		}
	}()
	log.Info("mail sink listening", zap.String("addr", s.Addr()), zap.String("dir", dir))
	return s, nil
}

func lastEML(dir string) (int, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	last := 0
	for _, e := range entries {
		if n, err := strconv.Atoi(strings.TrimSuffix(e.Name(), ".eml")); err == nil &&
			strings.HasSuffix(e.Name(), ".eml") && n > last {
			last = n
		}
	}
	return last, nil
}

// Addr is the host:port the sink listens on.
func (s *Sink) Addr() string { return s.ln.Addr().String() }

// Host is the IP the sink listens on.
func (s *Sink) Host() string {
	host, _, _ := net.SplitHostPort(s.Addr())
	return host
}

// Port is the TCP port the sink listens on.
func (s *Sink) Port() int {
	if a, ok := s.ln.Addr().(*net.TCPAddr); ok {
		return a.Port
	}
	return 0
}

// Messages returns a snapshot of the accepted messages in arrival order.
func (s *Sink) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.msgs...)
}

// WaitFor returns the first message (already arrived or arriving later) for
// which match returns true; a nil match accepts any message.
func (s *Sink) WaitFor(ctx context.Context, match func(Received) bool) (Received, error) {
	seen := 0
	for {
		s.mu.Lock()
		for ; seen < len(s.msgs); seen++ {
			if match == nil || match(s.msgs[seen]) {
				r := s.msgs[seen]
				s.mu.Unlock()
				return r, nil
			}
		}
		arrived, closed := s.arrived, s.closed
		s.mu.Unlock()
		if closed {
			return Received{}, errors.New("mail sink: closed")
		}
		select {
		case <-ctx.Done():
			return Received{}, fmt.Errorf("mail sink: no matching message: %w", ctx.Err())
		case <-arrived:
		}
	}
}

// Refuse answers the next n mail transactions with code (e.g. 451
// temporary, 554 permanent) at MAIL FROM, before anything is stored.
func (s *Sink) Refuse(code int, n int) { s.RefuseAt(StageMail, code, n) }

// RefuseAt is Refuse at a chosen command; StageData rejects after the
// client has transmitted the whole message, the case a sender is most
// likely to get wrong.
func (s *Sink) RefuseAt(stage Stage, code int, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseStage, s.refuseCode, s.refuseLeft = stage, code, n
}

// DropNext closes the next n connections abruptly right after accepting
// them, before the greeting, as a crashed relay or a flaky network would.
func (s *Sink) DropNext(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dropLeft = n
}

// Close stops listening, drops open connections and wakes WaitFor callers.
func (s *Sink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.mu.Unlock()
	err := s.srv.Close()
	// Serve may not have registered the listener yet, in which case
	// srv.Close did not close it and Serve would block in Accept forever.
	if lerr := s.ln.Close(); lerr != nil && !errors.Is(lerr, net.ErrClosed) && err == nil {
		err = lerr
	}
	<-s.served
	return err
}

func (s *Sink) refusal(stage Stage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refuseLeft <= 0 || s.refuseStage != stage {
		return nil
	}
	s.refuseLeft--
	s.refused++
	return &smtp.SMTPError{
		Code:         s.refuseCode,
		EnhancedCode: smtp.EnhancedCodeNotSet,
		Message:      fmt.Sprintf("refused at %s by officeflow sink", stage),
	}
}

func (s *Sink) takeDrop() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dropLeft <= 0 {
		return false
	}
	s.dropLeft--
	s.dropped++
	return true
}

// Faults is how many refusals and dropped connections the sink has served,
// whoever met them.
func (s *Sink) Faults() (refused, dropped int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.refused, s.dropped
}

func (s *Sink) deliver(from string, to []string, raw []byte) {
	r, perr := parseMessage(raw)
	r.From, r.To, r.Raw, r.At = from, to, raw, time.Now()

	s.mu.Lock()
	if s.dir != "" {
		r.File = filepath.Join(s.dir, strconv.Itoa(s.nextFile)+".eml")
		s.nextFile++
		// Written under the lock so file numbers follow arrival order.
		if err := os.WriteFile(r.File, raw, 0o644); err != nil {
			s.log.Error("mail sink: writing message", zap.String("file", r.File), zap.Error(err))
			r.File = ""
		}
	}
	s.msgs = append(s.msgs, r)
	close(s.arrived)
	s.arrived = make(chan struct{})
	s.mu.Unlock()

	// Recipients are customers' addresses: the log names how many, the
	// message file (or Messages) holds who.
	log := s.log.With(zap.String("from", from), zap.Int("recipients", len(to)),
		zap.String("subject", r.Subject), zap.String("message_id", r.MessageID), zap.String("file", r.File))
	if perr != nil {
		// Kept anyway: the raw bytes are what a person needs to debug it.
		log.Warn("mail sink: message accepted but not parsable", zap.Error(perr))
		return
	}
	log.Info("mail sink: message received")
}

type dropListener struct {
	net.Listener
	sink *Sink
}

func (l *dropListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil || !l.sink.takeDrop() {
			return c, err
		}
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetLinger(0) // RST instead of FIN: an abrupt failure
		}
		_ = c.Close()
		l.sink.log.Debug("mail sink: dropped connection", zap.Stringer("remote", c.RemoteAddr()))
	}
}

type sinkSession struct {
	sink *Sink
	from string
	to   []string
}

var _ smtp.AuthSession = (*sinkSession)(nil)

func (ss *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth accepts any credentials: the sink stands in for a real relay whose
// password the dev setup would otherwise have to know.
func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(string, string, string) error { return nil }), nil
}

func (ss *sinkSession) Mail(from string, _ *smtp.MailOptions) error {
	if err := ss.sink.refusal(StageMail); err != nil {
		return err
	}
	ss.from, ss.to = from, nil
	return nil
}

func (ss *sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.sink.refusal(StageRcpt); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if err := ss.sink.refusal(StageData); err != nil {
		return err
	}
	ss.sink.deliver(ss.from, append([]string(nil), ss.to...), raw)
	return nil
}

func (ss *sinkSession) Reset()        { ss.from, ss.to = "", nil }
func (ss *sinkSession) Logout() error { return nil }
