package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
)

// ErrConflict is returned when an order id is reused for a different order.
var ErrConflict = errors.New("order id already used for a different order")

// ErrDomainReserved is returned when another live order holds the domain prefix.
var ErrDomainReserved = errors.New("domain prefix is held by another order")

// Order is an order with what the API shows of it.
type Order struct {
	ID       string
	Shop     string
	Status   order.Status
	Reason   string
	Plan     string
	PlanName string
	OfferID  string // the plan's offer at the tenant API, read with the order
	// Subscribed: the order has its subscription to OfferID (the tenant
	// API's order for it went through and was saved).
	Subscribed      bool
	Seats           int
	BillingCycle    string
	DomainPrefix    string
	Language        string
	InstallerURL    string
	PaymentDeadline time.Time
	PlacedAt        time.Time
	UpdatedAt       time.Time
	Customer        order.Customer
	// AdminLicence: the tenant's first admin is to get one of the plan's
	// licences (the order did not say "admin_licence": false).
	AdminLicence bool
	// AdminLicensed: the tenant's first admin is recorded as a licensed
	// user (AssignAdminLicence did it), read with the order so that the
	// steps that ask need no second round trip.
	AdminLicensed bool
	// Term is the subscription's term at Microsoft, "P1M" or "P1Y".
	Term string
	// Agreement is who accepted the Microsoft Customer Agreement, and when.
	Agreement order.Agreement
	Invoice   *Invoice
	TenantID  string
	Domain    string
	Tenant    *Tenant // nil until the tenant is made
}

// Invoice is one billing document.
type Invoice struct {
	ID       int64
	Kind     string
	Number   string
	Status   string
	Net      money.Grosze
	VAT      money.Grosze
	Gross    money.Grosze
	Currency string
	// VATCode is the document's VAT rate as FA(3) writes it:
	// billing.VATCodeStandard ("23"), VATCodeEUService ("np II", reverse
	// charge) or VATCodeOutside ("np I"); billing.VATLabel prints it.
	VATCode  string
	IssuedAt time.Time
	DueDate  *time.Time
	ChargeID string // the later purchase it bills; "" for the order's own

	// ksefOrder is the order of a document this value's call issued with
	// its KSeF row, pending (issue); "" for one read or found issued.
	ksefOrder string
}

// NewInKSeF is the order whose KSeF workflow must send the document, when
// the call that returned it issued it just now with its KSeF row pending:
// the step that starts that workflow need not read the row back. False for
// a document read or found issued (a retried step), whose row must be read.
func (i Invoice) NewInKSeF() (orderID string, ok bool) {
	return i.ksefOrder, i.ksefOrder != ""
}

// Event is one line of an order's log.
type Event struct {
	Key    string
	Status order.Status
	Reason string
	Actor  string
	At     time.Time
}

// Placed is what the intake answers for an order, the first time and on
// every repeat.
type Placed struct {
	Created  bool
	Status   order.Status
	PlacedAt time.Time
	Deadline time.Time
	// Run is the workflow run that recorded the order; "" for one recorded
	// before runs were kept, or without one.
	Run string
}

// PlaceOrder records a validated, normalized request placed now; see
// PlaceOrderAt.
func (s *Store) PlaceOrder(ctx context.Context, r order.Request, deadline time.Time) (Placed, error) {
	return s.PlaceOrderAt(ctx, r, time.Now(), deadline, "")
}

// PlaceOrderAt records a validated, normalized request placed at placedAt,
// as the order's workflow does with what the intake computed. Created is
// false when the same request was placed before; a different request under
// the same id is ErrConflict. run is the workflow run recording it, kept
// so that a retried task of that run knows the order for its own.
func (s *Store) PlaceOrderAt(ctx context.Context, r order.Request, placedAt, deadline time.Time, run string) (Placed, error) {
	hash := r.Hash()
	var p Placed
	// A new order takes four round trips: BEGIN, customer and order in one
	// statement, reservation and first event in one batch, COMMIT. A repeat
	// or a conflict finds no order row inserted, rolls back (the customer row
	// made with it too) and compares with what is stored.
	//
	// Each order gets a customer row of its own, as the order named it: a
	// customer is never looked up or rewritten by email, so a later order with
	// the same address, from this shop or another, cannot change the buyer of
	// an earlier one (issue 15, finding 2; migration 0006).
	ag := r.Agreement(placedAt)
	err := pgx.BeginFunc(ctx, s.db(ctx), func(tx pgx.Tx) error {
		c := r.Customer
		err := tx.QueryRow(ctx, `
			WITH c AS (
				INSERT INTO customers (email, company, first_name, last_name, tax_id, country, city, postal_code, address_line1)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
				RETURNING id)
			INSERT INTO orders (order_id, request_hash, shop, customer_id, plan, seats, billing_cycle, domain_prefix, language, status, payment_deadline, placed_at, placed_by_run, admin_licence,
				term, mca_first_name, mca_last_name, mca_email, mca_accepted_at, mca_from_order)
			SELECT $10, $11, $12, c.id, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28 FROM c
			ON CONFLICT (order_id) DO NOTHING
			RETURNING placed_at, payment_deadline`,
			c.Email, c.Company, c.FirstName, c.LastName, c.TaxID, c.Country, c.City, c.PostalCode, c.AddressLine1,
			r.OrderID, hash, r.Shop, r.Plan, r.Seats, r.BillingCycle, r.DomainPrefix, r.Language, order.Placed, deadline, placedAt, run, r.WantsAdminLicence(),
			r.TermDuration(), ag.FirstName, ag.LastName, ag.Email, ag.AcceptedAt, ag.FromOrder,
		).Scan(&p.PlacedAt, &p.Deadline)
		if errors.Is(err, pgx.ErrNoRows) {
			return errExists
		}
		if err != nil {
			return err
		}
		b := &pgx.Batch{}
		b.Queue(`INSERT INTO domain_reservations (domain_prefix, order_id) VALUES ($1, $2) ON CONFLICT (domain_prefix) DO NOTHING`,
			r.DomainPrefix, r.OrderID)
		b.Queue(`INSERT INTO order_events (order_id, key, status, reason, actor) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (order_id, key) DO NOTHING`, r.OrderID, string(order.Placed), order.Placed, "order accepted", "intake")
		res := tx.SendBatch(ctx, b)
		tag, err := res.Exec()
		if err != nil {
			res.Close()
			return err
		}
		if _, err := res.Exec(); err != nil {
			res.Close()
			return err
		}
		if err := res.Close(); err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrDomainReserved
		}
		p.Created, p.Status, p.Run = true, order.Placed, run
		return nil
	})
	if !errors.Is(err, errExists) {
		return p, err
	}
	return s.Placement(ctx, r)
}

// errExists rolls back a placement whose order id is taken.
var errExists = errors.New("order exists")

// Placement reads what was placed under r's order id, read only: the answer
// to a repeat of r (Created false), ErrConflict when another request (or
// another shop) has the id, ErrNotFound when nothing was placed under it.
func (s *Store) Placement(ctx context.Context, r order.Request) (Placed, error) {
	p, hash, shop, err := s.placed(ctx, r.OrderID)
	if err == nil && (!bytes.Equal(hash, r.Hash()) || shop != r.Shop) {
		return p, ErrConflict
	}
	return p, err
}

// PlacedOrder reads how the order was placed, ErrNotFound when it was not:
// its workflow, whose placement was lost with a task that died after
// recording it, finds its own order by the run kept with it.
func (s *Store) PlacedOrder(ctx context.Context, orderID string) (Placed, error) {
	p, _, _, err := s.placed(ctx, orderID)
	return p, err
}

func (s *Store) placed(ctx context.Context, orderID string) (p Placed, hash []byte, shop string, err error) {
	err = s.db(ctx).QueryRow(ctx, `SELECT request_hash, shop, status, placed_at, payment_deadline, placed_by_run FROM orders WHERE order_id = $1`, orderID).
		Scan(&hash, &shop, &p.Status, &p.PlacedAt, &p.Deadline, &p.Run)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	return p, hash, shop, err
}

// GetOrder reads an order with its pro-forma invoice and tenant, in one
// round trip.
func (s *Store) GetOrder(ctx context.Context, orderID string) (Order, error) {
	o, _, err := readOrder(ctx, s.db(ctx), orderID, "")
	return o, err
}

// OrderForEmail is GetOrder for an email of kind key, and whether that
// email was sent already: what SendEmail needs, in one round trip.
func (s *Store) OrderForEmail(ctx context.Context, orderID, key string) (Order, bool, error) {
	return readOrder(ctx, s.db(ctx), orderID, key)
}

func readOrder(ctx context.Context, q querier, orderID, emailKey string) (Order, bool, error) {
	var o Order
	var c = &o.Customer
	var t Tenant
	var tenantID, domain, partner, admin *string
	var inv Invoice
	var invID *int64
	var invKind, invNumber, invStatus, invCurrency, invVATCode *string
	var invNet, invVAT, invGross *money.Grosze
	var invIssued *time.Time
	var sent bool
	var term, mcaFirst, mcaLast, mcaEmail *string
	var mcaAt *time.Time
	var mcaFromOrder *bool
	err := q.QueryRow(ctx, `
		SELECT o.order_id, o.shop, o.status, o.status_reason, o.plan, p.name, p.offer_id, o.seats, o.billing_cycle, o.domain_prefix, o.language,
			o.installer_url, o.payment_deadline, o.placed_at, o.updated_at, o.admin_licence,
			o.term, o.mca_first_name, o.mca_last_name, o.mca_email, o.mca_accepted_at, o.mca_from_order,
			c.company, c.email, c.first_name, c.last_name, c.tax_id, c.country, c.city, c.postal_code, c.address_line1,
			t.partner_customer, t.tenant_id, t.domain, t.admin_user, t.password_sealed,
			i.id, i.kind, i.number, i.status, i.net_grosze, i.vat_grosze, i.gross_grosze, i.currency, i.issued_at, i.due_date, i.vat_code,
			EXISTS (SELECT 1 FROM sent_emails e WHERE e.order_id = o.order_id AND e.key = $2),
			EXISTS (SELECT 1 FROM subscriptions s WHERE s.order_id = o.order_id AND s.offer_id = p.offer_id),
			EXISTS (SELECT 1 FROM tenant_users u WHERE u.order_id = o.order_id AND u.user_name = lower(t.admin_user) AND u.licensed)
		FROM orders o JOIN customers c ON c.id = o.customer_id JOIN plans p ON p.code = o.plan
		LEFT JOIN tenants t ON t.order_id = o.order_id
		LEFT JOIN invoices i ON i.charge_id = $3 AND i.kind = 'proforma'
		WHERE o.order_id = $1`, orderID, emailKey, OrderCharge(orderID)).Scan(
		&o.ID, &o.Shop, &o.Status, &o.Reason, &o.Plan, &o.PlanName, &o.OfferID, &o.Seats, &o.BillingCycle, &o.DomainPrefix, &o.Language,
		&o.InstallerURL, &o.PaymentDeadline, &o.PlacedAt, &o.UpdatedAt, &o.AdminLicence,
		&term, &mcaFirst, &mcaLast, &mcaEmail, &mcaAt, &mcaFromOrder,
		&c.Company, &c.Email, &c.FirstName, &c.LastName, &c.TaxID, &c.Country, &c.City, &c.PostalCode, &c.AddressLine1,
		&partner, &tenantID, &domain, &admin, &t.PasswordSealed,
		&invID, &invKind, &invNumber, &invStatus, &invNet, &invVAT, &invGross, &invCurrency, &invIssued, &inv.DueDate, &invVATCode,
		&sent, &o.Subscribed, &o.AdminLicensed)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, false, ErrNotFound
	}
	if err != nil {
		return o, false, err
	}
	o.Term = order.DefaultTerm(o.BillingCycle)
	if term != nil {
		o.Term = *term
	}
	// An order placed before migration 0016 recorded no acceptance: its
	// contact accepted at placement.
	o.Agreement = order.Agreement{FirstName: c.FirstName, LastName: c.LastName, Email: c.Email, AcceptedAt: o.PlacedAt.UTC()}
	if mcaEmail != nil && mcaFirst != nil && mcaLast != nil && mcaAt != nil {
		o.Agreement = order.Agreement{FirstName: *mcaFirst, LastName: *mcaLast, Email: *mcaEmail, AcceptedAt: mcaAt.UTC(),
			FromOrder: mcaFromOrder != nil && *mcaFromOrder}
	}
	if tenantID != nil {
		t.OrderID, t.PartnerCustomer, t.TenantID, t.Domain, t.AdminUser = o.ID, *partner, *tenantID, *domain, *admin
		o.TenantID, o.Domain, o.Tenant = t.TenantID, t.Domain, &t
	}
	if invID != nil {
		inv.ID, inv.Kind, inv.Number, inv.Status, inv.Currency = *invID, *invKind, *invNumber, *invStatus, *invCurrency
		inv.Net, inv.VAT, inv.Gross, inv.IssuedAt, inv.VATCode = *invNet, *invVAT, *invGross, *invIssued, *invVATCode
		o.Invoice = &inv
	}
	return o, sent, nil
}

// Events lists an order's log, oldest first.
func (s *Store) Events(ctx context.Context, orderID string) ([]Event, error) {
	rows, err := s.db(ctx).Query(ctx, `SELECT key, status, reason, actor, at FROM order_events WHERE order_id = $1 ORDER BY id`, orderID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Event, error) {
		var e Event
		err := r.Scan(&e.Key, &e.Status, &e.Reason, &e.Actor, &e.At)
		return e, err
	})
}

// Transition moves an order to status and logs it under key; a second call
// with the same key changes nothing. It is transition on its own: one
// statement, so one round trip and one transaction.
func (s *Store) Transition(ctx context.Context, orderID string, status order.Status, reason string) error {
	_, err := transition(ctx, s.db(ctx), orderID, string(status), status, reason)
	return err
}

// transition writes the event first: only the call that inserted it moves the
// status, so a retry after a later step cannot move the order back. One
// statement (instead of lock, event, status apart): the row lock orders
// concurrent transitions of one order, and a missing order is ErrNotFound
// (final) rather than a foreign key error (retried).
func transition(ctx context.Context, q querier, orderID, key string, status order.Status, reason string) (bool, error) {
	var found, moved bool
	err := q.QueryRow(ctx, `WITH o AS (SELECT order_id FROM orders WHERE order_id = $1 FOR UPDATE),
		ev AS (INSERT INTO order_events (order_id, key, status, reason) SELECT order_id, $2, $3, $4 FROM o
			ON CONFLICT (order_id, key) DO NOTHING RETURNING order_id),
		moved AS (UPDATE orders SET status = $3, status_reason = $4, updated_at = now() WHERE order_id IN (SELECT order_id FROM ev))
		SELECT EXISTS (SELECT 1 FROM o), EXISTS (SELECT 1 FROM ev)`, orderID, key, string(status), reason).Scan(&found, &moved)
	if err == nil && !found {
		return false, fmt.Errorf("order %s: %w", orderID, ErrNotFound)
	}
	return moved, err
}

func insertEvent(ctx context.Context, tx pgx.Tx, orderID, key string, status order.Status, reason, actor string) error {
	_, err := tx.Exec(ctx, `INSERT INTO order_events (order_id, key, status, reason, actor) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (order_id, key) DO NOTHING`, orderID, key, status, reason, actor)
	return err
}
