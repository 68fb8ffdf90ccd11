package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// Migration 0007: orders billed before it get their order charge, and
// their own documents name it; reads, settle and void then find them by it.
func TestMigrationGivesEachBilledOrderItsOrderCharge(t *testing.T) {
	ctx := context.Background()
	u, conn := databaseBefore(t, 7)
	_, err := conn.Exec(ctx, `
		INSERT INTO customers (id, email, company, first_name, last_name, tax_id, country, city, postal_code, address_line1)
			VALUES (1, 'a@acme.pl', 'Acme', 'Jan', 'Kowalski', '', 'PL', 'Warszawa', '00-001', 'ul. Prosta 1'),
			       (2, 'b@acme.pl', 'Acme', 'Jan', 'Kowalski', '', 'PL', 'Warszawa', '00-001', 'ul. Prosta 1'),
			       (3, 'c@acme.pl', 'Acme', 'Jan', 'Kowalski', '', 'PL', 'Warszawa', '00-001', 'ul. Prosta 1'),
			       (4, 'd@acme.pl', 'Acme', 'Jan', 'Kowalski', '', 'PL', 'Warszawa', '00-001', 'ul. Prosta 1');
		INSERT INTO orders (order_id, request_hash, shop, customer_id, plan, seats, billing_cycle, domain_prefix, language, status, payment_deadline)
			VALUES ('waits', '', 'a', 1, 'business-standard', 5, 'monthly', 'waits', 'pl', 'awaiting_payment', now() + interval '7 days'),
			       ('paid', '', 'a', 2, 'business-standard', 2, 'annual', 'paid', 'pl', 'installer_ready', now()),
			       ('gone', '', 'a', 3, 'business-standard', 5, 'monthly', 'gone', 'pl', 'cancelled', now()),
			       ('new', '', 'a', 4, 'business-standard', 5, 'monthly', 'new', 'pl', 'placed', now());
		INSERT INTO payments (payment_id, order_id, status, amount_grosze, currency) VALUES ('p-paid', 'paid', 'completed', 123, 'PLN');
		INSERT INTO invoices (order_id, kind, number, net_grosze, vat_grosze, gross_grosze, status, issued_at, due_date, refers_to, payment_id,
				buyer_name, buyer_address, buyer_postal_code, buyer_city, buyer_country, buyer_tax_id)
			VALUES ('waits', 'proforma', 'PF/2020/000001', 100, 23, 123, 'unpaid', '2020-01-01', '2020-01-08', NULL, NULL, 'Acme', 'ul. Prosta 1', '00-001', 'Warszawa', 'PL', ''),
			       ('paid', 'proforma', 'PF/2020/000002', 100, 23, 123, 'paid', '2020-01-01', '2020-01-08', NULL, NULL, 'Acme', 'ul. Prosta 1', '00-001', 'Warszawa', 'PL', ''),
			       ('gone', 'proforma', 'PF/2020/000003', 100, 23, 123, 'void', '2020-01-01', '2020-01-08', NULL, NULL, 'Acme', 'ul. Prosta 1', '00-001', 'Warszawa', 'PL', '');
		INSERT INTO invoices (order_id, kind, number, net_grosze, vat_grosze, gross_grosze, status, issued_at, refers_to, payment_id,
				buyer_name, buyer_address, buyer_postal_code, buyer_city, buyer_country, buyer_tax_id)
			SELECT 'paid', 'invoice', 'FV/2020/000001', 100, 23, 123, 'paid', '2020-01-02', id, 'p-paid', 'Acme', 'ul. Prosta 1', '00-001', 'Warszawa', 'PL', ''
			FROM invoices WHERE number = 'PF/2020/000002';
		SELECT setval('customers_id_seq', 4)`)
	require.NoError(t, err)

	s, err := store.Open(ctx, u)
	require.NoError(t, err)
	defer s.Close()
	status := func(id string) string {
		var st string
		require.NoError(t, s.Pool.QueryRow(ctx, `SELECT status FROM charges WHERE id = $1 AND kind = 'order'`, id).Scan(&st))
		return st
	}
	require.Equal(t, "awaiting_payment", status("waits:order"))
	require.Equal(t, "paid", status("paid:order"))
	require.Equal(t, "cancelled", status("gone:order"))
	var n int
	require.NoError(t, s.Pool.QueryRow(ctx, `SELECT count(*) FROM charges WHERE order_id = 'new'`).Scan(&n))
	require.Equal(t, 0, n, "an order not billed yet gets its charge from OpenBilling")
	require.NoError(t, s.Pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE charge_id IS NULL`).Scan(&n))
	require.Equal(t, 0, n, "every document names its charge")
	require.NoError(t, s.Pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE charge_id = order_id || ':order'`).Scan(&n))
	require.Equal(t, 4, n)

	// The order's documents read as its own, and the new code settles and
	// voids them by the order charge.
	docs, err := s.Documents(ctx, "paid")
	require.NoError(t, err)
	require.Len(t, docs, 2)
	for _, d := range docs {
		require.Equal(t, "", d.ChargeID)
	}
	o, err := s.GetOrder(ctx, "waits")
	require.NoError(t, err)
	require.NotNil(t, o.Invoice)
	require.Equal(t, "PF/2020/000001", o.Invoice.Number)
	kor, err := s.VoidInvoice(ctx, "paid", "tenant failed", time.Date(2020, 1, 3, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, "KOR/2020/000001", kor.Number, "the paid order's VAT invoice is corrected")
	kor, err = s.VoidInvoice(ctx, "waits", "deadline passed", time.Date(2020, 1, 9, 0, 0, 0, 0, time.UTC))
	require.NoError(t, err)
	require.Equal(t, store.Invoice{}, kor, "the unpaid one's pro-forma is only void")
	require.NoError(t, s.Pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE order_id = 'waits' AND status = 'void'`).Scan(&n))
	require.Equal(t, 1, n)
	_, err = s.Pool.Exec(ctx, `INSERT INTO invoices (order_id, kind, number, net_grosze, vat_grosze, gross_grosze, status, issued_at,
			buyer_name, buyer_address, buyer_postal_code, buyer_city, buyer_country, buyer_tax_id)
		VALUES ('new', 'proforma', 'PF/2020/000009', 100, 23, 123, 'unpaid', '2020-01-03', 'Acme', 'ul. Prosta 1', '00-001', 'Warszawa', 'PL', '')`)
	require.Error(t, err, "no document without its charge")
}

// databaseBefore is a new database with the migrations before v applied,
// and a connection to it that the test's end closes.
func databaseBefore(t *testing.T, v int) (string, *pgx.Conn) {
	t.Helper()
	u, drop, err := pgtest.NewDatabase("officeflow_store_test")
	require.NoError(t, err)
	t.Cleanup(drop)
	conn := createAndConnect(t, u)
	t.Cleanup(func() { conn.Close(context.Background()) })
	applyMigrationsBefore(t, conn, v)
	return u, conn
}
