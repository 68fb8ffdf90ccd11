// Package p24 speaks Przelewy24's REST API v1: a Client for the real
// gateway (sandbox or production) and a Fake of it for tests and -dev.
//
// Flow: Register a transaction and send the payer to PayURL(token); on a
// good payment Przelewy24 POSTs a signed Notification to the transaction's
// urlStatus (never for a failed one); the payment counts only once Verify
// succeeds. Transaction recovers a notification that never came. Refund
// returns money; the outcome comes as a signed RefundNotification.
package p24

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/officeflow/officeflow/internal/secret"
)

// Every request and notification carries a "sign": the SHA-384 hex digest of
// a JSON object made of a few of its fields plus the CRC key, in an order
// fixed per message. Przelewy24 builds that JSON with PHP's
// json_encode(..., JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES): compact,
// "/" and non-ASCII characters written as they are. Go's encoder never
// escapes "/" nor non-ASCII text, but escapes <, > and & unless told not to,
// which would change the digest of a description or statement holding one.
// (Both escape U+2028 and U+2029 alike.)

// The field structs below fix each message's order; their json names are
// Przelewy24's.

type registerFields struct {
	SessionID  string `json:"sessionId"`
	MerchantID int    `json:"merchantId"`
	Amount     int64  `json:"amount"`
	Currency   string `json:"currency"`
	CRC        string `json:"crc"`
}

type verifyFields struct {
	SessionID string `json:"sessionId"`
	OrderID   int64  `json:"orderId"`
	Amount    int64  `json:"amount"`
	Currency  string `json:"currency"`
	CRC       string `json:"crc"`
}

type notificationFields struct {
	MerchantID   int    `json:"merchantId"`
	PosID        int    `json:"posId"`
	SessionID    string `json:"sessionId"`
	Amount       int64  `json:"amount"`
	OriginAmount int64  `json:"originAmount"`
	Currency     string `json:"currency"`
	OrderID      int64  `json:"orderId"`
	MethodID     int    `json:"methodId"`
	Statement    string `json:"statement"`
	CRC          string `json:"crc"`
}

type refundFields struct {
	OrderID     int64  `json:"orderId"`
	SessionID   string `json:"sessionId"`
	RefundsUUID string `json:"refundsUuid"`
	MerchantID  int    `json:"merchantId"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Status      int    `json:"status"`
	CRC         string `json:"crc"`
}

// digest is the sign of one field struct.
func digest[T registerFields | verifyFields | notificationFields | refundFields](fields T) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(fields); err != nil {
		// Strings and integers only: encoding cannot fail.
		panic("p24: encoding sign fields: " + err.Error())
	}
	sum := sha512.Sum384(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:])
}

func registerSign(sessionID string, merchantID int, amount int64, currency, crc string) string {
	return digest(registerFields{sessionID, merchantID, amount, currency, crc})
}

func verifySign(sessionID string, orderID, amount int64, currency, crc string) string {
	return digest(verifyFields{sessionID, orderID, amount, currency, crc})
}

func (n Notification) digest(crc string) string {
	return digest(notificationFields{n.MerchantID, n.PosID, n.SessionID, n.Amount, n.OriginAmount,
		n.Currency, n.OrderID, n.MethodID, n.Statement, crc})
}

func (n RefundNotification) digest(crc string) string {
	return digest(refundFields{n.OrderID, n.SessionID, n.RefundsUUID, n.MerchantID, n.Amount,
		n.Currency, n.Status, crc})
}

// validSign compares a presented sign with the expected one in constant
// time. Hex case carries no meaning, so the presented one is lowered first.
func validSign(presented, want string) bool {
	return presented != "" && secret.Equal(strings.ToLower(presented), want)
}
