// Package gateway takes payments made through Przelewy24 into the store and
// sends back through it the refunds the store owes. It is the one place
// where a gateway payment counts: a notification (the intake) and the
// workflow's question to the gateway after a lost one (an activity) both
// come here, and both end in store.RecordPayment, which decides every
// payment.
package gateway

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/p24"
	"github.com/officeflow/officeflow/internal/store"
)

// Gateway is a Przelewy24 merchant account and the store its payments go to.
type Gateway struct {
	Client *p24.Client
	Store  *store.Store
	// RefundStatusURL receives the refunds' notifications.
	RefundStatusURL string
}

// Taken is a verified payment as recorded.
type Taken struct {
	Payment  store.Payment
	Recorded store.Recorded
}

// ErrNotOurs means the payment does not match the transaction registered
// under its session id (amount, currency, merchant): not verified, nothing
// recorded. It is final.
var ErrNotOurs = errors.New("payment does not match the registered transaction")

// Take verifies the payment p24OrderID of the transaction sessionID with
// Przelewy24 and records it. The amount and currency must be what was
// registered; the merchant is checked by the caller (a notification's sign
// and ids) or is ours (a status we asked for). A repeat verifies nothing
// again and records nothing twice. Gateway errors are p24's: *p24.Unavailable
// is worth retrying.
func (g *Gateway) Take(ctx context.Context, sessionID string, p24OrderID, amount int64, currency string) (Taken, error) {
	t, err := g.Store.GetP24Transaction(ctx, sessionID)
	if err != nil {
		return Taken{}, err
	}
	if int64(t.Amount) != amount || t.Currency != currency {
		return Taken{}, fmt.Errorf("session %s: paid %s %s, registered %s %s: %w",
			sessionID, money.Grosze(amount), currency, t.Amount, t.Currency, ErrNotOurs)
	}
	if !t.Verified || t.P24OrderID != p24OrderID {
		if err := g.Client.Verify(ctx, p24.Verification{SessionID: sessionID, OrderID: p24OrderID, Amount: amount, Currency: currency}); err != nil {
			return Taken{}, err
		}
		if err := g.Store.VerifiedP24(ctx, sessionID, p24OrderID); err != nil {
			return Taken{}, err
		}
	}
	p := store.Payment{PaymentID: store.P24PaymentID(p24OrderID), OrderID: t.OrderID, ChargeID: t.ChargeID,
		Status: "completed", Amount: t.Amount, Currency: t.Currency}
	rec, err := g.Store.RecordPayment(ctx, p)
	return Taken{Payment: p, Recorded: rec}, err
}

// Ask asks Przelewy24 about a transaction whose notification may have been
// lost, and takes the payment if it was made. ok is false while the payer
// has not paid.
func (g *Gateway) Ask(ctx context.Context, sessionID string) (_ Taken, ok bool, _ error) {
	st, err := g.Client.Transaction(ctx, sessionID)
	if err != nil || !st.Paid() {
		return Taken{}, false, err
	}
	tk, err := g.Take(ctx, sessionID, st.OrderID, st.Amount, st.Currency)
	return tk, err == nil, err
}

// Refund sends the refund owed for a Przelewy24 payment and marks it sent;
// a refund already sent or closed is not sent again. The request id and
// refunds UUID come from the payment id, so a retry after a lost answer is
// the same request, which Przelewy24 answers as the first without paying
// twice. A refusal marks the refund rejected and is returned as
// *p24.Refused: its workflow waits for an operator, whose retry sends a
// refund the API refused again (one it accepted is not sent twice).
func (g *Gateway) Refund(ctx context.Context, paymentID string) (store.GatewayRefund, error) {
	r, err := g.Store.GetGatewayRefund(ctx, paymentID)
	if err != nil || !(r.Status == store.RefundPending || r.Status == store.RefundRejected && r.Sent.IsZero()) {
		return r, err
	}
	sum := sha256.Sum256([]byte("officeflow refund " + paymentID))
	key := hex.EncodeToString(sum[:16]) // 32 characters: fits both ids' limits
	err = g.Client.Refund(ctx, p24.RefundRequest{
		RequestID: key, RefundsUUID: key, URLStatus: g.RefundStatusURL,
		Refunds: []p24.Refund{{OrderID: r.P24OrderID, SessionID: r.SessionID, Amount: int64(r.Amount), Description: refundTitle(r)}},
	})
	var refused *p24.Refused
	if errors.As(err, &refused) {
		if _, merr := g.Store.MoveRefund(ctx, paymentID, store.RefundRejected, refused.Error(), time.Now()); merr != nil {
			return r, merr
		}
		r.Status, r.Detail = store.RefundRejected, refused.Error()
		return r, err
	}
	if err != nil {
		return r, err
	}
	if _, err := g.Store.MoveRefund(ctx, paymentID, store.RefundSent, "", time.Now()); err != nil {
		return r, err
	}
	r.Status = store.RefundSent
	return r, nil
}

// Refunded closes a refund on its notification: refunded, or rejected.
func (g *Gateway) Refunded(ctx context.Context, n p24.RefundNotification) (bool, error) {
	to, detail := store.RefundRefunded, ""
	if !n.Completed() {
		to, detail = store.RefundRejected, "Przelewy24 rejected the refund"
	}
	return g.Store.MoveRefund(ctx, store.P24PaymentID(n.OrderID), to, detail, time.Now())
}

// refundTitle is the refund's description, which the payer sees on their
// statement; Przelewy24 allows 35 characters.
func refundTitle(r store.GatewayRefund) string {
	s := "Zwrot " + r.OrderID
	if len(s) > 35 {
		s = s[:35]
	}
	return s
}
