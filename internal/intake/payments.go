package intake

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strings"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"go.temporal.io/api/serviceerror"
	"go.uber.org/zap"
)

// Notification is the payment gateway's body.
type Notification struct {
	OrderID   string `json:"order_id"`
	PaymentID string `json:"payment_id"`
	Status    string `json:"status"`
	Amount    string `json:"amount"`
	Currency  string `json:"currency"`
	// ChargeID names a later purchase (more licences, a renewal) the
	// payment is for; empty for the order's own pro-forma.
	ChargeID string `json:"charge_id,omitempty"`
}

// Sign is the X-Signature value for a raw body.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify checks an X-Signature header against the raw body in constant time.
func Verify(secret, body []byte, header string) bool {
	hexSig, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok {
		return false
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return false
	}
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

var (
	paymentIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$`)
	currencyRe  = regexp.MustCompile(`^[A-Z]{3}$`)
)

// paymentNotification authenticates the raw body before reading any of it,
// records the payment once per payment id and hands it to the saga.
func (s *Server) paymentNotification(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "", "body too large")
		return
	}
	if !Verify(s.WebhookSecret, body, r.Header.Get("X-Signature")) {
		writeError(w, http.StatusUnauthorized, "bad_signature", "X-Signature", "missing or wrong signature")
		return
	}
	var n Notification
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&n); err != nil {
		writeFieldError(w, jsonFieldError(err))
		return
	}
	amount, fe := n.validate()
	if fe != nil {
		writeFieldError(w, fe)
		return
	}
	// Every completed payment is recorded whatever it says, and either taken
	// or owed back; the store decides which under the order's lock. Money
	// that comes after the order stopped waiting (paid already, cancelled)
	// is owed back whatever its amount; a payment the order still waits for
	// that does not match the invoice is refused (422, the order keeps
	// waiting) and owed back as well. What it pays is read in the record's
	// transaction: one for the notification.
	p := store.Payment{PaymentID: n.PaymentID, OrderID: n.OrderID, ChargeID: n.ChargeID, Status: n.Status, Amount: amount, Currency: n.Currency}
	var due *store.Invoice
	var workflowID string
	var rec store.Recorded
	var recErr error
	answered, recorded := false, false
	err = s.Store.InTx(r.Context(), func(ctx context.Context) error {
		var ok bool
		if due, workflowID, ok = s.target(w, ctx, n.OrderID, n.ChargeID); !ok {
			answered = true
			return nil
		}
		if due == nil && n.Status != "completed" {
			writeError(w, http.StatusConflict, "not_payable", "order_id", "order "+n.OrderID+" has no invoice to pay yet")
			answered = true
			return nil
		}
		// In a savepoint of its own: its error keeps what it kept (a
		// conflicting payment, for an operator) and still commits.
		rec, recErr = s.Store.RecordPayment(ctx, p)
		recorded = true
		return nil
	})
	switch {
	case answered:
	case recorded:
		s.settled(w, r.Context(), p, due, workflowID, rec, cmp.Or(err, recErr))
	default:
		s.unavailable(w, "read order", err)
	}
}

// target finds what a payment of the order (chargeID "") or of one of its
// charges pays, and the workflow that waits for it; ok false means it
// answered the caller.
func (s *Server) target(w http.ResponseWriter, ctx context.Context, orderID, chargeID string) (due *store.Invoice, workflowID string, ok bool) {
	o, err := s.Store.GetOrder(ctx, orderID)
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "order_id", "no order "+orderID)
		return nil, "", false
	}
	if err != nil {
		s.unavailable(w, "read order", err)
		return nil, "", false
	}
	if chargeID == "" {
		return o.Invoice, workflows.WorkflowID(orderID), true
	}
	c, err := s.Store.GetCharge(ctx, chargeID)
	if errors.Is(err, store.ErrNotFound) || err == nil && c.OrderID != orderID {
		writeError(w, http.StatusNotFound, "not_found", "charge_id", "no charge "+chargeID+" of order "+orderID)
		return nil, "", false
	}
	if err != nil {
		s.unavailable(w, "read charge", err)
		return nil, "", false
	}
	return c.Invoice, c.WorkflowID, true
}

// settled answers a payment that RecordPayment took (err is its error) and
// tells the waiting workflow of one it should take: the one way every
// payment, the shop's signed notification or Przelewy24's, reaches a saga.
func (s *Server) settled(w http.ResponseWriter, ctx context.Context, n store.Payment, due *store.Invoice, workflowID string, rec store.Recorded, err error) {
	if errors.Is(err, store.ErrPaymentConflict) {
		// Permanent: retrying cannot make the id this order's. The store
		// kept the notification for an operator.
		s.Log.Warn("payment id of another order", zap.String("order_id", n.OrderID), zap.String("payment_id", n.PaymentID), zap.Error(err))
		writeError(w, http.StatusConflict, "payment_conflict", "payment_id", "payment "+n.PaymentID+" is another order's payment")
		return
	}
	if err != nil {
		s.unavailable(w, "record payment", err)
		return
	}
	if rec.Mismatch {
		s.Log.Warn("payment does not match the invoice: refused and marked for refund", zap.String("order_id", n.OrderID), zap.String("payment_id", n.PaymentID))
		msg := "payment of " + n.Amount.String() + " " + n.Currency + " does not match the invoice"
		if due != nil {
			msg = "payment of " + n.Amount.String() + " " + n.Currency + " does not match invoice " + due.Number + " of " + due.Gross.String() + " " + due.Currency
		}
		writeError(w, http.StatusUnprocessableEntity, "amount_mismatch", "amount", msg+"; it is marked for refund")
		return
	}
	if rec.Refund {
		s.Log.Warn("payment after the order stopped waiting: marked for refund", zap.String("order_id", n.OrderID), zap.String("payment_id", n.PaymentID))
		writeJSON(w, http.StatusOK, map[string]any{"order_id": n.OrderID, "payment_id": n.PaymentID, "duplicate": !rec.First, "refund": true})
		return
	}
	if rec.Differs {
		// A repeat that contradicts the payment recorded under its id (a
		// failed one after the money came): the recorded one stands, and
		// the saga is not told otherwise.
		s.Log.Warn("payment notification contradicts the recorded one: ignored", zap.String("order_id", n.OrderID), zap.String("payment_id", n.PaymentID), zap.String("status", n.Status))
		writeJSON(w, http.StatusOK, map[string]any{"order_id": n.OrderID, "payment_id": n.PaymentID, "duplicate": true})
		return
	}
	// Signalled on repeats too: if the first signal was lost, this delivers
	// it; if not, the saga has moved on and ignores it.
	err = s.Temporal.SignalWorkflow(ctx, workflowID, "", workflows.SignalPayment, workflows.Payment{
		PaymentID: n.PaymentID, Status: n.Status, Amount: n.Amount, Currency: n.Currency, ChargeID: n.ChargeID,
	})
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		s.unavailable(w, "signal payment", err)
		return
	}
	if err != nil {
		s.Log.Warn("payment for a finished order recorded", zap.String("order_id", n.OrderID), zap.String("payment_id", n.PaymentID))
	}
	writeJSON(w, http.StatusOK, map[string]any{"order_id": n.OrderID, "payment_id": n.PaymentID, "duplicate": !rec.First})
}

func (n *Notification) validate() (money.Grosze, *order.FieldError) {
	switch {
	case n.OrderID == "":
		return 0, &order.FieldError{Field: "order_id", Code: "required", Message: "order_id is required"}
	case !paymentIDRe.MatchString(n.PaymentID):
		return 0, &order.FieldError{Field: "payment_id", Code: "invalid", Message: "payment_id must be 1-128 letters, digits, '.', '_', ':' or '-'"}
	case n.Status != "completed" && n.Status != "failed":
		return 0, &order.FieldError{Field: "status", Code: "invalid", Message: "status must be completed or failed"}
	case n.ChargeID != "" && len(n.ChargeID) > 200:
		return 0, &order.FieldError{Field: "charge_id", Code: "invalid", Message: "charge_id is at most 200 characters"}
	case !currencyRe.MatchString(n.Currency):
		return 0, &order.FieldError{Field: "currency", Code: "invalid", Message: "currency must be an ISO 4217 code such as PLN"}
	}
	amount, err := money.Parse(n.Amount)
	if err != nil {
		return 0, &order.FieldError{Field: "amount", Code: "invalid", Message: err.Error()}
	}
	return amount, nil
}
