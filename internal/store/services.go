package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
)

// States of the subscription an order becomes once provisioned.
const (
	ServiceActive     = "active"
	ServiceRenewalDue = "renewal_due"
	ServiceSuspended  = "suspended"
	ServiceTerminated = "terminated"
)

// Service is the subscription of a provisioned order and its current period.
type Service struct {
	OrderID           string
	Status            string
	Reason            string
	Period            int
	PeriodStart       time.Time
	PeriodEnd         time.Time // the first day not paid for
	Seats             int
	CancelAtPeriodEnd bool
	SuspendedAt       *time.Time
	Price             money.Grosze // net per seat per month
	Months            int
	PartnerCustomer   string
	SubscriptionID    string
	BillingCycle      string
	Term              string // P1M or P1Y
}

// TermEnd is the first day after the term the current period belongs to:
// the period's end, or for a yearly term billed monthly the end of the
// term's last period. The customer is committed until then: a subscription
// cancelled mid-term ends there.
func (sv Service) TermEnd() time.Time {
	n := order.PeriodsPerTerm(sv.Term, sv.BillingCycle)
	end := sv.PeriodEnd
	for left := (n - sv.Period%n) % n; left > 0; left-- {
		end = billing.AddMonths(end, sv.Months)
	}
	return end
}

// startService makes the order's subscription at installer_ready: the first
// period runs from the day of payment (the VAT invoice's date).
func startService(ctx context.Context, tx pgx.Tx, orderID string) error {
	_, err := tx.Exec(ctx, `INSERT INTO services (order_id, status, status_reason, period, period_start, period_end, seats)
		SELECT o.order_id, 'active', 'provisioned', 1, coalesce(i.issued_at, now()::date),
			(coalesce(i.issued_at, now()::date) + make_interval(months => CASE o.billing_cycle WHEN 'annual' THEN 12 ELSE 1 END))::date, o.seats
		FROM orders o LEFT JOIN invoices i ON i.charge_id = $2 AND i.kind = 'invoice'
		WHERE o.order_id = $1
		ON CONFLICT (order_id) DO NOTHING`, orderID, OrderCharge(orderID))
	return err
}

// GetService reads an order's subscription; ErrNotFound before installer_ready.
func (s *Store) GetService(ctx context.Context, orderID string) (Service, error) {
	return serviceOf(ctx, s.db(ctx), orderID)
}

func serviceOf(ctx context.Context, q querier, orderID string) (Service, error) {
	var sv Service
	var partner, sub *string
	err := q.QueryRow(ctx, `SELECT s.order_id, s.status, s.status_reason, s.period, s.period_start, s.period_end, s.seats,
			s.cancel_at_period_end, s.suspended_at, p.price_net_grosze, o.billing_cycle, t.partner_customer,
			coalesce(o.term, CASE o.billing_cycle WHEN 'annual' THEN 'P1Y' ELSE 'P1M' END),
			(SELECT subscription_id FROM subscriptions WHERE order_id = s.order_id ORDER BY created_at LIMIT 1)
		FROM services s JOIN orders o ON o.order_id = s.order_id JOIN plans p ON p.code = o.plan
		LEFT JOIN tenants t ON t.order_id = s.order_id
		WHERE s.order_id = $1`, orderID).Scan(
		&sv.OrderID, &sv.Status, &sv.Reason, &sv.Period, &sv.PeriodStart, &sv.PeriodEnd, &sv.Seats,
		&sv.CancelAtPeriodEnd, &sv.SuspendedAt, &sv.Price, &sv.BillingCycle, &partner, &sv.Term, &sub)
	if errors.Is(err, pgx.ErrNoRows) {
		return sv, fmt.Errorf("subscription of order %s: %w", orderID, ErrNotFound)
	}
	sv.Months = order.Months(sv.BillingCycle)
	if partner != nil {
		sv.PartnerCustomer = *partner
	}
	if sub != nil {
		sv.SubscriptionID = *sub
	}
	return sv, err
}

// SetService moves the subscription to status and logs it under key; a
// second call with the same key changes nothing.
func (s *Store) SetService(ctx context.Context, orderID, key, status, reason string) error {
	return pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		_, err := setService(ctx, tx, orderID, key, status, reason)
		return err
	})
}

func setService(ctx context.Context, tx pgx.Tx, orderID, key, status, reason string) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO order_events (order_id, key, status, reason) VALUES ($1, $2, $3, $4)
		ON CONFLICT (order_id, key) DO NOTHING`, orderID, "service:"+key, "subscription_"+status, reason)
	if err != nil || tag.RowsAffected() == 0 {
		return false, err
	}
	_, err = tx.Exec(ctx, `UPDATE services SET status = $2, status_reason = $3, updated_at = now(),
			suspended_at = CASE WHEN $2 = 'suspended' THEN coalesce(suspended_at, now()) WHEN $2 = 'active' THEN NULL ELSE suspended_at END
		WHERE order_id = $1`, orderID, status, reason)
	return err == nil, err
}

// CancelAtPeriodEnd records the customer's wish to end the subscription
// when the paid period ends; it says whether this call recorded it.
func (s *Store) CancelAtPeriodEnd(ctx context.Context, orderID, actor, reason string) (Service, bool, error) {
	var sv Service
	var changed bool
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		if err := lockOrder(ctx, tx, orderID); err != nil {
			return err
		}
		var err error
		if sv, err = serviceOf(ctx, tx, orderID); errors.Is(err, ErrNotFound) {
			return ErrNotActive
		} else if err != nil {
			return err
		}
		if sv.Status == ServiceTerminated {
			return ErrNotActive
		}
		if sv.CancelAtPeriodEnd {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE services SET cancel_at_period_end = true, updated_at = now() WHERE order_id = $1`, orderID); err != nil {
			return err
		}
		sv.CancelAtPeriodEnd, changed = true, true
		return insertEvent(ctx, tx, orderID, "service:cancel_at_period_end", "subscription_"+order.Status(sv.Status),
			"ends "+sv.PeriodEnd.Format(time.DateOnly)+" at the customer's request: "+reason, actor)
	})
	return sv, changed, err
}

// FreeSeats is how many of the subscription's seats hold no licence.
func (s *Store) FreeSeats(ctx context.Context, orderID string) (int, error) {
	var free int
	err := s.db(ctx).QueryRow(ctx, `SELECT s.seats - (SELECT count(*) FROM tenant_users u
			WHERE u.order_id = s.order_id AND u.licensed AND u.status NOT IN ('failed', 'removed'))
		FROM services s WHERE s.order_id = $1`, orderID).Scan(&free)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("subscription of order %s: %w", orderID, ErrNotFound)
	}
	return max(free, 0), err
}
