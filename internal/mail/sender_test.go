package mail

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zaptest"
)

func startTestSink(t *testing.T, dir string) *Sink {
	t.Helper()
	sink, err := StartSink("127.0.0.1:0", dir, zaptest.NewLogger(t))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, sink.Close()) })
	return sink
}

func testSender(t *testing.T, sink *Sink, mod func(*Config)) *Sender {
	t.Helper()
	cfg := Config{Host: sink.Host(), Port: sink.Port(), TLS: "none", From: "officeflow <no-reply@officeflow.local>"}
	if mod != nil {
		mod(&cfg)
	}
	s, err := NewSender(cfg, zaptest.NewLogger(t))
	require.NoError(t, err)
	return s
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func byMessageID(id string) func(Received) bool {
	return func(r Received) bool { return r.MessageID == id }
}

func renderedMessage(t *testing.T, kind Kind, id string) Message {
	t.Helper()
	subject, text, html, err := Render(kind, sampleData("pl"))
	require.NoError(t, err)
	return Message{To: "Anna Nowak <anna@acme.example>", Subject: subject, Text: text, HTML: html, MessageID: id}
}

func TestSendToSinkTextHTMLAndMessageID(t *testing.T) {
	sink := startTestSink(t, "")
	sender := testSender(t, sink, nil)
	ctx := testCtx(t)

	m := renderedMessage(t, KindCredentials, "ORD-2026-0042.credentials@officeflow")
	require.NoError(t, sender.Send(ctx, m))

	got, err := sink.WaitFor(ctx, byMessageID("ORD-2026-0042.credentials@officeflow"))
	require.NoError(t, err)
	require.Equal(t, "no-reply@officeflow.local", got.From)
	require.Equal(t, []string{"anna@acme.example"}, got.To)
	require.Equal(t, m.Subject, got.Subject, "RFC 2047 subject must round-trip")
	require.Equal(t, normalizeNewlines(m.Text), normalizeNewlines(got.Text))
	require.Equal(t, normalizeNewlines(m.HTML), normalizeNewlines(got.HTML))
	require.Contains(t, got.Text, "Hasło tymczasowe:      Tmp-9xQ!r7")
	require.Contains(t, string(got.Raw), "Message-ID: <ORD-2026-0042.credentials@officeflow>")
	require.Contains(t, string(got.Raw), "multipart/alternative")
	require.Empty(t, got.Attachments)
	require.False(t, got.At.IsZero())
	require.Len(t, sink.Messages(), 1)
}

func normalizeNewlines(s string) string {
	return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
}

func TestSendAttachment(t *testing.T) {
	sink := startTestSink(t, "")
	sender := testSender(t, sink, nil)
	ctx := testCtx(t)

	pdf := append([]byte("%PDF-1.7\n"), make([]byte, 3000)...)
	for i := range pdf[9:] {
		pdf[9+i] = byte(i) // binary content forces base64 to be exercised
	}
	m := renderedMessage(t, KindBillingAccess, "ORD-2026-0042.billing_access@officeflow")
	m.Attachments = []Attachment{{Name: "faktura-PF-2026-11-0042.pdf", ContentType: "application/pdf", Data: pdf}}
	require.NoError(t, sender.Send(ctx, m))

	got, err := sink.WaitFor(ctx, byMessageID("ORD-2026-0042.billing_access@officeflow"))
	require.NoError(t, err)
	require.Len(t, got.Attachments, 1)
	require.Equal(t, "faktura-PF-2026-11-0042.pdf", got.Attachments[0].Name)
	require.Equal(t, "application/pdf", got.Attachments[0].ContentType)
	require.Equal(t, pdf, got.Attachments[0].Data)
	require.Contains(t, got.Text, "Kwota brutto:     3690.00 PLN")
	require.Contains(t, got.HTML, "<table")
}

func TestSendRefused(t *testing.T) {
	cases := []struct {
		name      string
		stage     Stage
		code      int
		temporary bool
	}{
		{"451 at MAIL", StageMail, 451, true},
		{"554 at MAIL", StageMail, 554, false},
		{"450 at RCPT", StageRcpt, 450, true},
		{"550 at RCPT", StageRcpt, 550, false},
		{"451 after DATA", StageData, 451, true},
		{"554 after DATA", StageData, 554, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := startTestSink(t, "")
			sender := testSender(t, sink, nil)
			ctx := testCtx(t)
			m := renderedMessage(t, KindPaymentReminder, "ORD-1.payment_reminder@officeflow")

			sink.RefuseAt(tc.stage, tc.code, 1)
			err := sender.Send(ctx, m)
			require.Error(t, err)
			require.Equal(t, tc.temporary, IsTemporary(err), "err: %v", err)
			var se *SendError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.code, se.Code)
			require.Empty(t, sink.Messages())

			// Only one transaction was to be refused; the retry goes through.
			require.NoError(t, sender.Send(ctx, m))
			_, err = sink.WaitFor(ctx, byMessageID("ORD-1.payment_reminder@officeflow"))
			require.NoError(t, err)
		})
	}
}

func TestSendRefuseShorthand(t *testing.T) {
	sink := startTestSink(t, "")
	sender := testSender(t, sink, nil)
	ctx := testCtx(t)
	m := renderedMessage(t, KindCancelled, "ORD-1.cancelled@officeflow")

	sink.Refuse(451, 1)
	err := sender.Send(ctx, m)
	require.Error(t, err)
	require.True(t, IsTemporary(err))

	sink.Refuse(554, 1)
	err = sender.Send(ctx, m)
	require.Error(t, err)
	require.False(t, IsTemporary(err))
}

func TestSendDropNextThenSucceeds(t *testing.T) {
	sink := startTestSink(t, "")
	sender := testSender(t, sink, nil)
	ctx := testCtx(t)
	m := renderedMessage(t, KindRefunded, "ORD-1.refunded@officeflow")

	sink.DropNext(2)
	for range 2 {
		err := sender.Send(ctx, m)
		require.Error(t, err)
		require.True(t, IsTemporary(err), "a dropped connection is worth retrying: %v", err)
	}
	require.NoError(t, sender.Send(ctx, m))
	_, err := sink.WaitFor(ctx, byMessageID("ORD-1.refunded@officeflow"))
	require.NoError(t, err)
	require.Len(t, sink.Messages(), 1)
}

func TestSendAuthPlainAccepted(t *testing.T) {
	sink := startTestSink(t, "")
	sender := testSender(t, sink, func(c *Config) { c.Username, c.Password = "svc-mail", "whatever" })
	ctx := testCtx(t)
	require.NoError(t, sender.Send(ctx, renderedMessage(t, KindPaymentReceived, "ORD-1.payment_received@officeflow")))
	_, err := sink.WaitFor(ctx, byMessageID("ORD-1.payment_received@officeflow"))
	require.NoError(t, err)
}

func TestSendNothingListening(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())

	sender, err := NewSender(Config{Host: "127.0.0.1", Port: port, TLS: "none", From: "no-reply@officeflow.local"}, nil)
	require.NoError(t, err)
	err = sender.Send(testCtx(t), Message{To: "a@b.example", Subject: "s", Text: "t"})
	require.Error(t, err)
	require.True(t, IsTemporary(err), "connection refused is temporary: %v", err)
}

func TestSendRejectsInvalidMessage(t *testing.T) {
	sink := startTestSink(t, "")
	sender := testSender(t, sink, nil)
	ctx := testCtx(t)
	for name, m := range map[string]Message{
		"bad recipient": {To: "not an address", Subject: "s", Text: "t"},
		"no subject":    {To: "a@b.example", Text: "t"},
		"no body":       {To: "a@b.example", Subject: "s"},
		"bad id":        {To: "a@b.example", Subject: "s", Text: "t", MessageID: "has space@x"},
	} {
		err := sender.Send(ctx, m)
		require.Error(t, err, name)
		require.False(t, IsTemporary(err), name)
	}
	require.Empty(t, sink.Messages())
}

func TestNewSenderRejectsBadConfig(t *testing.T) {
	good := Config{Host: "smtp.example.com", Port: 587, TLS: "starttls", From: "officeflow <no-reply@officeflow.local>"}
	_, err := NewSender(good, nil)
	require.NoError(t, err)

	for name, mod := range map[string]func(*Config){
		"empty host":        func(c *Config) { c.Host = " " },
		"port zero":         func(c *Config) { c.Port = 0 },
		"port too big":      func(c *Config) { c.Port = 65536 },
		"unknown TLS":       func(c *Config) { c.TLS = "ssl" },
		"empty TLS":         func(c *Config) { c.TLS = "" },
		"bad From":          func(c *Config) { c.From = "officeflow" },
		"empty From":        func(c *Config) { c.From = "" },
		"password, no user": func(c *Config) { c.Password = "secret" },
	} {
		cfg := good
		mod(&cfg)
		_, err := NewSender(cfg, nil)
		require.Error(t, err, name)
	}
}

func TestIsTemporaryClassification(t *testing.T) {
	require.False(t, IsTemporary(nil))
	require.True(t, IsTemporary(&textproto.Error{Code: 421, Msg: "busy"}))
	require.False(t, IsTemporary(&textproto.Error{Code: 535, Msg: "auth failed"}))
	require.True(t, IsTemporary(&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("refused")}))
	require.True(t, IsTemporary(io.EOF))
	require.True(t, IsTemporary(context.DeadlineExceeded))
	require.False(t, IsTemporary(errors.New("server does not support SMTP AUTH")))
	require.False(t, IsTemporary(&SendError{Temporary: false, err: io.EOF}), "an explicit verdict wins")
}

func TestSinkWritesEMLFilesAndContinuesNumbering(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "7.eml"), []byte("old"), 0o644))
	sink := startTestSink(t, dir)
	sender := testSender(t, sink, nil)
	ctx := testCtx(t)

	require.NoError(t, sender.Send(ctx, renderedMessage(t, KindCancelled, "ORD-1.cancelled@officeflow")))
	got, err := sink.WaitFor(ctx, byMessageID("ORD-1.cancelled@officeflow"))
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "8.eml"), got.File)
	raw, err := os.ReadFile(got.File)
	require.NoError(t, err)
	require.Equal(t, got.Raw, raw)
}

func TestSinkWaitForWakesOnLaterArrivalAndHonoursContext(t *testing.T) {
	sink := startTestSink(t, "")
	sender := testSender(t, sink, nil)
	ctx := testCtx(t)

	type result struct {
		r   Received
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := sink.WaitFor(ctx, byMessageID("ORD-9.refunded@officeflow"))
		done <- result{r, err}
	}()
	require.NoError(t, sender.Send(ctx, renderedMessage(t, KindRefunded, "ORD-9.refunded@officeflow")))
	res := <-done
	require.NoError(t, res.err)
	require.Equal(t, "ORD-9.refunded@officeflow", res.r.MessageID)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := sink.WaitFor(cancelled, byMessageID("never"))
	require.ErrorIs(t, err, context.Canceled)
}
