// Package workflows holds the deterministic saga code. All I/O is in package
// activities; nothing here reads the clock, random numbers or the network.
package workflows

import (
	"time"

	"github.com/officeflow/officeflow/activities"
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
)

// OrderStatusKey is the search attribute operators filter on.
var OrderStatusKey = temporal.NewSearchAttributeKeyKeyword("OrderStatus")

// WorkflowID is the one id an order's saga runs under.
func WorkflowID(orderID string) string { return "order-" + orderID }

// OrderInput starts a saga. It carries no personal data: activities read the
// customer from the database, so names and emails stay out of history.
type OrderInput struct {
	OrderID         string
	Plan            string
	Seats           int
	DomainPrefix    string
	PaymentDeadline time.Time
}

// Payment is the gateway's notification, already authenticated by the intake.
type Payment struct {
	PaymentID string
	Status    string // "completed" or "failed"
	Amount    string
	Currency  string
}

// CancelRequest asks to end an order that is not yet provisioned.
type CancelRequest struct {
	Reason string
	Actor  string
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

// Error types that retrying cannot fix.
const (
	ErrDomainTaken   = "DomainTaken"
	ErrInvalidOrder  = "InvalidOrder"
	ErrTenantAPI     = "TenantRejected"
	ErrEmailRejected = "EmailRejected"
)
