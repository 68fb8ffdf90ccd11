package activities

import (
	"context"
	"errors"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/gateway"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/p24"
	"github.com/officeflow/officeflow/internal/store"
	"go.temporal.io/sdk/temporal"
)

// GatewayAnswer is what Przelewy24 said of a transaction the workflow asked
// about.
type GatewayAnswer struct {
	// Paid: the payer paid; the payment was verified and recorded.
	Paid bool
	// Settled: the transaction was verified before (its notification came),
	// so there is nothing left to ask.
	Settled bool
	// Tell: the waiting workflow should take the payment (the store did
	// not owe it back); the fields below are its.
	Tell      bool
	PaymentID string
	ChargeID  string
	Amount    money.Grosze
	Currency  string
}

// AskGateway asks Przelewy24 about a transaction whose notification has not
// come, and takes the payment if it was made: how a lost notification is
// recovered. Safe to repeat: the payment is recorded once under the
// gateway's id of it.
func (a *Activities) AskGateway(ctx context.Context, sessionID string) (GatewayAnswer, error) {
	if a.Gateway == nil {
		return GatewayAnswer{}, temporal.NewNonRetryableApplicationError("no payment gateway configured (P24_URL)", fail.GatewayRefused, nil)
	}
	t, err := a.Store.GetP24Transaction(ctx, sessionID)
	if err != nil {
		return GatewayAnswer{}, dbError(err)
	}
	if t.Verified {
		return GatewayAnswer{Settled: true}, nil
	}
	tk, ok, err := a.Gateway.Ask(ctx, sessionID)
	if err != nil {
		return GatewayAnswer{}, gatewayError(err)
	}
	if !ok {
		return GatewayAnswer{}, nil
	}
	r := tk.Recorded
	return GatewayAnswer{Paid: true, Tell: !r.Mismatch && !r.Refund && !r.Differs,
		PaymentID: tk.Payment.PaymentID, ChargeID: tk.Payment.ChargeID, Amount: tk.Payment.Amount, Currency: tk.Payment.Currency}, nil
}

// RefundSent is SendRefund's answer for a refund the API accepted and
// Przelewy24 has not yet confirmed.
const RefundSent = store.RefundSent

// SendRefund sends the refund owed for a Przelewy24 payment through its
// refund API, once (see gateway.Refund), and returns the refund's state.
func (a *Activities) SendRefund(ctx context.Context, paymentID string) (string, error) {
	if a.Gateway == nil {
		return "", temporal.NewNonRetryableApplicationError("no payment gateway configured (P24_URL)", fail.GatewayRefused, nil)
	}
	r, err := a.Gateway.Refund(ctx, paymentID)
	if err != nil {
		return r.Status, gatewayError(err)
	}
	return r.Status, nil
}

// gatewayError makes what retrying cannot fix final: a refusal by
// Przelewy24, a payment that is not the registered transaction, a row that
// is not there. The rest (the gateway down or slow, the database) retries.
func gatewayError(err error) error {
	var refused *p24.Refused
	switch {
	case errors.As(err, &refused), errors.Is(err, gateway.ErrNotOurs), errors.Is(err, store.ErrP24Mismatch):
		return temporal.NewNonRetryableApplicationError(err.Error(), fail.GatewayRefused, nil)
	}
	return dbError(err)
}

// RefundConfirmed reads the state of a sent refund: closed (refunded, or
// rejected by Przelewy24, in the order's log) or still waiting for its
// notification, which is final here: an operator asks Przelewy24 and
// retries the step, or resolves it.
func (a *Activities) RefundConfirmed(ctx context.Context, paymentID string) (string, error) {
	r, err := a.Store.GetGatewayRefund(ctx, paymentID)
	if err != nil {
		return "", dbError(err)
	}
	if r.Status == store.RefundSent {
		return r.Status, temporal.NewNonRetryableApplicationError("refund of "+paymentID+" sent but not confirmed by Przelewy24",
			fail.GatewayRefused, nil)
	}
	return r.Status, nil
}
