package ksef

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// The form code of FA(3) at POST /sessions/online (OpenOnlineSessionRequest).
const (
	FormSystemCode    = "FA (3)"
	FormSchemaVersion = "1-0E"
	FormValue         = "FA"
)

// Session is an open online (interactive) session: its reference number
// and the AES-256 key and IV its invoices are encrypted with. The key is
// KSeF's to unwrap and ours to keep; it is never printed.
type Session struct {
	ReferenceNumber string
	ValidUntil      time.Time
	Key             []byte // AES-256, 32 bytes
	IV              []byte // 16 bytes
}

func (s Session) String() string {
	return fmt.Sprintf("ksef.Session{ReferenceNumber: %q, ValidUntil: %s, Key: [redacted]}", s.ReferenceNumber, s.ValidUntil.Format(time.RFC3339))
}

func (s Session) GoString() string { return s.String() }

// openSessionRequest is the body of POST /sessions/online.
type openSessionRequest struct {
	FormCode struct {
		SystemCode    string `json:"systemCode"`
		SchemaVersion string `json:"schemaVersion"`
		Value         string `json:"value"`
	} `json:"formCode"`
	Encryption struct {
		EncryptedSymmetricKey []byte `json:"encryptedSymmetricKey"`
		InitializationVector  []byte `json:"initializationVector"`
		PublicKeyID           string `json:"publicKeyId,omitempty"`
	} `json:"encryption"`
}

// OpenSession opens an online session for FA(3) invoices
// (sesja-interaktywna.md): a new AES-256 key and IV, the key wrapped with
// RSA-OAEP SHA-256 under the Ministry's SymmetricKeyEncryption key. The
// Session's Key is what encrypts its invoices: a sender in another process
// needs it (kept secret) or a session of its own.
func (c *Client) OpenSession(ctx context.Context) (*Session, error) {
	c.mu.Lock()
	pub, keyID, err := c.publicKey(ctx, UsageSymmetricKey)
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	s := &Session{Key: make([]byte, 32), IV: make([]byte, aes.BlockSize)}
	if _, err := rand.Read(s.Key); err != nil {
		return nil, err
	}
	if _, err := rand.Read(s.IV); err != nil {
		return nil, err
	}
	wrapped, err := encryptOAEP(pub, s.Key)
	if err != nil {
		return nil, fmt.Errorf("ksef: wrap the session key: %w", err)
	}
	var req openSessionRequest
	req.FormCode.SystemCode, req.FormCode.SchemaVersion, req.FormCode.Value = FormSystemCode, FormSchemaVersion, FormValue
	req.Encryption.EncryptedSymmetricKey, req.Encryption.InitializationVector, req.Encryption.PublicKeyID = wrapped, s.IV, keyID
	var out struct {
		ReferenceNumber string    `json:"referenceNumber"`
		ValidUntil      time.Time `json:"validUntil"`
	}
	if err := c.authed(ctx, call{op: "open session", method: http.MethodPost, path: "/sessions/online", in: req, out: &out}); err != nil {
		return nil, err
	}
	if out.ReferenceNumber == "" {
		return nil, &Unavailable{Op: "open session", Status: http.StatusCreated, Err: fmt.Errorf("answer holds no reference number")}
	}
	s.ReferenceNumber, s.ValidUntil = out.ReferenceNumber, out.ValidUntil
	return s, nil
}

// sendInvoiceRequest is the body of POST /sessions/online/{ref}/invoices.
type sendInvoiceRequest struct {
	InvoiceHash             string `json:"invoiceHash"`
	InvoiceSize             int64  `json:"invoiceSize"`
	EncryptedInvoiceHash    string `json:"encryptedInvoiceHash"`
	EncryptedInvoiceSize    int64  `json:"encryptedInvoiceSize"`
	EncryptedInvoiceContent []byte `json:"encryptedInvoiceContent"`
	OfflineMode             bool   `json:"offlineMode,omitempty"`
}

// SendResult is KSeF's receipt of an invoice: its reference number, by which
// its status and UPO are asked for.
type SendResult struct {
	ReferenceNumber string
}

// Send sends the FA(3) XML of one invoice in s, encrypted with AES-256-CBC
// and PKCS#7 under the session's key, with the SHA-256 and size of the
// plain and of the encrypted XML. KSeF verifies it afterwards: ask
// InvoiceStatus or AwaitInvoice.
func (c *Client) Send(ctx context.Context, s *Session, invoice []byte) (SendResult, error) {
	return c.send(ctx, s, invoice, false)
}

// SendOffline sends, as Send does, an invoice issued in one of the offline
// modes of tryby-offline.md (offlineMode: true): one the buyer already has
// with its offline QR codes, sent to KSeF within the mode's deadline.
func (c *Client) SendOffline(ctx context.Context, s *Session, invoice []byte) (SendResult, error) {
	return c.send(ctx, s, invoice, true)
}

func (c *Client) send(ctx context.Context, s *Session, invoice []byte, offline bool) (SendResult, error) {
	enc, err := encryptCBC(s.Key, s.IV, invoice)
	if err != nil {
		return SendResult{}, fmt.Errorf("ksef: encrypt the invoice: %w", err)
	}
	req := sendInvoiceRequest{
		InvoiceHash: hashB64(invoice), InvoiceSize: int64(len(invoice)),
		EncryptedInvoiceHash: hashB64(enc), EncryptedInvoiceSize: int64(len(enc)),
		EncryptedInvoiceContent: enc, OfflineMode: offline,
	}
	var out struct {
		ReferenceNumber string `json:"referenceNumber"`
	}
	if err := c.authed(ctx, call{op: "send invoice", method: http.MethodPost,
		path: "/sessions/online/" + url.PathEscape(s.ReferenceNumber) + "/invoices", in: req, out: &out}); err != nil {
		return SendResult{}, err
	}
	if out.ReferenceNumber == "" {
		return SendResult{}, &Unavailable{Op: "send invoice", Status: http.StatusAccepted, Err: fmt.Errorf("answer holds no reference number")}
	}
	return SendResult{ReferenceNumber: out.ReferenceNumber}, nil
}

// InvoiceStatus is an invoice's status in its session
// (SessionInvoiceStatusResponse): Code 100 and 150 while KSeF processes it,
// 200 accepted with its KSeF number, 4xx and 5xx rejected.
type InvoiceStatus struct {
	Code            int               `json:"-"`
	Description     string            `json:"-"`
	Details         []string          `json:"-"`
	Extensions      map[string]string `json:"-"` // e.g. originalKsefNumber of a duplicate (440)
	ReferenceNumber string            `json:"referenceNumber"`
	OrdinalNumber   int               `json:"ordinalNumber"`
	InvoiceNumber   string            `json:"invoiceNumber,omitempty"`
	KsefNumber      string            `json:"ksefNumber,omitempty"`
	InvoiceHash     string            `json:"invoiceHash"`
	InvoicingDate   time.Time         `json:"invoicingDate"`
	AcquisitionDate *time.Time        `json:"acquisitionDate,omitempty"` // when the KSeF number was given
	UpoDownloadURL  string            `json:"upoDownloadUrl,omitempty"`
	InvoicingMode   string            `json:"invoicingMode,omitempty"`
}

// Accepted: KSeF gave the invoice its KSeF number.
func (s InvoiceStatus) Accepted() bool { return s.Code == 200 }

// Processing: KSeF has not decided yet.
func (s InvoiceStatus) Processing() bool { return s.Code == 100 || s.Code == 150 }

// invoiceStatusResponse is SessionInvoiceStatusResponse on the wire.
type invoiceStatusResponse struct {
	InvoiceStatus
	Status struct {
		Code        int               `json:"code"`
		Description string            `json:"description"`
		Details     []string          `json:"details,omitempty"`
		Extensions  map[string]string `json:"extensions,omitempty"`
	} `json:"status"`
}

// InvoiceStatus asks once for the status of the invoice invoiceRef sent in
// session sessionRef.
func (c *Client) InvoiceStatus(ctx context.Context, sessionRef, invoiceRef string) (InvoiceStatus, error) {
	var out invoiceStatusResponse
	if err := c.authed(ctx, call{op: "invoice status", method: http.MethodGet,
		path: "/sessions/" + url.PathEscape(sessionRef) + "/invoices/" + url.PathEscape(invoiceRef), out: &out}); err != nil {
		return InvoiceStatus{}, err
	}
	st := out.InvoiceStatus
	st.Code, st.Description, st.Details, st.Extensions = out.Status.Code, out.Status.Description, out.Status.Details, out.Status.Extensions
	if st.Accepted() && !ValidKsefNumber(st.KsefNumber) {
		return st, &Unavailable{Op: "invoice status", Status: http.StatusOK, Err: fmt.Errorf("accepted with an invalid KSeF number %q", st.KsefNumber)}
	}
	return st, nil
}

// SessionInvoices lists the invoices session sessionRef received (the first
// 1000: officeflow sends one per session). A sender that lost the answer
// to its send finds there whether KSeF got the invoice, by its hash
// (InvoiceHash, base64 of the SHA-256 as KSeF writes it), instead of
// sending it twice. Codes are not read: ask InvoiceStatus.
func (c *Client) SessionInvoices(ctx context.Context, sessionRef string) ([]InvoiceStatus, error) {
	var out struct {
		Invoices []InvoiceStatus `json:"invoices"`
	}
	if err := c.authed(ctx, call{op: "session invoices", method: http.MethodGet,
		path: "/sessions/" + url.PathEscape(sessionRef) + "/invoices?pageSize=1000", out: &out}); err != nil {
		return nil, err
	}
	return out.Invoices, nil
}

// HashOf is b's SHA-256 in base64, as KSeF names an invoice's hash.
func HashOf(b []byte) string { return hashB64(b) }

// AwaitInvoice polls the invoice's status, at most the Client's MaxPolls
// times PollInterval apart, until KSeF decides: accepted (nil error, the
// status holds the KSeF number), rejected (*Rejected), or still processing
// after the last poll (*Unavailable wrapping ErrProcessing).
func (c *Client) AwaitInvoice(ctx context.Context, sessionRef, invoiceRef string) (InvoiceStatus, error) {
	for i := 0; ; i++ {
		st, err := c.InvoiceStatus(ctx, sessionRef, invoiceRef)
		switch {
		case err != nil:
			return st, err
		case st.Accepted():
			return st, nil
		case !st.Processing():
			return st, &Rejected{InvoiceReferenceNumber: invoiceRef, Status: st}
		case i+1 >= c.maxPolls():
			return st, &Unavailable{Op: "invoice status", Status: http.StatusOK, Err: ErrProcessing}
		}
		if err := wait(ctx, c.pollInterval()); err != nil {
			return st, &Unavailable{Op: "invoice status", Err: err}
		}
	}
}

// UPO is the UPO (urzędowe poświadczenie odbioru, the official receipt) of an
// accepted invoice: XML of the upo-v4-3 schema, byte for byte as KSeF gives
// it. When KSeF names its SHA-256 (x-ms-meta-hash) the bytes are checked.
func (c *Client) UPO(ctx context.Context, sessionRef, invoiceRef string) ([]byte, error) {
	var raw []byte
	h := http.Header{}
	if err := c.authed(ctx, call{op: "upo", method: http.MethodGet, accept: "application/xml",
		path: "/sessions/" + url.PathEscape(sessionRef) + "/invoices/" + url.PathEscape(invoiceRef) + "/upo",
		raw:  &raw, header: h}); err != nil {
		return nil, err
	}
	if want := h.Get("x-ms-meta-hash"); want != "" && want != hashB64(raw) {
		return nil, &Unavailable{Op: "upo", Status: http.StatusOK, Err: fmt.Errorf("the UPO's SHA-256 is not the x-ms-meta-hash")}
	}
	if !bytes.Contains(raw, []byte("<")) {
		return nil, &Unavailable{Op: "upo", Status: http.StatusOK, Err: fmt.Errorf("answer is no XML")}
	}
	return raw, nil
}

// SessionStatus is a session's status (SessionStatusResponse): 100 open,
// 170 closed, 200 processed, 4xx failed; and its invoice counts.
type SessionStatus struct {
	Code                   int
	Description            string
	InvoiceCount           int
	SuccessfulInvoiceCount int
	FailedInvoiceCount     int
}

// SessionStatus asks for the status of session ref.
func (c *Client) SessionStatus(ctx context.Context, ref string) (SessionStatus, error) {
	var out struct {
		Status                 StatusInfo `json:"status"`
		InvoiceCount           int        `json:"invoiceCount"`
		SuccessfulInvoiceCount int        `json:"successfulInvoiceCount"`
		FailedInvoiceCount     int        `json:"failedInvoiceCount"`
	}
	if err := c.authed(ctx, call{op: "session status", method: http.MethodGet, path: "/sessions/" + url.PathEscape(ref), out: &out}); err != nil {
		return SessionStatus{}, err
	}
	return SessionStatus{Code: out.Status.Code, Description: out.Status.Description, InvoiceCount: out.InvoiceCount,
		SuccessfulInvoiceCount: out.SuccessfulInvoiceCount, FailedInvoiceCount: out.FailedInvoiceCount}, nil
}

// Close closes session ref; KSeF then makes the session's collective UPO.
func (c *Client) Close(ctx context.Context, ref string) error {
	return c.authed(ctx, call{op: "close session", method: http.MethodPost, path: "/sessions/online/" + url.PathEscape(ref) + "/close"})
}

// hashB64 is base64 of the SHA-256 of b, as KSeF's hashes are written.
func hashB64(b []byte) string {
	sum := sha256.Sum256(b)
	return base64.StdEncoding.EncodeToString(sum[:])
}

// encryptCBC is AES-256-CBC with PKCS#7 padding.
func encryptCBC(key, iv, plain []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("IV of %d bytes, not %d", len(iv), aes.BlockSize)
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	buf := append(append([]byte(nil), plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(buf, buf)
	return buf, nil
}
