package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/order"
)

// Tenant is the Microsoft 365 customer made for an order.
type Tenant struct {
	OrderID         string
	PartnerCustomer string
	TenantID        string
	Domain          string
	AdminUser       string
	PasswordSealed  []byte
}

// SaveTenant records the tenant once; a second call returns the first. One
// statement: the insert, or else the row already there. A row a concurrent
// call has not committed yet is not in the statement's snapshot, so that
// case reads it again.
func (s *Store) SaveTenant(ctx context.Context, t Tenant) (Tenant, error) {
	saved := Tenant{OrderID: t.OrderID}
	err := s.db(ctx).QueryRow(ctx, `WITH ins AS (
			INSERT INTO tenants (order_id, partner_customer, tenant_id, domain, admin_user, password_sealed)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (order_id) DO NOTHING
			RETURNING partner_customer, tenant_id, domain, admin_user, password_sealed)
		SELECT * FROM ins
		UNION ALL
		SELECT partner_customer, tenant_id, domain, admin_user, password_sealed FROM tenants
		WHERE order_id = $1 AND NOT EXISTS (SELECT 1 FROM ins)`,
		t.OrderID, t.PartnerCustomer, t.TenantID, t.Domain, t.AdminUser, t.PasswordSealed).
		Scan(&saved.PartnerCustomer, &saved.TenantID, &saved.Domain, &saved.AdminUser, &saved.PasswordSealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return s.Tenant(ctx, t.OrderID)
	}
	return saved, err
}

// Tenant reads an order's tenant.
func (s *Store) Tenant(ctx context.Context, orderID string) (Tenant, error) {
	t := Tenant{OrderID: orderID}
	err := s.db(ctx).QueryRow(ctx, `SELECT partner_customer, tenant_id, domain, admin_user, password_sealed FROM tenants WHERE order_id = $1`,
		orderID).Scan(&t.PartnerCustomer, &t.TenantID, &t.Domain, &t.AdminUser, &t.PasswordSealed)
	if errors.Is(err, pgx.ErrNoRows) {
		return t, ErrNotFound
	}
	return t, err
}

// Subscription is a plan's subscription at the tenant.
type Subscription struct {
	ID       string
	OrderID  string
	OfferID  string
	Quantity int
	Status   string
}

// SaveSubscription records a subscription once per order and offer.
func (s *Store) SaveSubscription(ctx context.Context, sub Subscription) (Subscription, error) {
	// One statement: the row inserted now, or (the insert doing nothing)
	// the one kept, which the statement's snapshot sees.
	got := Subscription{OrderID: sub.OrderID, OfferID: sub.OfferID}
	err := s.db(ctx).QueryRow(ctx, `WITH ins AS (
			INSERT INTO subscriptions (subscription_id, order_id, offer_id, quantity, status)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (order_id, offer_id) DO NOTHING
			RETURNING subscription_id, quantity, status)
		SELECT subscription_id, quantity, status FROM ins
		UNION ALL
		SELECT subscription_id, quantity, status FROM subscriptions WHERE order_id = $2 AND offer_id = $3 AND NOT EXISTS (SELECT 1 FROM ins)`,
		sub.ID, sub.OrderID, sub.OfferID, sub.Quantity, sub.Status).Scan(&got.ID, &got.Quantity, &got.Status)
	return got, err
}

// Subscriptions lists an order's subscriptions.
func (s *Store) Subscriptions(ctx context.Context, orderID string) ([]Subscription, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT subscription_id, order_id, offer_id, quantity, status FROM subscriptions WHERE order_id = $1 ORDER BY created_at`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Subscription])
}

// RecordEmail notes that an email left and reports whether this call
// recorded it (false: it was recorded before). With forgetPassword, the
// sealed temporary password is dropped with it: once the customer has it,
// we keep no copy. Inside InTx it is the claim made before the message
// goes, committed only with the send.
func (s *Store) RecordEmail(ctx context.Context, orderID, key, recipient, messageID string, forgetPassword bool) (bool, error) {
	// One statement, so one round trip: the insert and the update commit
	// together or not at all.
	var recorded bool
	err := s.db(ctx).QueryRow(ctx, `WITH sent AS (
			INSERT INTO sent_emails (order_id, key, recipient, message_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT (order_id, key) DO NOTHING RETURNING 1),
		forget AS (UPDATE tenants SET password_sealed = NULL WHERE order_id = $1 AND $5)
		SELECT EXISTS (SELECT 1 FROM sent)`, orderID, key, recipient, messageID, forgetPassword).Scan(&recorded)
	return recorded, err
}

// FinishOrder ends the happy path: the order is installer_ready with the
// link the customer starts from, chosen by link from the order as read in
// the same transaction. It returns that order, for what starts its
// subscription, and the subscription the order goes on as. One
// transaction for the step.
func (s *Store) FinishOrder(ctx context.Context, orderID string, link func(Order) (string, error)) (Order, Service, error) {
	var o Order
	var sv Service
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		var err error
		if o, _, err = readOrder(ctx, tx, orderID, ""); err != nil {
			return err
		}
		installerURL, err := link(o)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE orders SET installer_url = $2 WHERE order_id = $1`, orderID, installerURL); err != nil {
			return err
		}
		if _, err := transition(ctx, tx, orderID, string(order.InstallerReady), order.InstallerReady, "installer ready: "+installerURL); err != nil {
			return err
		}
		// The order goes on as a subscription from here.
		if err := startService(ctx, tx, orderID); err != nil {
			return err
		}
		sv, err = serviceOf(ctx, tx, orderID)
		return err
	})
	return o, sv, err
}

// MarkSubscription records a subscription's state at the tenant.
func (s *Store) MarkSubscription(ctx context.Context, orderID, subscriptionID, status string) error {
	_, err := s.db(ctx).Exec(ctx, `UPDATE subscriptions SET status = $3 WHERE order_id = $1 AND subscription_id = $2`, orderID, subscriptionID, status)
	return err
}
