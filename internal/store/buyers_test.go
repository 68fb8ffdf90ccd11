package store_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// Issue 15, finding 2: customers were shared across orders and shops by
// email, and a later order rewrote the buyer of every earlier one.

// buyer is what a document row says of its buyer.
type buyer struct{ Name, Address, PostalCode, City, Country, TaxID string }

func buyerOf(t *testing.T, invoiceID int64) buyer {
	t.Helper()
	var b buyer
	require.NoError(t, st.Pool.QueryRow(context.Background(), `SELECT buyer_name, buyer_address, buyer_postal_code, buyer_city, buyer_country, buyer_tax_id
		FROM invoices WHERE id = $1`, invoiceID).Scan(&b.Name, &b.Address, &b.PostalCode, &b.City, &b.Country, &b.TaxID))
	return b
}

// buyerColumn is the "Nabywca" column of a document's PDF text: seller and
// buyer are printed side by side, and the seller's NIP may be the buyer's.
func buyerColumn(t *testing.T, text string) string {
	t.Helper()
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		col := strings.Index(l, "Nabywca")
		if col < 0 {
			continue
		}
		col = len([]rune(l[:col]))
		var out []string
		for _, next := range lines[i+1 : min(i+6, len(lines))] {
			r := []rune(next)
			if len(r) > col-3 {
				out = append(out, strings.TrimSpace(string(r[max(col-3, 0):])))
			}
		}
		return strings.Join(out, "\n")
	}
	t.Fatalf("no Nabywca in:\n%s", text)
	return ""
}

func pdfText(t *testing.T, invoiceID int64) string {
	t.Helper()
	_, pdf, err := st.DocumentPDF(context.Background(), invoiceID)
	require.NoError(t, err)
	return pdftest.Text(t, pdf)
}

// Two shops place orders with the same email (in another case): each order
// keeps the customer it named, and the first order's VAT invoice, issued
// after the second order was placed, names the first order's buyer.
func TestSameEmailFromTwoShopsKeepsEachOrdersCustomer(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	a, b := request(newID("buyer-a")), request(newID("buyer-b"))
	a.Shop, b.Shop = "shop-a", "shop-b"
	a.Customer.Email = "Jan.Kowalski." + a.OrderID + "@Acme.PL"
	b.Customer.Email = strings.ToLower(a.Customer.Email)
	b.Customer.Company, b.Customer.TaxID, b.Customer.FirstName, b.Customer.LastName = "Attacker Ltd", "1234563218", "Eve", "Mallory"
	b.Customer.City, b.Customer.PostalCode, b.Customer.AddressLine1 = "Kraków", "30-001", "ul. Obca 6"

	place(t, a)
	pfA := bill(t, a.OrderID, issuedIn(year))
	place(t, b)
	pfB := bill(t, b.OrderID, issuedIn(year))
	// A repeat of b's placement makes no second customer.
	require.False(t, place(t, b).Created)

	require.Equal(t, 2, count(t, `SELECT count(*) FROM customers WHERE lower(email) = $1`, b.Customer.Email), "one customer per order")
	require.Equal(t, 2, count(t, `SELECT count(DISTINCT customer_id) FROM orders WHERE order_id IN ($1, $2)`, a.OrderID, b.OrderID))
	require.Equal(t, 0, count(t, `SELECT count(*) FROM billing_accounts ba JOIN orders o ON o.order_id = ba.order_id
		WHERE ba.order_id IN ($1, $2) AND ba.customer_id <> o.customer_id`, a.OrderID, b.OrderID), "billing accounts are the order's own customer's")
	for _, r := range []struct {
		id   string
		want any
	}{{a.OrderID, a.Customer}, {b.OrderID, b.Customer}} {
		o, err := st.GetOrder(ctx, r.id)
		require.NoError(t, err)
		require.Equal(t, r.want, o.Customer, r.id)
	}

	// a is paid after b was placed: its VAT invoice names a's buyer, and
	// b's documents name b's.
	pidA, pidB := newID("p-buyer-a"), newID("p-buyer-b")
	pay(t, a.OrderID, pidA, pfA.Invoice.Gross)
	fvA, err := st.Settle(ctx, a.OrderID, pidA, paidOn(year))
	require.NoError(t, err)
	pay(t, b.OrderID, pidB, pfB.Invoice.Gross)
	fvB, err := st.Settle(ctx, b.OrderID, pidB, paidOn(year))
	require.NoError(t, err)
	wantA := buyer{"Acme sp. z o.o.", "ul. Prosta 1", "00-001", "Warszawa", "PL", "5260250995"}
	wantB := buyer{"Attacker Ltd", "ul. Obca 6", "30-001", "Kraków", "PL", "1234563218"}
	for _, d := range []struct {
		id   int64
		want buyer
	}{{pfA.Invoice.ID, wantA}, {fvA.ID, wantA}, {pfB.Invoice.ID, wantB}, {fvB.ID, wantB}} {
		require.Equal(t, d.want, buyerOf(t, d.id), "document %d", d.id)
		col := buyerColumn(t, pdfText(t, d.id))
		for _, s := range []string{d.want.Name, d.want.Address, d.want.PostalCode + " " + d.want.City, "NIP: " + d.want.TaxID} {
			require.Contains(t, col, s, "document %d names its order's buyer:\n%s", d.id, col)
		}
	}
	require.NotContains(t, pdfText(t, fvA.ID), "Attacker")
	require.NotContains(t, pdfText(t, fvA.ID), "1234563218")
}

// A document names the buyer it was issued to: a later change of the
// customer row (nothing in the product makes one) reaches neither the
// document's buyer nor its PDF, even one rendered again; a document issued
// after it copies the row as it is then.
func TestDocumentBuyerStaysAsIssued(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id, b := placeBilled(t, "buyer-kept", year)
	pf := b.Invoice
	issued := buyer{"Acme sp. z o.o.", "ul. Prosta 1", "00-001", "Warszawa", "PL", "5260250995"}
	require.Equal(t, issued, buyerOf(t, pf.ID))

	_, err := st.Pool.Exec(ctx, `UPDATE customers SET company = 'Renamed Ltd', city = 'Gdańsk', tax_id = '1234563218'
		WHERE id = (SELECT customer_id FROM orders WHERE order_id = $1)`, id)
	require.NoError(t, err)
	require.Equal(t, issued, buyerOf(t, pf.ID), "the document keeps its buyer")
	stored := pdfText(t, pf.ID)
	// Rendered again from the row (as for a document issued before PDFs
	// were kept): the same buyer.
	_, err = st.Pool.Exec(ctx, `UPDATE invoices SET pdf = NULL WHERE id = $1`, pf.ID)
	require.NoError(t, err)
	again := pdfText(t, pf.ID)
	require.Equal(t, stored, again)
	require.Contains(t, buyerColumn(t, again), "Acme sp. z o.o.")
	require.NotContains(t, again, "Renamed Ltd")

	pid := newID("p-buyer-kept")
	pay(t, id, pid, pf.Gross)
	fv, err := st.Settle(ctx, id, pid, paidOn(year))
	require.NoError(t, err)
	require.Equal(t, buyer{"Renamed Ltd", "ul. Prosta 1", "00-001", "Gdańsk", "PL", "1234563218"}, buyerOf(t, fv.ID),
		"a document copies the order's customer when it is issued")
	require.Equal(t, issued, buyerOf(t, pf.ID))
}

// A conflicting placement (same order id, another body) and a repeat leave
// the order with its one customer row, as it was.
func TestPlacementRepeatAndConflictKeepOneCustomer(t *testing.T) {
	r := request(newID("buyer-once"))
	place(t, r)
	require.False(t, place(t, r).Created)
	other := r
	other.Seats = 9
	other.Customer.Company, other.Customer.TaxID = "Attacker Ltd", "1234563218"
	_, err := st.PlaceOrder(context.Background(), other, deadline)
	require.ErrorIs(t, err, store.ErrConflict)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM customers WHERE lower(email) = $1`, r.Customer.Email))
	o, err := st.GetOrder(context.Background(), r.OrderID)
	require.NoError(t, err)
	require.Equal(t, r.Customer, o.Customer)
}

// Migration 0006 on a database where two orders shared one customer row
// (the old upsert by email): each order gets a row of its own, its billing
// account follows it, and existing documents get their buyer from it.
func TestMigrationGivesEachOrderItsCustomerAndEachDocumentItsBuyer(t *testing.T) {
	ctx := context.Background()
	u, conn := databaseBefore(t, 6)

	_, err := conn.Exec(ctx, `
		INSERT INTO customers (id, email, company, first_name, last_name, tax_id, country, city, postal_code, address_line1)
			VALUES (1, 'it@acme.pl', 'Later Ltd', 'Jan', 'Kowalski', '1234563218', 'PL', 'Kraków', '30-001', 'ul. Obca 6');
		INSERT INTO orders (order_id, request_hash, shop, customer_id, plan, seats, billing_cycle, domain_prefix, language, status, payment_deadline, placed_at)
			VALUES ('old-1', '\x01', 'a', 1, 'business-standard', 5, 'monthly', 'old1', 'pl', 'awaiting_payment', now(), now() - interval '2 days'),
			       ('old-2', '\x02', 'b', 1, 'business-standard', 5, 'monthly', 'old2', 'pl', 'awaiting_payment', now(), now() - interval '1 day');
		INSERT INTO billing_accounts (order_id, customer_id, token_hash) VALUES ('old-1', 1, '\x01'), ('old-2', 1, '\x02');
		INSERT INTO invoices (order_id, kind, number, net_grosze, vat_grosze, gross_grosze, status, issued_at)
			VALUES ('old-1', 'proforma', 'PF/2020/000001', 100, 23, 123, 'unpaid', '2020-01-01'),
			       ('old-2', 'proforma', 'PF/2020/000002', 100, 23, 123, 'unpaid', '2020-01-02');
		SELECT setval('customers_id_seq', 1)`)
	require.NoError(t, err)

	s, err := store.Open(ctx, u)
	require.NoError(t, err)
	defer s.Close()

	q := func(sql string, args ...any) int {
		var n int
		require.NoError(t, s.Pool.QueryRow(ctx, sql, args...).Scan(&n))
		return n
	}
	require.Equal(t, 2, q(`SELECT count(DISTINCT customer_id) FROM orders`), "each order its own customer")
	require.Equal(t, 1, q(`SELECT customer_id FROM orders WHERE order_id = 'old-1'`), "the oldest order keeps the row")
	require.Equal(t, 0, q(`SELECT count(*) FROM billing_accounts b JOIN orders o ON o.order_id = b.order_id WHERE b.customer_id <> o.customer_id`))
	require.Equal(t, 2, q(`SELECT count(*) FROM customers WHERE company = 'Later Ltd' AND lower(email) = 'it@acme.pl'`))
	require.Equal(t, 2, q(`SELECT count(*) FROM invoices WHERE buyer_name = 'Later Ltd' AND buyer_address = 'ul. Obca 6'
		AND buyer_postal_code = '30-001' AND buyer_city = 'Kraków' AND buyer_country = 'PL' AND buyer_tax_id = '1234563218'`))
	_, err = s.Pool.Exec(ctx, `INSERT INTO invoices (order_id, kind, number, net_grosze, vat_grosze, gross_grosze, status, issued_at)
		VALUES ('old-1', 'invoice', 'FV/2020/000001', 100, 23, 123, 'paid', '2020-01-03')`)
	require.Error(t, err, "no document without its buyer")
}

// createAndConnect creates the database of url and connects to it.
func createAndConnect(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(u)
	require.NoError(t, err)
	admin := cfg.Copy()
	admin.Database = "postgres"
	ac, err := pgx.ConnectConfig(ctx, admin)
	require.NoError(t, err)
	defer ac.Close(ctx)
	_, err = ac.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize())
	require.NoError(t, err)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	require.NoError(t, err)
	return conn
}

// applyMigrationsBefore applies the migration files numbered below v, as
// store.Open would have on an older binary.
func applyMigrationsBefore(t *testing.T, conn *pgx.Conn, v int) {
	t.Helper()
	ctx := context.Background()
	_, err := conn.Exec(ctx, `CREATE TABLE schema_migrations (
		version int PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`)
	require.NoError(t, err)
	files, err := filepath.Glob("migrations/*.sql")
	require.NoError(t, err)
	sort.Strings(files)
	for _, f := range files {
		base := filepath.Base(f)
		num, _, _ := strings.Cut(base, "_")
		n, err := strconv.Atoi(num)
		require.NoError(t, err)
		if n >= v {
			continue
		}
		sql, err := os.ReadFile(f)
		require.NoError(t, err)
		_, err = conn.Exec(ctx, string(sql))
		require.NoError(t, err, base)
		_, err = conn.Exec(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, n, base)
		require.NoError(t, err)
	}
}
