package billing

import (
	"fmt"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
)

// Purchase kinds as the refund policy tells them apart: the order itself
// (its status is the order's) or a later charge (its own status).
const (
	OfOrder  = "order"
	OfCharge = "charge"
)

// Charge states (charges.status).
const (
	ChargeAwaiting  = "awaiting_payment"
	ChargePaid      = "paid"
	ChargeApplied   = "applied"
	ChargeCancelled = "cancelled"
)

// Due is the pro-forma a payment must match.
type Due struct {
	Number   string
	Gross    money.Grosze
	Currency string
}

// Arrival is what is known when a completed payment arrives for the first
// time: what it is for, that purchase's state, and what it must match.
type Arrival struct {
	Of       string // OfOrder or OfCharge
	Status   string // the order's status (OfOrder) or the charge's (OfCharge)
	Amount   money.Grosze
	Currency string
	// Due is the pro-forma to match; nil when none is issued yet.
	Due *Due
	// PaidBefore: the same order (or charge) has another completed payment
	// that is not owed back.
	PaidBefore bool
}

// Verdict is what becomes of a payment.
type Verdict int

const (
	Take           Verdict = iota // it pays the purchase: the saga settles it
	RefundLate                    // the purchase no longer waits (cancelled, compensating, refunded)
	RefundDouble                  // the purchase is paid already
	RefundMismatch                // amount or currency is not the pro-forma's, or nothing is due yet: refused, the purchase keeps waiting
)

// Decision is the verdict with its reason, in words, for the refund.
type Decision struct {
	Verdict Verdict
	Reason  string
}

// Refund tells whether the money is owed back.
func (d Decision) Refund() bool { return d.Verdict != Take }

// waiting and late are the purchase's state as the policy reads it.
func (a Arrival) waiting() (waiting, late bool) {
	if a.Of == OfCharge {
		return a.Status == ChargeAwaiting, a.Status == ChargeCancelled
	}
	s := order.Status(a.Status)
	return s.Cancellable(), s.Late()
}

// Decide is the refund policy: a payment that comes after the purchase
// stopped waiting without being paid is refunded as late; one for a
// purchase no longer waiting (paid) as double; one whose amount or currency
// is not the pro-forma's (or before there is one) as a mismatch, and the
// purchase keeps waiting; a second payment of a purchase already paid by
// another as double. Anything else is taken.
func Decide(a Arrival) Decision {
	waiting, late := a.waiting()
	switch {
	case late:
		return Decision{RefundLate, "paid after the " + a.Of + " was " + a.Status}
	case !waiting:
		return Decision{RefundDouble, "the " + a.Of + " was already paid"}
	case a.Due == nil:
		return Decision{RefundMismatch, "no pro-forma to pay yet"}
	case a.Amount != a.Due.Gross || a.Currency != a.Due.Currency:
		return Decision{RefundMismatch, fmt.Sprintf("%s %s does not match pro-forma %s of %s %s",
			a.Amount, a.Currency, a.Due.Number, a.Due.Gross, a.Due.Currency)}
	case a.PaidBefore:
		// The customer paid twice: the first payment settles it.
		return Decision{RefundDouble, "the order was already paid"}
	}
	return Decision{Verdict: Take}
}
