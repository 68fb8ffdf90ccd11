// Package workflows holds the deterministic saga code. All I/O is in package
// activities; nothing here reads the clock, random numbers or the network.
package workflows

import (
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"go.temporal.io/sdk/temporal"
)

// Names callers outside the worker use.
const (
	OrderWorkflowName = "OrderWorkflow"
	SignalPayment     = "payment"
	UpdateCancel      = "cancel"
	QueryStatus       = "status"
	QueryTimeline     = "timeline"

	// Operator decisions for an order in needs_attention.
	UpdateRetryCompensation = "retry_compensation"
	UpdateResolve           = "resolve"

	// Operator actions on a running order.
	UpdateMarkPaid          = "mark_paid"
	UpdateExtendDeadline    = "extend_deadline"
	UpdateRetryProvisioning = "retry_provisioning"
)

// ManualPayment is a payment an operator saw by hand (a bank transfer).
type ManualPayment struct {
	Actor     string
	Reason    string
	Reference string // the bank's reference of the transfer
}

// Extension moves the payment deadline later.
type Extension struct {
	Actor  string
	Reason string
	Until  time.Time
}

// changeCompensation marks runs that keep an undo stack, send reminders and
// can wait in needs_attention; older runs replay the code they began with.
const changeCompensation = "compensation-stack"

// Undo steps, registered as the saga makes things and run in reverse.
const (
	UndoReleaseReservation   = "release_reservation"
	UndoRevokeBilling        = "revoke_billing"
	UndoVoidInvoice          = "void_invoice"
	UndoRefundPayment        = "refund_payment"
	UndoSuspendSubscriptions = "suspend_subscriptions"
)

// Search attributes operators filter on in the Web UI. They carry no
// personal data beyond the domain.
var (
	OrderStatusKey    = temporal.NewSearchAttributeKeyKeyword("OrderStatus")
	PlanKey           = temporal.NewSearchAttributeKeyKeyword("Plan")
	CustomerDomainKey = temporal.NewSearchAttributeKeyKeyword("CustomerDomain")
	SeatsKey          = temporal.NewSearchAttributeKeyInt64("Seats")
	PaidAtKey         = temporal.NewSearchAttributeKeyTime("PaidAt")
	InvoiceNumberKey  = temporal.NewSearchAttributeKeyKeyword("InvoiceNumber")
)

// StartAttributes are the search attributes an order's run starts with.
func StartAttributes(in OrderInput) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		OrderStatusKey.ValueSet("placed"),
		PlanKey.ValueSet(in.Plan),
		CustomerDomainKey.ValueSet(in.DomainPrefix+".onmicrosoft.com"),
		SeatsKey.ValueSet(int64(in.Seats)),
	)
}

// WorkflowID is the one id an order's saga runs under.
func WorkflowID(orderID string) string { return order.WorkflowID(orderID) }

// OrderInput starts a saga. It carries no personal data: activities read the
// customer from the database, so names and emails stay out of history.
type OrderInput struct {
	OrderID         string
	Plan            string
	Seats           int
	DomainPrefix    string
	PaymentDeadline time.Time
	// Reminders are when payment reminders go out (see order.ReminderTimes).
	Reminders []time.Time `json:",omitempty"`
}

// Payment is the gateway's notification, already authenticated by the intake.
type Payment struct {
	PaymentID string
	Status    string // "completed" or "failed"
	Amount    money.Grosze
	Currency  string
	// ChargeID names the later purchase paid for; empty for the order's own.
	ChargeID string `json:",omitempty"`
}

// CancelRequest asks to end an order that is not yet provisioned.
type CancelRequest struct {
	Reason string
	Actor  string
}

// Decision is an operator's answer to an order in needs_attention: retry
// the compensation, or resolve it (the rest was done by hand).
type Decision struct {
	Actor  string
	Reason string
	action string
}

// StatusView answers the status query.
type StatusView struct {
	OrderID    string
	Status     order.Status
	Reason     string
	Invoice    *activities.Invoice
	TenantID   string
	Domain     string
	WaitingFor string
	Until      *time.Time
	// Undo lists the undo steps compensation would run, next first.
	Undo []string `json:",omitempty"`
}

// TimelineEntry is one transition.
type TimelineEntry struct {
	Status order.Status
	At     time.Time
	Reason string
}

// Result is how a saga ended.
type Result struct {
	Status order.Status
	Reason string
}

// Error types that retrying cannot fix: the names of package fail, which
// activities raise and the intake reads, under the names workflow code uses.
const (
	ErrDomainTaken    = fail.DomainTaken
	ErrInvalidOrder   = fail.InvalidOrder
	ErrTenantAPI      = fail.TenantRejected
	ErrEmailRejected  = fail.EmailRejected
	ErrNotCancellable = fail.NotCancellable
)
