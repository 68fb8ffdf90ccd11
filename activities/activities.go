// Package activities does all of the saga's I/O: PostgreSQL, SMTP and the
// tenant API. Every activity may run more than once; each one first looks for
// what an earlier attempt made, and the tenant API recognises a repeated call
// by its MS-RequestId.
package activities

import (
	"context"
	"errors"
	"time"

	"github.com/officeflow/officeflow/internal/dnscheck"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/gateway"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/internal/tenant"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// Activities holds the dependencies of every activity.
type Activities struct {
	Store           *store.Store
	Tenant          *tenant.Client
	Mail            *mail.Sender
	Box             *secret.Box
	BillingPanelURL string
	// Location is where invoice dates are counted; Poland for Polish VAT.
	Location *time.Location
	// DNS checks the customer's own domains.
	DNS *dnscheck.Checker
	// StartSubscription starts the order's subscription workflow at
	// installer_ready, once; nil starts none.
	StartSubscription func(ctx context.Context, o store.Order, period int, periodEnd time.Time) error
	// Gateway is Przelewy24, nil when none is configured.
	Gateway *gateway.Gateway
	// KSeF sends VAT invoices and corrections to KSeF; nil when KSEF_MODE
	// is off. StartKSeF starts a document's KSeF workflow, once.
	KSeF      *KSeF
	StartKSeF func(ctx context.Context, documentID int64, orderID string) error
}

// Invoice is what the saga keeps of the pro-forma; money is formatted.
type Invoice struct {
	Number   string
	Net      money.Grosze
	VAT      money.Grosze
	Gross    money.Grosze
	Currency string
	DueDate  string
}

// Tenant is what the saga keeps of the tenant: no credentials.
type Tenant struct {
	TenantID  string
	Domain    string
	AdminUser string
}

// Recorded is what recording a placement came to.
type Recorded struct {
	Outcome string // order.OutcomePlaced, OutcomeDomainTaken or OutcomeConflict
	// Created: this call recorded the order; false for one found recorded
	// with the same request.
	Created  bool
	Status   order.Status // the order's status as found
	PlacedAt time.Time
	Deadline time.Time
	// Run is the workflow run that recorded the order ("" before runs were
	// kept): the caller's own run when an earlier attempt of its task did.
	Run string `json:",omitempty"`
}

// RecordOrder records the placement the order's workflow was given: the
// customer, the order and its domain reservation, in one transaction. A
// taken domain or an id placed with another request is an outcome, not an
// error: nothing is written for either.
func (a *Activities) RecordOrder(ctx context.Context, p order.Placement) (Recorded, error) {
	r := p.Request
	r.Shop = p.Shop
	run := ""
	if activity.IsActivity(ctx) { // not when the intake's tests call it inline
		run = activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	pl, err := a.Store.PlaceOrderAt(ctx, r, p.PlacedAt, p.Deadline, run)
	switch {
	case errors.Is(err, store.ErrDomainReserved):
		return Recorded{Outcome: order.OutcomeDomainTaken}, nil
	case errors.Is(err, store.ErrConflict):
		return Recorded{Outcome: order.OutcomeConflict}, nil
	case err != nil:
		return Recorded{}, dbError(err)
	}
	return Recorded{Outcome: order.OutcomePlaced, Created: pl.Created, Status: pl.Status, PlacedAt: pl.PlacedAt, Deadline: pl.Deadline, Run: pl.Run}, nil
}

// FindPlacement reads the order as recorded, for a workflow that has no
// placement: the update that carried it is lost when the task that
// recorded it dies (the worker killed inside its first task), and the
// shop's repeat is answered from the database without it. Outcome is ""
// when nothing was recorded under the id.
func (a *Activities) FindPlacement(ctx context.Context, orderID string) (Recorded, error) {
	pl, err := a.Store.PlacedOrder(ctx, orderID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Recorded{}, nil
	case err != nil:
		return Recorded{}, dbError(err)
	}
	return Recorded{Outcome: order.OutcomePlaced, Status: pl.Status, PlacedAt: pl.PlacedAt, Deadline: pl.Deadline, Run: pl.Run}, nil
}

// OpenBilling gives the order its billing account and pro-forma invoice.
func (a *Activities) OpenBilling(ctx context.Context, orderID string) (Invoice, error) {
	token := a.Box.Token(secret.PurposeBilling, orderID)
	b, err := a.Store.OpenBilling(ctx, orderID, secret.Hash(token), time.Now().In(a.loc()))
	if err != nil {
		return Invoice{}, dbError(err)
	}
	return invoiceOf(b.Invoice), nil
}

func invoiceOf(inv store.Invoice) Invoice {
	out := Invoice{Number: inv.Number, Net: inv.Net, VAT: inv.VAT, Gross: inv.Gross, Currency: inv.Currency}
	if inv.DueDate != nil {
		out.DueDate = inv.DueDate.Format(time.DateOnly)
	}
	return out
}

// Transition records a status that needs no other write.
func (a *Activities) Transition(ctx context.Context, orderID string, status order.Status, reason string) error {
	return dbError(a.Store.Transition(ctx, orderID, status, reason))
}

// MarkPaid settles the pro-forma and moves the order to provisioning.
func (a *Activities) MarkPaid(ctx context.Context, orderID, paymentID string) error {
	// The VAT invoice is issued with the payment, dated in Poland: the
	// order is its order charge, settled like every later charge.
	fv, err := a.Store.SettleCharge(ctx, store.OrderCharge(orderID), paymentID, time.Now().In(a.loc()))
	if err != nil {
		return dbError(err)
	}
	return a.toKSeF(ctx, fv)
}

// CancelOrder voids the pro-forma, revokes billing access and cancels.
func (a *Activities) CancelOrder(ctx context.Context, orderID, reason string) error {
	return dbError(a.Store.CancelOrder(ctx, orderID, reason))
}

// RecordRefund marks the payment for refund and ends the order refunded.
func (a *Activities) RecordRefund(ctx context.Context, orderID, reason string) error {
	return dbError(a.Store.RecordRefund(ctx, orderID, reason))
}

// FinishInstaller ends the happy path and returns where the customer starts.
func (a *Activities) FinishInstaller(ctx context.Context, orderID string) (string, error) {
	var url string
	o, sv, err := a.Store.FinishOrder(ctx, orderID, func(o store.Order) (string, error) {
		plan, ok := order.PlanByCode(o.Plan)
		if !ok {
			return "", temporal.NewNonRetryableApplicationError("plan "+o.Plan+" is not on sale", fail.InvalidOrder, nil)
		}
		url = plan.InstallerURL()
		return url, nil
	})
	if err != nil {
		return "", dbError(err)
	}
	if a.StartSubscription != nil {
		if err := a.StartSubscription(ctx, o, sv.Period, a.midnight(sv.PeriodEnd)); err != nil {
			return "", err
		}
	}
	return url, nil
}

func (a *Activities) loc() *time.Location {
	if a.Location != nil {
		return a.Location
	}
	return time.UTC
}

// dbError makes a missing row final: retrying will not create it. Anything
// else (a lost connection, a serialization failure) is retried.
func dbError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return temporal.NewNonRetryableApplicationError(err.Error(), fail.InvalidOrder, err)
	}
	return err
}
