package p24

import (
	"encoding/json"
	"errors"
	"fmt"
)

// ErrBadSign: a notification's sign is missing or does not match its fields
// under our CRC key. Whoever sent it does not hold the key; answer 401 and
// change nothing.
var ErrBadSign = errors.New("p24: notification sign does not match")

// ErrMalformed: a notification body is not Przelewy24's JSON.
var ErrMalformed = errors.New("p24: malformed notification")

// Notification is what Przelewy24 POSTs (JSON) to a transaction's urlStatus
// once the payer has paid. It is sent only for a good payment, and again
// later (after 3, 5, 15, ... minutes) until the payment is verified, so the
// receiver must treat a repeat as a no-op. Amounts are in grosze.
type Notification struct {
	MerchantID   int    `json:"merchantId"`
	PosID        int    `json:"posId"`
	SessionID    string `json:"sessionId"`
	Amount       int64  `json:"amount"`
	OriginAmount int64  `json:"originAmount"`
	Currency     string `json:"currency"`
	OrderID      int64  `json:"orderId"` // Przelewy24's id of the payment, needed by Verify and Refund
	MethodID     int    `json:"methodId"`
	Statement    string `json:"statement"`
	Sign         string `json:"sign"`
}

// Signed returns n with Sign computed under crc: what Przelewy24 sends.
// Tests of a notification receiver use it to build a body.
func (n Notification) Signed(crc string) Notification {
	n.Sign = n.digest(crc)
	return n
}

// ParseNotification decodes a status notification and checks its sign under
// crc. ErrBadSign means it is not from Przelewy24; ErrMalformed (wrapped)
// that the body is not a notification. A valid sign proves only who sent it:
// the payment counts once Verify succeeds.
func ParseNotification(body []byte, crc string) (Notification, error) {
	var n Notification
	if err := json.Unmarshal(body, &n); err != nil {
		return Notification{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !validSign(n.Sign, n.digest(crc)) {
		return Notification{}, ErrBadSign
	}
	if n.SessionID == "" || n.OrderID == 0 {
		return Notification{}, fmt.Errorf("%w: no sessionId or orderId", ErrMalformed)
	}
	return n, nil
}

// Refund outcomes in RefundNotification.Status.
const (
	RefundCompleted = 0
	RefundRejected  = 1
)

// RefundNotification is what Przelewy24 POSTs to a refund request's
// urlStatus, one per refunded transaction, once the refund is done or
// rejected.
type RefundNotification struct {
	OrderID     int64  `json:"orderId"`
	SessionID   string `json:"sessionId"`
	MerchantID  int    `json:"merchantId"`
	RequestID   string `json:"requestId"`
	RefundsUUID string `json:"refundsUuid"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Timestamp   int64  `json:"timestamp"` // Unix seconds when it was sent; not signed
	Status      int    `json:"status"`    // RefundCompleted or RefundRejected
	Sign        string `json:"sign"`
}

// Completed reports whether the money went back to the payer.
func (n RefundNotification) Completed() bool { return n.Status == RefundCompleted }

// Signed returns n with Sign computed under crc.
func (n RefundNotification) Signed(crc string) RefundNotification {
	n.Sign = n.digest(crc)
	return n
}

// ParseRefundNotification decodes a refund notification and checks its sign
// under crc, like ParseNotification.
func ParseRefundNotification(body []byte, crc string) (RefundNotification, error) {
	var n RefundNotification
	if err := json.Unmarshal(body, &n); err != nil {
		return RefundNotification{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if !validSign(n.Sign, n.digest(crc)) {
		return RefundNotification{}, ErrBadSign
	}
	if n.SessionID == "" || n.OrderID == 0 {
		return RefundNotification{}, fmt.Errorf("%w: no sessionId or orderId", ErrMalformed)
	}
	return n, nil
}
