package store_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// st is shared by every test: each test takes fresh order ids (and, for
// numbering, issue years) from newID and newYear, so tests need no cleanup
// and still pass with -count=N against the same database.
var (
	st    *store.Store
	dbURL string
	seq   atomic.Int64
	years atomic.Int64
)

func newID(prefix string) string { return fmt.Sprintf("%s-%d", prefix, seq.Add(1)) }

// newYear is a year no other test issues documents in, so its numbers start
// at 000001.
func newYear() int { return 2100 + int(years.Add(1)) }

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	ctx := context.Background()
	u, drop, err := pgtest.NewDatabase("officeflow_store_test")
	if err != nil {
		fmt.Fprintln(os.Stderr, "store test:", err)
		return 1
	}
	// Registered before Open so that a half-made database is dropped too.
	defer drop()
	s, err := store.Open(ctx, u)
	if err != nil {
		fmt.Fprintln(os.Stderr, "store test: open:", err)
		return 1
	}
	defer s.Close()
	st, dbURL = s, u
	return m.Run()
}

var deadline = time.Date(2030, 1, 8, 12, 0, 0, 0, time.UTC)

// request is a valid, normalized order; each id gets its own customer.
func request(id string) order.Request {
	r := order.Request{
		OrderID: id,
		Customer: order.Customer{
			Company: "Acme sp. z o.o.", Email: id + "@acme.pl", FirstName: "Jan", LastName: "Kowalski",
			TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1",
		},
		Plan: "business-standard", Seats: 5, DomainPrefix: strings.ReplaceAll(id, "-", ""), BillingCycle: "monthly", Language: "pl",
	}
	r.Normalize()
	return r
}

func place(t *testing.T, r order.Request) store.Placed {
	t.Helper()
	p, err := st.PlaceOrder(context.Background(), r, deadline)
	require.NoError(t, err)
	return p
}

func count(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, st.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func statusOf(t *testing.T, id string) order.Status {
	t.Helper()
	o, err := st.GetOrder(context.Background(), id)
	require.NoError(t, err)
	return o.Status
}

func eventKeys(t *testing.T, id string) []string {
	t.Helper()
	evs, err := st.Events(context.Background(), id)
	require.NoError(t, err)
	keys := make([]string, len(evs))
	for i, e := range evs {
		keys[i] = e.Key
	}
	return keys
}

// finishInstaller ends id's happy path with the desktop installer's link,
// through FinishOrder as the FinishInstaller activity does.
func finishInstaller(ctx context.Context, st *store.Store, id string) (store.Service, error) {
	_, sv, err := st.FinishOrder(ctx, id, func(store.Order) (string, error) { return order.DesktopInstaller, nil })
	return sv, err
}

func TestOpenTwiceAppliesMigrationsOnce(t *testing.T) {
	ctx := context.Background()
	again, err := store.Open(ctx, dbURL)
	require.NoError(t, err)
	again.Close()

	files, err := os.ReadDir("migrations")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	require.Equal(t, len(files), count(t, `SELECT count(*) FROM schema_migrations`))
	require.Equal(t, len(files), count(t, `SELECT count(DISTINCT version) FROM schema_migrations`))
	require.NoError(t, st.Ping(ctx))
}

func TestPlansSeededWithPrices(t *testing.T) {
	rows, err := st.Pool.Query(context.Background(), `SELECT code, price_net_grosze FROM plans`)
	require.NoError(t, err)
	prices := map[string]int64{}
	for rows.Next() {
		var code string
		var price int64
		require.NoError(t, rows.Scan(&code, &price))
		prices[code] = price
	}
	require.NoError(t, rows.Err())
	require.Equal(t, map[string]int64{
		"business-basic":         2600,
		"business-standard":      5400,
		"business-premium":       9500,
		"apps-for-business":      3600,
		"exchange-online-plan-1": 1730,
	}, prices)
	// Every plan on sale must have an offer to provision.
	rows, err = st.Pool.Query(context.Background(), `SELECT offer_id FROM plans WHERE code = ANY($1)`, planCodes())
	require.NoError(t, err)
	offers, err := pgx.CollectRows(rows, pgx.RowTo[string])
	require.NoError(t, err)
	require.Len(t, offers, len(order.Plans))
	for _, id := range offers {
		require.NotEmpty(t, id)
	}
}

func planCodes() []string {
	var codes []string
	for _, p := range order.Plans {
		codes = append(codes, p.Code)
	}
	return codes
}

func TestPlaceOrderIsIdempotent(t *testing.T) {
	r := request(newID("place"))
	first := place(t, r)
	require.True(t, first.Created)
	require.Equal(t, order.Placed, first.Status)
	require.True(t, first.Deadline.Equal(deadline))

	again, err := st.PlaceOrder(context.Background(), r, deadline.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, again.Created)
	require.Equal(t, order.Placed, again.Status)
	require.True(t, again.PlacedAt.Equal(first.PlacedAt))
	require.True(t, again.Deadline.Equal(first.Deadline), "a repeat keeps the first deadline")
	require.Equal(t, []string{"placed"}, eventKeys(t, r.OrderID))

	o, err := st.GetOrder(context.Background(), r.OrderID)
	require.NoError(t, err)
	require.Equal(t, r.Customer, o.Customer)
	require.Equal(t, "Microsoft 365 Business Standard", o.PlanName)
	require.Equal(t, "CFQ7TTC0LDPB:0001", o.OfferID, "the plan's offer comes with the order")
	require.Equal(t, 5, o.Seats)
	require.Nil(t, o.Invoice)
}

func TestPlaceOrderConflict(t *testing.T) {
	r := request(newID("place-conflict"))
	place(t, r)

	other := r
	other.Seats = 6
	_, err := st.PlaceOrder(context.Background(), other, deadline)
	require.ErrorIs(t, err, store.ErrConflict)

	// The same body from another shop is not a repeat either.
	fromShop := r
	fromShop.Shop = "other-shop"
	_, err = st.PlaceOrder(context.Background(), fromShop, deadline)
	require.ErrorIs(t, err, store.ErrConflict)

	// A conflicting body with other customer details leaves the stored
	// customer as it was: the upsert that came with it is rolled back.
	renamed := r
	renamed.Seats = 7
	renamed.Customer.Company, renamed.Customer.City = "Hijacked Ltd", "Nowhere"
	_, err = st.PlaceOrder(context.Background(), renamed, deadline)
	require.ErrorIs(t, err, store.ErrConflict)

	o, err := st.GetOrder(context.Background(), r.OrderID)
	require.NoError(t, err)
	require.Equal(t, 5, o.Seats, "a conflicting request changes nothing")
	require.Equal(t, r.Customer, o.Customer, "nor the customer")
}

func TestPlaceOrderConcurrentRepeatsCreateOnce(t *testing.T) {
	r := request(newID("place-race"))
	const n = 10
	var wg sync.WaitGroup
	placed := make([]store.Placed, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { placed[i], errs[i] = st.PlaceOrder(context.Background(), r, deadline) })
	}
	wg.Wait()
	created := 0
	for i := range n {
		require.NoError(t, errs[i])
		if placed[i].Created {
			created++
		}
		require.True(t, placed[i].PlacedAt.Equal(placed[0].PlacedAt))
	}
	require.Equal(t, 1, created)
	require.Equal(t, []string{"placed"}, eventKeys(t, r.OrderID))
}

// Each order keeps the customer it named: another order with the same email
// (in any case) gets a row of its own and changes nothing of the first (see
// buyers_test.go; issue 15, finding 2).
func TestEachOrderKeepsItsOwnCustomer(t *testing.T) {
	a, b := request(newID("customer")), request(newID("customer"))
	a.Customer.Email = "Jan.Kowalski." + a.OrderID + "@Acme.PL"
	b.Customer.Email = strings.ToLower(a.Customer.Email)
	b.Customer.City = "Kraków"
	place(t, a)
	place(t, b)
	require.Equal(t, 2, count(t, `SELECT count(*) FROM customers WHERE lower(email) = $1`, b.Customer.Email))
	require.Equal(t, 2, count(t, `SELECT count(DISTINCT customer_id) FROM orders WHERE order_id IN ($1, $2)`, a.OrderID, b.OrderID))
	o, err := st.GetOrder(context.Background(), a.OrderID)
	require.NoError(t, err)
	require.Equal(t, a.Customer, o.Customer)
}

// Placement answers a repeat from what is stored and writes nothing: the
// intake reads it for an order whose workflow may have closed.
func TestPlacementReadsWithoutWriting(t *testing.T) {
	ctx := context.Background()
	r := request(newID("placement"))
	_, err := st.Placement(ctx, r)
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Zero(t, count(t, `SELECT count(*) FROM orders WHERE order_id = $1`, r.OrderID))

	at := time.Date(2026, 11, 25, 10, 0, 0, 123000, time.UTC)
	p, err := st.PlaceOrderAt(ctx, r, at, at.Add(168*time.Hour), "run-1")
	require.NoError(t, err)
	require.True(t, p.Created)
	require.True(t, at.Equal(p.PlacedAt), "placed at the time the intake computed")

	again, err := st.Placement(ctx, r)
	require.NoError(t, err)
	require.False(t, again.Created)
	require.True(t, at.Equal(again.PlacedAt))
	require.True(t, p.Deadline.Equal(again.Deadline))

	other := r
	other.Seats++
	_, err = st.Placement(ctx, other)
	require.ErrorIs(t, err, store.ErrConflict)
	fromShop := r
	fromShop.Shop = "another-shop"
	_, err = st.Placement(ctx, fromShop)
	require.ErrorIs(t, err, store.ErrConflict)

	// The order's own run finds it by id, with the run that recorded it.
	found, err := st.PlacedOrder(ctx, r.OrderID)
	require.NoError(t, err)
	require.Equal(t, "run-1", found.Run)
	require.Equal(t, order.Placed, found.Status)
	require.True(t, at.Equal(found.PlacedAt))
	_, err = st.PlacedOrder(ctx, newID("never"))
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestTransitionIsIdempotentAndNeverMovesBack(t *testing.T) {
	ctx := context.Background()
	id := newID("transition")
	place(t, request(id))

	require.NoError(t, st.Transition(ctx, id, order.BillingAccess, "first"))
	require.NoError(t, st.Transition(ctx, id, order.BillingAccess, "retry"))
	require.Equal(t, []string{"placed", "billing_access"}, eventKeys(t, id))

	require.NoError(t, st.Transition(ctx, id, order.AwaitingPayment, "waiting"))
	// A retried activity from an earlier step arrives late.
	require.NoError(t, st.Transition(ctx, id, order.BillingAccess, "late retry"))
	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, order.AwaitingPayment, o.Status)
	require.Equal(t, "waiting", o.Reason)
	require.Equal(t, []string{"placed", "billing_access", "awaiting_payment"}, eventKeys(t, id))
}

func TestGetOrderUnknown(t *testing.T) {
	_, err := st.GetOrder(context.Background(), "no-such-order")
	require.ErrorIs(t, err, store.ErrNotFound)
	_, err = st.Tenant(context.Background(), "no-such-order")
	require.ErrorIs(t, err, store.ErrNotFound)
}

func TestTenantSavedOnceAndPasswordForgotten(t *testing.T) {
	ctx := context.Background()
	id := newID("tenant")
	place(t, request(id))
	want := store.Tenant{OrderID: id, PartnerCustomer: "pc-" + id, TenantID: "t-1", Domain: id + ".onmicrosoft.com",
		AdminUser: "admin@" + id + ".onmicrosoft.com", PasswordSealed: []byte("sealed")}
	got, err := st.SaveTenant(ctx, want)
	require.NoError(t, err)
	require.Equal(t, want, got)

	// A retry that made another tenant must get the first one back.
	second := want
	second.PartnerCustomer, second.TenantID, second.PasswordSealed = "pc-2-"+id, "t-2", []byte("other")
	got, err = st.SaveTenant(ctx, second)
	require.NoError(t, err)
	require.Equal(t, want, got)

	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, "t-1", o.TenantID)
	require.Equal(t, want.Domain, o.Domain)

	_, sent, err := st.OrderForEmail(ctx, id, "billing_access")
	require.NoError(t, err)
	require.False(t, sent)
	recorded, err := st.RecordEmail(ctx, id, "billing_access", "x@acme.pl", "m-1", false)
	require.NoError(t, err)
	require.True(t, recorded)
	tn, err := st.Tenant(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []byte("sealed"), tn.PasswordSealed, "only the credentials email drops the password")

	for i := range 2 {
		recorded, err := st.RecordEmail(ctx, id, "credentials", "x@acme.pl", "m-2", true)
		require.NoError(t, err)
		require.Equal(t, i == 0, recorded, "only the first call records")
	}
	_, sent, err = st.OrderForEmail(ctx, id, "credentials")
	require.NoError(t, err)
	require.True(t, sent)
	tn, err = st.Tenant(ctx, id)
	require.NoError(t, err)
	require.Nil(t, tn.PasswordSealed)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM sent_emails WHERE order_id = $1 AND key = 'credentials'`, id))
}

func TestSubscriptionsAndFinish(t *testing.T) {
	ctx := context.Background()
	id := newID("subscription")
	place(t, request(id))
	sub := store.Subscription{ID: "s1-" + id, OrderID: id, OfferID: "CFQ7TTC0LDPB:0001", Quantity: 5, Status: "active"}
	got, err := st.SaveSubscription(ctx, sub)
	require.NoError(t, err)
	require.Equal(t, sub, got)
	retry := sub
	retry.ID = "s2-" + id
	got, err = st.SaveSubscription(ctx, retry)
	require.NoError(t, err)
	require.Equal(t, sub, got)
	subs, err := st.Subscriptions(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []store.Subscription{sub}, subs)

	for range 2 { // a retry changes nothing
		_, err := finishInstaller(ctx, st, id)
		require.NoError(t, err)
	}
	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, order.InstallerReady, o.Status)
	require.Equal(t, order.DesktopInstaller, o.InstallerURL)
	require.Equal(t, []string{"placed", "installer_ready"}, eventKeys(t, id))
}

// Processes starting together against a database that does not exist yet
// (a worker and an intake on a new machine) must all come up.
func TestConcurrentOpenOfNewDatabase(t *testing.T) {
	db, drop, err := pgtest.NewDatabase("officeflow_store_test")
	require.NoError(t, err)
	t.Cleanup(drop)
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			s, err := store.Open(context.Background(), db)
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}
}

// A transition of an order that does not exist is final (ErrNotFound), so the
// activity stops instead of retrying forever.
func TestTransitionOfUnknownOrderIsNotFound(t *testing.T) {
	require.ErrorIs(t, st.Transition(context.Background(), "no-such-order", order.AwaitingPayment, "x"), store.ErrNotFound)
	require.ErrorIs(t, st.CancelOrder(context.Background(), "no-such-order", "x"), store.ErrNotFound)
}
