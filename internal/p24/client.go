package p24

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sandbox and Production are Przelewy24's base URLs (Client.BaseURL).
const (
	Sandbox    = "https://sandbox.przelewy24.pl"
	Production = "https://secure.przelewy24.pl"
)

// DefaultTimeout bounds a call when Client.HTTP is nil.
const DefaultTimeout = 30 * time.Second

// maxBody bounds what we buffer of an answer.
const maxBody = 1 << 20

// Client calls Przelewy24's REST API v1. It never retries on its own: the
// caller is a Temporal activity whose retry policy decides, and a hidden
// retry would hide attempts from it. APIKey (the "secretId", shown in the
// panel as the reports key) and CRC never appear in errors or when the
// Client is printed or logged.
type Client struct {
	BaseURL    string // Sandbox, Production or a Fake's URL; without /api/v1
	MerchantID int
	PosID      int // 0: MerchantID, Przelewy24's default
	APIKey     string
	CRC        string
	HTTP       *http.Client // nil: one with DefaultTimeout
}

// String, GoString and LogValue show the Client without its keys, so that
// printing or logging one (even by %#v) leaks nothing.
func (c Client) String() string {
	return fmt.Sprintf("p24.Client{BaseURL: %q, MerchantID: %d, PosID: %d, APIKey: [redacted], CRC: [redacted]}",
		c.BaseURL, c.MerchantID, c.PosID)
}

func (c Client) GoString() string { return c.String() }

func (c Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.BaseURL),
		slog.Int("merchant_id", c.MerchantID), slog.Int("pos_id", c.PosID))
}

// Transaction is what Register sends. Amount is in grosze.
type Transaction struct {
	SessionID     string // ours, unique per payment; at most 100 characters
	Amount        int64
	Currency      string // "" means PLN
	Description   string
	Email         string
	Country       string // "" means PL
	Language      string // "pl" or "en"; "" means pl
	URLReturn     string // where the payer's browser goes afterwards
	URLStatus     string // where the notification is POSTed
	WaitForResult bool   // keep the payer at Przelewy24 until the result is known
}

type registerRequest struct {
	MerchantID    int    `json:"merchantId"`
	PosID         int    `json:"posId"`
	SessionID     string `json:"sessionId"`
	Amount        int64  `json:"amount"`
	Currency      string `json:"currency"`
	Description   string `json:"description"`
	Email         string `json:"email"`
	Country       string `json:"country"`
	Language      string `json:"language"`
	URLReturn     string `json:"urlReturn"`
	URLStatus     string `json:"urlStatus,omitempty"`
	WaitForResult bool   `json:"waitForResult,omitempty"`
	Sign          string `json:"sign"`
}

// Register registers t and returns the token that opens its payer page
// (PayURL).
func (c *Client) Register(ctx context.Context, t Transaction) (string, error) {
	req := registerRequest{
		MerchantID: c.MerchantID, PosID: c.pos(), SessionID: t.SessionID, Amount: t.Amount,
		Currency: or(t.Currency, "PLN"), Description: t.Description, Email: t.Email,
		Country: or(t.Country, "PL"), Language: or(t.Language, "pl"),
		URLReturn: t.URLReturn, URLStatus: t.URLStatus, WaitForResult: t.WaitForResult,
	}
	req.Sign = registerSign(req.SessionID, req.MerchantID, req.Amount, req.Currency, c.CRC)
	var out struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if err := c.do(ctx, "register", http.MethodPost, "/api/v1/transaction/register", req, &out); err != nil {
		return "", err
	}
	if out.Data.Token == "" {
		return "", &Unavailable{Op: "register", Status: http.StatusOK, Err: errors.New("answer holds no token")}
	}
	return out.Data.Token, nil
}

// PayURL is the payer's page for a registered transaction.
func (c *Client) PayURL(token string) string {
	return strings.TrimRight(c.BaseURL, "/") + "/trnRequest/" + url.PathEscape(token)
}

// Verification confirms a notified payment; the fields come from the
// Notification (or from Transaction) and must match what was registered.
type Verification struct {
	SessionID string
	OrderID   int64
	Amount    int64
	Currency  string // "" means PLN
}

// verifyRequest is the body of PUT /api/v1/transaction/verify, as the
// client sends it and the Fake reads it.
type verifyRequest struct {
	MerchantID int    `json:"merchantId"`
	PosID      int    `json:"posId"`
	SessionID  string `json:"sessionId"`
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
	OrderID    int64  `json:"orderId"`
	Sign       string `json:"sign"`
}

// Verify confirms a payment. Until it succeeds Przelewy24 holds the money
// as the payer's advance payment and keeps re-sending the notification.
// Verifying an already verified payment succeeds again on the Fake; whether
// the real gateway answers so is not documented.
func (c *Client) Verify(ctx context.Context, v Verification) error {
	cur := or(v.Currency, "PLN")
	req := verifyRequest{c.MerchantID, c.pos(), v.SessionID, v.Amount, cur, v.OrderID, verifySign(v.SessionID, v.OrderID, v.Amount, cur, c.CRC)}
	var out struct {
		Data struct {
			Status string `json:"status"`
		} `json:"data"`
	}
	if err := c.do(ctx, "verify", http.MethodPut, "/api/v1/transaction/verify", req, &out); err != nil {
		return err
	}
	if out.Data.Status != "success" {
		return &Refused{Op: "verify", Code: http.StatusOK, Message: fmt.Sprintf("status %q", out.Data.Status)}
	}
	return nil
}

// State is Przelewy24's numeric status of a transaction.
type State int

const (
	NoPayment State = 0 // not paid (yet)
	Advance   State = 1 // paid, not verified: held as the payer's advance payment
	Completed State = 2 // paid and verified
	Returned  State = 3 // refunded to the payer
)

func (s State) String() string {
	switch s {
	case NoPayment:
		return "no payment"
	case Advance:
		return "advance"
	case Completed:
		return "completed"
	case Returned:
		return "returned"
	}
	return "state " + strconv.Itoa(int(s))
}

// Status is what Przelewy24 knows of a transaction.
type Status struct {
	SessionID string `json:"sessionId"`
	OrderID   int64  `json:"orderId"` // 0 until paid
	State     State  `json:"status"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	Statement string `json:"statement"`
}

// Paid reports whether the payer has paid: Verify is due (Advance) or done
// (Completed).
func (s Status) Paid() bool { return s.State == Advance || s.State == Completed }

// Transaction asks Przelewy24 for the transaction registered under
// sessionID: how a lost notification is recovered (if Paid, Verify with its
// OrderID). An unknown session id is a *Refused matching ErrNotFound.
func (c *Client) Transaction(ctx context.Context, sessionID string) (Status, error) {
	var out struct {
		Data *Status `json:"data"`
	}
	path := "/api/v1/transaction/by/sessionId/" + url.PathEscape(sessionID)
	if err := c.do(ctx, "transaction", http.MethodGet, path, nil, &out); err != nil {
		return Status{}, err
	}
	if out.Data == nil {
		return Status{}, &Unavailable{Op: "transaction", Status: http.StatusOK, Err: errors.New("answer holds no data")}
	}
	return *out.Data, nil
}

// RefundRequest returns money of one or more paid transactions. RequestID
// (at most 45 characters) identifies the request: the same one again is
// answered as the first and refunds nothing more. RefundsUUID (at most 35
// characters: a UUID without its dashes fits, with them it does not) is ours
// and comes back in the notifications, sent to URLStatus.
type RefundRequest struct {
	RequestID   string   `json:"requestId"`
	Refunds     []Refund `json:"refunds"`
	RefundsUUID string   `json:"refundsUuid"`
	URLStatus   string   `json:"urlStatus,omitempty"`
}

// Refund is one transaction's part of a RefundRequest; Amount in grosze, at
// most what was paid less what was refunded already.
type Refund struct {
	OrderID     int64  `json:"orderId"`
	SessionID   string `json:"sessionId"`
	Amount      int64  `json:"amount"`
	Description string `json:"description"`
}

// Refund orders the refunds of r. Success means Przelewy24 accepted them;
// each outcome arrives later as a RefundNotification.
func (c *Client) Refund(ctx context.Context, r RefundRequest) error {
	var out struct {
		Data []refundResult `json:"data"`
	}
	if err := c.do(ctx, "refund", http.MethodPost, "/api/v1/transaction/refund", r, &out); err != nil {
		return err
	}
	var bad []string
	for _, d := range out.Data {
		if !d.Status {
			bad = append(bad, d.String())
		}
	}
	if bad != nil {
		return &Refused{Op: "refund", Code: http.StatusOK, Message: strings.Join(bad, "; ")}
	}
	return nil
}

// refundResult is one refund's line in the answer, in "data" (201) or in
// "error" (409).
type refundResult struct {
	OrderID     int64  `json:"orderId"`
	SessionID   string `json:"sessionId"`
	Amount      int64  `json:"amount"`
	Description string `json:"description"`
	Status      bool   `json:"status"`
	Message     string `json:"message"`
}

func (r refundResult) String() string {
	return fmt.Sprintf("order %d (session %s): %s", r.OrderID, r.SessionID, r.Message)
}

// TestAccess checks the credentials: nil when Przelewy24 accepts them.
func (c *Client) TestAccess(ctx context.Context) error {
	var out struct {
		Data  bool   `json:"data"`
		Error string `json:"error"`
	}
	if err := c.do(ctx, "test access", http.MethodGet, "/api/v1/testAccess", nil, &out); err != nil {
		return err
	}
	if !out.Data {
		return &Refused{Op: "test access", Code: http.StatusOK, Message: out.Error}
	}
	return nil
}

// do sends in (JSON, unless nil) with Basic auth posId:apiKey and decodes a
// 2xx answer into out.
func (c *Client) do(ctx context.Context, op, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("p24: %s: %w", op, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("p24: %s: %w", op, err)
	}
	req.SetBasicAuth(strconv.Itoa(c.pos()), c.APIKey)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: DefaultTimeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return &Unavailable{Op: op, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return &Unavailable{Op: op, Status: resp.StatusCode, Err: err}
	}
	switch code := resp.StatusCode; {
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests:
		return &Unavailable{Op: op, Status: code, Err: errors.New(errorText(raw, resp.Status))}
	case code >= 300:
		return &Refused{Op: op, Code: code, Message: errorText(raw, resp.Status)}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return &Unavailable{Op: op, Status: resp.StatusCode, Err: fmt.Errorf("unreadable answer: %w", err)}
		}
	}
	return nil
}

func (c *Client) pos() int {
	if c.PosID == 0 {
		return c.MerchantID
	}
	return c.PosID
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
