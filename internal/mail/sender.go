// Package mail sends officeflow's customer emails: a go-mail based SMTP
// sender, the Polish/English templates, and an in-process SMTP sink used by
// tests and the dev mode.
package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	stdmail "net/mail"
	"net/textproto"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
	"go.uber.org/zap"
)

// TLS modes accepted in Config.TLS.
const (
	TLSNone     = "none"
	TLSStartTLS = "starttls"
	TLSImplicit = "tls"
)

// defaultTimeout bounds one whole SMTP conversation when the caller's context
// has no earlier deadline; go-mail only honours ctx while dialling, so the
// deadline is turned into a connection timeout instead.
const defaultTimeout = 30 * time.Second

// Config describes the outgoing SMTP relay.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string // "none", "starttls", "tls"
	From     string // e.g. "officeflow <no-reply@officeflow.local>"
}

// Attachment is a file attached to a Message (e.g. an invoice PDF).
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Message is one email to one recipient.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
	// MessageID is used verbatim (without <>) so that a saga retry produces
	// the same Message-ID and receivers can recognise the duplicate.
	MessageID   string
	Attachments []Attachment
}

// Sender delivers messages over SMTP. It is safe for concurrent use: every
// Send opens its own connection.
type Sender struct {
	cfg  Config
	log  *zap.Logger
	from string
}

// NewSender validates cfg; it does not connect.
func NewSender(cfg Config, log *zap.Logger) (*Sender, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if strings.TrimSpace(cfg.Host) == "" {
		return nil, errors.New("mail: SMTP host is empty")
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("mail: SMTP port %d out of range 1..65535", cfg.Port)
	}
	switch cfg.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		return nil, fmt.Errorf("mail: unknown TLS mode %q (want none, starttls or tls)", cfg.TLS)
	}
	addr, err := stdmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("mail: invalid From %q: %w", cfg.From, err)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return nil, errors.New("mail: SMTP password given without username")
	}
	s := &Sender{cfg: cfg, log: log, from: addr.String()}
	// Building a client once surfaces go-mail's own option validation at
	// start-up rather than on the first customer email.
	if _, err := s.client(defaultTimeout); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Sender) client(timeout time.Duration) (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(timeout)}
	switch s.cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if s.cfg.Username != "" {
		auth := gomail.SMTPAuthAutoDiscover // picks LOGIN for Microsoft 365, SCRAM/PLAIN elsewhere
		if s.cfg.TLS == TLSNone {
			// The operator chose a plaintext relay explicitly (dev sink, local
			// relay); go-mail would otherwise refuse PLAIN on a non-TLS link.
			auth = gomail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(s.cfg.Username), gomail.WithPassword(s.cfg.Password))
	}
	c, err := gomail.NewClient(s.cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mail: smtp client: %w", err)
	}
	return c, nil
}

func (s *Sender) build(m Message) (*gomail.Msg, error) {
	if strings.TrimSpace(m.Subject) == "" {
		return nil, errors.New("mail: empty subject")
	}
	if m.Text == "" && m.HTML == "" {
		return nil, errors.New("mail: message has neither text nor HTML body")
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.from); err != nil {
		return nil, fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return nil, fmt.Errorf("mail: invalid recipient %q: %w", m.To, err)
	}
	msg.Subject(m.Subject)
	if id := strings.Trim(strings.TrimSpace(m.MessageID), "<>"); id != "" {
		if strings.ContainsAny(id, " \t\r\n<>") || !strings.Contains(id, "@") {
			return nil, fmt.Errorf("mail: invalid message id %q", m.MessageID)
		}
		msg.SetMessageIDWithValue(id)
	}
	msg.SetDate()
	switch {
	case m.Text != "" && m.HTML != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	case m.Text != "":
		msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	default:
		msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	}
	for _, a := range m.Attachments {
		if a.Name == "" {
			return nil, errors.New("mail: attachment without a name")
		}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		msg.AttachReadSeeker(a.Name, bytes.NewReader(a.Data),
			gomail.WithFileContentType(gomail.ContentType(ct)))
	}
	return msg, nil
}

// Send delivers m over a fresh connection. Errors are *SendError; use
// IsTemporary to decide whether a retry makes sense. Bodies are never logged
// because some mails carry credentials.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return &SendError{Temporary: false, err: err}
	}
	timeout := defaultTimeout
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		if left <= 0 {
			return &SendError{Temporary: true, err: ctx.Err()}
		}
		timeout = min(timeout, left)
	}
	c, err := s.client(timeout)
	if err != nil {
		return &SendError{Temporary: false, err: err}
	}
	// The recipient is a customer's address: logged by its domain only (the
	// Message-ID names order and kind).
	log := s.log.With(zap.String("to_domain", recipientDomain(m.To)), zap.String("message_id", msg.GetMessageID()),
		zap.String("subject", m.Subject), zap.Int("attachments", len(m.Attachments)))
	start := time.Now()
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		if msg.IsDelivered() {
			// The server accepted the DATA; only QUIT failed. Reporting an
			// error here would make the saga send the mail twice.
			log.Warn("mail sent, closing the connection failed", zap.Error(err))
			return nil
		}
		se := classify(err)
		log.Warn("mail send failed", zap.Error(err), zap.Bool("temporary", se.Temporary),
			zap.Int("smtp_code", se.Code), zap.Duration("took", time.Since(start)))
		return se
	}
	log.Info("mail sent", zap.Duration("took", time.Since(start)))
	return nil
}

// SendError wraps every error returned by Send.
type SendError struct {
	Temporary bool // worth retrying later: 4xx reply, network trouble, timeout
	Code      int  // SMTP reply code when the server rejected, else 0
	err       error
}

func (e *SendError) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return fmt.Sprintf("mail: %s failure: %v", kind, e.err)
}

func (e *SendError) Unwrap() error { return e.err }

// IsTemporary reports whether err is worth retrying: true for 4xx SMTP replies
// and network errors, false for 5xx rejections and invalid input.
func IsTemporary(err error) bool {
	if err == nil {
		return false
	}
	var se *SendError
	if errors.As(err, &se) {
		return se.Temporary
	}
	return classify(err).Temporary
}

func classify(err error) *SendError {
	out := &SendError{err: err}
	var gse *gomail.SendError
	var tpe *textproto.Error
	var ne net.Error
	switch {
	case errors.As(err, &gse):
		out.Code = gse.ErrorCode()
		if out.Code != 0 {
			out.Temporary = out.Code/100 == 4
			break
		}
		switch gse.Reason {
		case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
			// Our own message was unusable; resending it cannot help.
		default:
			// No reply code means the link broke mid-transaction.
			out.Temporary = true
		}
	case errors.As(err, &tpe):
		// Replies during greeting, EHLO or AUTH come back unwrapped.
		out.Code = tpe.Code
		out.Temporary = tpe.Code/100 == 4
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.As(err, &ne):
		out.Temporary = true
	}
	return out
}

func recipientDomain(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[i+1:]
	}
	return ""
}
