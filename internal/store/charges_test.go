package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// paidOn is the day test orders are paid: their first period starts then.
func paidOn(year int) time.Time { return time.Date(year, 3, 14, 15, 0, 0, 0, time.UTC) }

func date(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func ymd(t time.Time) string { return t.Format(time.DateOnly) }

// provision takes a new order through payment (on paidOn(year)) and its
// subscription at the tenant to installer_ready.
func provision(t *testing.T, prefix string, year int, cycle string, seats int) string {
	t.Helper()
	ctx := context.Background()
	r := request(newID(prefix))
	r.BillingCycle, r.Seats = cycle, seats
	place(t, r)
	b := bill(t, r.OrderID, issuedIn(year))
	pid := newID("p-" + prefix)
	pay(t, r.OrderID, pid, b.Invoice.Gross)
	_, err := st.Settle(ctx, r.OrderID, pid, paidOn(year))
	require.NoError(t, err)
	_, err = st.SaveSubscription(ctx, store.Subscription{ID: "sub-" + r.OrderID, OrderID: r.OrderID,
		OfferID: "CFQ7TTC0LDPB:0001", Quantity: seats, Status: "active"})
	require.NoError(t, err)
	_, err = finishInstaller(ctx, st, r.OrderID)
	require.NoError(t, err)
	return r.OrderID
}

func service(t *testing.T, id string) store.Service {
	t.Helper()
	sv, err := st.GetService(context.Background(), id)
	require.NoError(t, err)
	return sv
}

func quantity(t *testing.T, id string) int {
	return count(t, `SELECT quantity FROM subscriptions WHERE order_id = $1`, id)
}

func setPeriod(t *testing.T, id, start, end string) {
	t.Helper()
	_, err := st.Pool.Exec(context.Background(), `UPDATE services SET period_start = $2, period_end = $3 WHERE order_id = $1`, id, start, end)
	require.NoError(t, err)
}

func licences(id string, change int, today time.Time) store.ChargeRequest {
	return store.ChargeRequest{ID: newID("ch"), OrderID: id, WorkflowID: "licences-" + id, Hash: fmt.Appendf(nil, "%d", change),
		Change: change, Deadline: today.AddDate(0, 0, 7), Today: today}
}

func openCharge(t *testing.T, r store.ChargeRequest) store.Charge {
	t.Helper()
	c, err := st.OpenLicenceCharge(context.Background(), r)
	require.NoError(t, err)
	require.True(t, c.Created)
	return c
}

func issueCharge(t *testing.T, id string, issued time.Time) store.Invoice {
	t.Helper()
	c, err := st.IssueCharge(context.Background(), id, issued)
	require.NoError(t, err)
	require.NotNil(t, c.Invoice)
	return *c.Invoice
}

func payCharge(t *testing.T, c store.Charge, amount money.Grosze) string {
	t.Helper()
	pid := newID("p-charge")
	r, err := st.RecordPayment(context.Background(), store.Payment{PaymentID: pid, OrderID: c.OrderID, ChargeID: c.ID,
		Status: "completed", Amount: amount, Currency: "PLN"})
	require.NoError(t, err)
	require.Equal(t, store.Recorded{First: true}, r)
	return pid
}

// paidCharge is a licence charge issued, paid and settled in year.
func paidCharge(t *testing.T, id string, change, year int) (store.Charge, store.Invoice, string) {
	t.Helper()
	c := openCharge(t, licences(id, change, paidOn(year).AddDate(0, 0, 1)))
	pf := issueCharge(t, c.ID, issuedIn(year))
	pid := payCharge(t, c, pf.Gross)
	fv, err := st.SettleCharge(context.Background(), c.ID, pid, paidOn(year).AddDate(0, 0, 2))
	require.NoError(t, err)
	return c, fv, pid
}

func TestFinishInstallerStartsTheService(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	for _, c := range []struct {
		cycle      string
		seats      int
		end        string
		months     int
		monthPrice money.Grosze
	}{
		{"monthly", 5, fmt.Sprintf("%d-04-14", year), 1, 5400},
		{"annual", 3, fmt.Sprintf("%d-03-14", year+1), 12, 5400},
	} {
		id := provision(t, "service-"+c.cycle, year, c.cycle, c.seats)
		sv := service(t, id)
		require.Equal(t, store.ServiceActive, sv.Status)
		require.Equal(t, 1, sv.Period)
		require.Equal(t, fmt.Sprintf("%d-03-14", year), ymd(sv.PeriodStart), "from the VAT invoice's date")
		require.Equal(t, c.end, ymd(sv.PeriodEnd))
		require.Equal(t, c.seats, sv.Seats)
		require.Equal(t, c.months, sv.Months)
		require.Equal(t, c.monthPrice, sv.Price)
		require.Equal(t, "sub-"+id, sv.SubscriptionID)
		require.False(t, sv.CancelAtPeriodEnd)

		again, err := finishInstaller(ctx, st, id)
		require.NoError(t, err)
		require.Equal(t, sv, again, "a retried finish answers the service it made")
		require.Equal(t, sv, service(t, id), "a retried finish makes no second service")
	}
	id, _ := placeBilled(t, "service-none", year)
	_, err := st.GetService(ctx, id)
	require.ErrorIs(t, err, store.ErrNotFound)
}

// FinishOrder hands link the order GetOrder reads and returns it; a link
// that refuses leaves the order as it was, in one transaction.
func TestFinishOrderReadsTheOrderInItsTransaction(t *testing.T) {
	ctx := context.Background()
	id, _, _ := paidWith(t, st, "finish-order", newYear())
	want, err := st.GetOrder(ctx, id)
	require.NoError(t, err)

	refused := errors.New("no link for this plan")
	_, _, err = st.FinishOrder(ctx, id, func(o store.Order) (string, error) { return "", refused })
	require.ErrorIs(t, err, refused)
	still, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, want, still, "a refused link changes nothing")

	var seen store.Order
	o, sv, err := st.FinishOrder(ctx, id, func(o store.Order) (string, error) { seen = o; return order.WebApps, nil })
	require.NoError(t, err)
	require.Equal(t, want, seen)
	require.Equal(t, want, o)
	require.Equal(t, sv, service(t, id))
	done, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, order.InstallerReady, done.Status)
	require.Equal(t, order.WebApps, done.InstallerURL)
}

func TestOpenLicenceCharge(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "licences", year, "monthly", 5)
	setPeriod(t, id, "2026-11-01", "2026-12-01")
	today := time.Date(2026, 11, 16, 9, 0, 0, 0, time.UTC)

	r := licences(id, 3, today)
	r.Deadline = time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)
	c := openCharge(t, r)
	require.Equal(t, store.ChargeLicences, c.Kind)
	require.Equal(t, money.Grosze(5400*3*15/30), c.Net, "15 of the period's 30 days for 3 seats")
	require.Equal(t, 3, c.Seats)
	require.Equal(t, 1, c.Period)
	require.Equal(t, "2026-11-16", ymd(c.PeriodStart))
	require.Equal(t, "2026-12-01", ymd(c.PeriodEnd))
	require.Equal(t, "awaiting_payment", c.Status)
	require.True(t, c.Deadline.Equal(date("2026-12-01")), "no deadline after the period it bills")
	require.Nil(t, c.Invoice)

	again, err := st.OpenLicenceCharge(ctx, r)
	require.NoError(t, err)
	require.False(t, again.Created)
	require.Equal(t, c.ID, again.ID)
	require.Equal(t, c.Net, again.Net)

	other := r
	other.Hash, other.Change = []byte("4"), 4
	_, err = st.OpenLicenceCharge(ctx, other)
	require.ErrorIs(t, err, store.ErrConflict)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM charges WHERE order_id = $1 AND kind <> 'order'`, id))

	// An annual plan prorates twelve months' price over the period's days.
	annual := provision(t, "licences-annual", year, "annual", 5)
	setPeriod(t, annual, "2026-11-01", "2027-11-01")
	a := openCharge(t, licences(annual, 1, today))
	require.Equal(t, money.Grosze(62137), a.Net, "5400 x 12 x 350/365, rounded")
	require.True(t, a.Deadline.Equal(today.AddDate(0, 0, 7)))
}

func TestOpenLicenceChargeRefusals(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	unprovisioned, _ := placeBilled(t, "licences-early", year)
	_, err := st.OpenLicenceCharge(ctx, licences(unprovisioned, 1, paidOn(year)))
	require.ErrorIs(t, err, store.ErrNotActive)
	_, err = st.OpenLicenceCharge(ctx, licences("no-such-order", 1, paidOn(year)))
	require.ErrorIs(t, err, store.ErrNotFound)

	id := provision(t, "licences-limits", year, "monthly", 5)
	var se *store.SeatsError
	_, err = st.OpenLicenceCharge(ctx, licences(id, order.MaxSeats-4, paidOn(year)))
	require.ErrorAs(t, err, &se)
	openCharge(t, licences(id, order.MaxSeats-5, paidOn(year)))

	require.NoError(t, st.SetService(ctx, id, "suspend", store.ServiceSuspended, "renewal unpaid"))
	_, err = st.OpenLicenceCharge(ctx, licences(id, 1, paidOn(year)))
	require.ErrorIs(t, err, store.ErrNotActive)
}

// Fewer seats cost nothing and may not take a licence from a user; the
// check is made again when the reduction is applied.
func TestLicenceReduction(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "reduction", year, "monthly", 5)
	for _, name := range []string{"a@acme.pl", "b@acme.pl", "c@acme.pl"} {
		addUser(t, id, name, true)
	}
	addUser(t, id, "unlicensed@acme.pl", false)

	_, err := st.OpenLicenceCharge(ctx, licences(id, -3, paidOn(year)))
	var se *store.SeatsError
	require.ErrorAs(t, err, &se)
	require.Equal(t, 3, se.InUse)
	require.Equal(t, 5, se.Seats)
	require.Contains(t, se.Error(), "3 of 5 seats hold a licence")

	c := openCharge(t, licences(id, -2, paidOn(year)))
	require.Equal(t, store.ChargeReduction, c.Kind)
	require.Equal(t, "paid", c.Status)
	require.Equal(t, money.Grosze(0), c.Net)
	got, err := st.IssueCharge(ctx, c.ID, issuedIn(year))
	require.NoError(t, err)
	require.Nil(t, got.Invoice, "nothing to bill")
	require.Equal(t, 0, count(t, `SELECT count(*) FROM invoices WHERE charge_id = $1`, c.ID))

	// A licence assigned after the request forbids it when it is applied.
	addUser(t, id, "d@acme.pl", true)
	_, err = st.ApplySeats(ctx, c.ID)
	require.ErrorAs(t, err, &se)
	require.Equal(t, 5, service(t, id).Seats)

	require.NoError(t, st.UserFailed(ctx, id, "d@acme.pl", "removed"))
	seats, err := st.ApplySeats(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, 3, seats)
	require.Equal(t, 3, quantity(t, id))
	kor, err := st.VoidCharge(ctx, c.ID, "tenant refused", issuedIn(year))
	require.NoError(t, err)
	require.Empty(t, kor.Number, "no document to correct")
	require.Equal(t, 5, service(t, id).Seats, "the seats come back")
}

func TestIssueChargeKeepsOrderDocumentsApart(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "issue", year, "monthly", 5)
	c := openCharge(t, licences(id, 2, paidOn(year)))

	numbers := make([]string, 8)
	errs := make([]error, len(numbers))
	var wg sync.WaitGroup
	for i := range numbers {
		wg.Go(func() {
			got, err := st.IssueCharge(ctx, c.ID, issuedIn(year))
			errs[i] = err
			if err == nil {
				numbers[i] = got.Invoice.Number
			}
		})
	}
	wg.Wait()
	for i := range numbers {
		require.NoError(t, errs[i])
		require.Equal(t, fmt.Sprintf("PF/%d/000002", year), numbers[i], "one pro-forma after the order's own")
	}
	pf := issueCharge(t, c.ID, issuedIn(year).AddDate(0, 0, 1))
	require.Equal(t, numbers[0], pf.Number)
	require.Equal(t, c.Net, pf.Net)
	require.Equal(t, money.VAT(c.Net), pf.VAT)
	require.Equal(t, ymd(c.Deadline), ymd(*pf.DueDate))
	doc, err := st.ChargeDocument(ctx, c.ID, "proforma")
	require.NoError(t, err)
	require.Equal(t, pf.ID, doc.ID)

	of, pdf, err := st.DocumentPDF(ctx, pf.ID)
	shop := of.Shop
	require.NoError(t, err)
	require.NotEmpty(t, pdf)
	require.Equal(t, "%PDF", string(pdf[:4]))
	o, err := st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, o.Shop, shop)

	docs, err := st.Documents(ctx, id)
	require.NoError(t, err)
	require.Len(t, docs, 3)
	require.Equal(t, pf.Number, docs[2].Number)
	require.Equal(t, c.ID, docs[2].ChargeID)
	require.Empty(t, docs[0].ChargeID)

	require.Equal(t, docs[0].Number, o.Invoice.Number, "the order's pro-forma, not the charge's")
	require.Equal(t, "paid", o.Invoice.Status)
	require.NoError(t, st.ExtendDeadline(ctx, id, deadline.AddDate(1, 0, 0), store.Event{Key: "extend", Status: order.InstallerReady}))
	doc, err = st.ChargeDocument(ctx, c.ID, "proforma")
	require.NoError(t, err)
	require.Equal(t, ymd(*pf.DueDate), ymd(*doc.DueDate), "the order's deadline is not the charge's")

	// With the charge paid too, the order's own steps still find the
	// order's documents.
	chargeFV, err := st.SettleCharge(ctx, c.ID, payCharge(t, c, pf.Gross), paidOn(year))
	require.NoError(t, err)
	var orderPayment string
	require.NoError(t, st.Pool.QueryRow(ctx, `SELECT payment_id FROM payments WHERE order_id = $1 AND charge_id IS NULL`, id).Scan(&orderPayment))
	fv, err := st.Settle(ctx, id, orderPayment, paidOn(year))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("FV/%d/000001", year), fv.Number)
	require.Equal(t, fmt.Sprintf("FV/%d/000002", year), chargeFV.Number)
	o, err = st.GetOrder(ctx, id)
	require.NoError(t, err)
	require.Equal(t, docs[0].Number, o.Invoice.Number)
}

func TestChargePayments(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "charge-pay", year, "monthly", 5)
	c := openCharge(t, licences(id, 1, paidOn(year)))
	pf := issueCharge(t, c.ID, issuedIn(year))
	first := payCharge(t, c, pf.Gross)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM payments WHERE payment_id = $1 AND charge_id = $2`, first, c.ID))

	second := store.Payment{PaymentID: newID("p-twice"), OrderID: id, ChargeID: c.ID, Status: "completed", Amount: pf.Gross, Currency: "PLN"}
	r, err := st.RecordPayment(ctx, second)
	require.NoError(t, err)
	require.Equal(t, store.Recorded{First: true, Refund: true}, r, "the charge was paid already")
	r, err = st.RecordPayment(ctx, second)
	require.NoError(t, err)
	require.Equal(t, store.Recorded{Refund: true}, r)

	// Another charge of the same order is paid on its own.
	other := openCharge(t, licences(id, 2, paidOn(year)))
	opf := issueCharge(t, other.ID, issuedIn(year))
	payCharge(t, other, opf.Gross)

	_, err = st.RecordPayment(ctx, store.Payment{PaymentID: newID("p-unknown"), OrderID: id, ChargeID: "no-such-charge", Status: "completed", Amount: 1, Currency: "PLN"})
	require.ErrorIs(t, err, store.ErrNotFound)
	elsewhere := provision(t, "charge-pay-other", year, "monthly", 5)
	_, err = st.RecordPayment(ctx, store.Payment{PaymentID: newID("p-elsewhere"), OrderID: elsewhere, ChargeID: c.ID, Status: "completed", Amount: 1, Currency: "PLN"})
	require.ErrorIs(t, err, store.ErrNotFound, "a charge of another order")

	cancelled := openCharge(t, licences(id, 1, paidOn(year)))
	cpf := issueCharge(t, cancelled.ID, issuedIn(year))
	_, err = st.VoidCharge(ctx, cancelled.ID, "deadline passed", issuedIn(year))
	require.NoError(t, err)
	late := store.Payment{PaymentID: newID("p-late"), OrderID: id, ChargeID: cancelled.ID, Status: "completed", Amount: cpf.Gross, Currency: "PLN"}
	r, err = st.RecordPayment(ctx, late)
	require.NoError(t, err)
	require.Equal(t, store.Recorded{First: true, Refund: true}, r)

	refunds, err := st.Refunds(ctx, id)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{second.PaymentID, late.PaymentID}, refunds)
}

func TestSettleAndApplyCharge(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "settle-charge", year, "monthly", 5)
	c := openCharge(t, licences(id, 3, paidOn(year)))
	_, err := st.ApplySeats(ctx, c.ID)
	require.Error(t, err, "not paid yet")
	pf := issueCharge(t, c.ID, issuedIn(year))
	pid := payCharge(t, c, pf.Gross)
	_, err = st.SettleCharge(ctx, c.ID, newID("p-none"), paidOn(year))
	require.ErrorIs(t, err, store.ErrNotFound)

	fv, err := st.SettleCharge(ctx, c.ID, pid, paidOn(year))
	require.NoError(t, err)
	require.Equal(t, fmt.Sprintf("FV/%d/000002", year), fv.Number)
	require.Equal(t, "paid", fv.Status)
	require.Equal(t, c.ID, fv.ChargeID)
	require.Equal(t, pf.Gross, fv.Gross)
	again, err := st.SettleCharge(ctx, c.ID, pid, paidOn(year).AddDate(0, 0, 1))
	require.NoError(t, err)
	require.Equal(t, fv.Number, again.Number)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE charge_id = $1 AND kind = 'invoice' AND refers_to = $2`, c.ID, pf.ID))
	got, err := st.GetCharge(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "paid", got.Status)
	require.Equal(t, "paid", got.Invoice.Status)
	_, pdf, err := st.DocumentPDF(ctx, fv.ID)
	require.NoError(t, err)
	require.NotEmpty(t, pdf)

	seats := make([]int, 10)
	errs := make([]error, len(seats))
	var wg sync.WaitGroup
	for i := range seats {
		wg.Go(func() { seats[i], errs[i] = st.ApplySeats(ctx, c.ID) })
	}
	wg.Wait()
	for i := range seats {
		require.NoError(t, errs[i])
		require.Equal(t, 8, seats[i])
	}
	require.Equal(t, 8, service(t, id).Seats)
	require.Equal(t, 8, quantity(t, id))
	got, err = st.GetCharge(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "applied", got.Status)
	require.Contains(t, eventKeys(t, id), "seats:"+c.ID)
}

func TestVoidCharge(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "void-charge", year, "monthly", 5)
	c, fv, pid := paidCharge(t, id, 3, year)
	seats, err := st.ApplySeats(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, 8, seats)

	kors := make([]store.Invoice, 10)
	errs := make([]error, len(kors))
	var wg sync.WaitGroup
	for i := range kors {
		wg.Go(func() { kors[i], errs[i] = st.VoidCharge(ctx, c.ID, "tenant refused", issuedIn(year)) })
	}
	wg.Wait()
	for i := range kors {
		require.NoError(t, errs[i])
		require.Equal(t, kors[0].Number, kors[i].Number)
	}
	kor := kors[0]
	require.Equal(t, fmt.Sprintf("KOR/%d/000001", year), kor.Number)
	require.Equal(t, -fv.Net, kor.Net)
	require.Equal(t, -fv.Gross, kor.Gross)
	require.Equal(t, "unpaid", kor.Status, "the money is owed back")
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE id = $1 AND refers_to = $2`, kor.ID, fv.ID))
	require.Equal(t, 5, service(t, id).Seats, "the seats come back once")
	require.Equal(t, 5, quantity(t, id))
	refunds, err := st.Refunds(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []string{pid}, refunds)
	require.Equal(t, 2, count(t, `SELECT count(*) FROM invoices WHERE charge_id = $1 AND kind IN ('proforma', 'invoice') AND status = 'void'`, c.ID))
	got, err := st.GetCharge(ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, "cancelled", got.Status)

	unpaid := openCharge(t, licences(id, 1, paidOn(year)))
	pf := issueCharge(t, unpaid.ID, issuedIn(year))
	// Unpaid: the pro-forma is void, and nothing corrects it.
	for range 2 {
		k2, err := st.VoidCharge(ctx, unpaid.ID, "deadline passed", issuedIn(year))
		require.NoError(t, err)
		require.Equal(t, store.Invoice{}, k2, "no credit note for a pro-forma")
	}
	require.Equal(t, 0, count(t, `SELECT count(*) FROM invoices WHERE charge_id = $1 AND kind = 'correction'`, unpaid.ID))
	require.Equal(t, 1, count(t, `SELECT count(*) FROM invoices WHERE id = $1 AND status = 'void'`, pf.ID))
	require.Equal(t, 1, count(t, `SELECT count(*) FROM document_counters WHERE series = 'KOR' AND year = $1 AND last = 1`, year), "one KOR number, the paid charge's")
	require.Equal(t, 5, service(t, id).Seats, "an unapplied charge changes no seats")
	_, pdf, err := st.DocumentPDF(ctx, kor.ID)
	require.NoError(t, err)
	require.NotEmpty(t, pdf)
}

func TestRenewals(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "renewal", year, "monthly", 5)
	start := paidOn(year)
	for period := 2; period <= 4; period++ {
		from := time.Date(year, 3, 14, 0, 0, 0, 0, time.UTC).AddDate(0, period-1, 0)
		issued := from.AddDate(0, 0, -7)
		c, err := st.OpenRenewal(ctx, id, "subscription-"+id, from, issued)
		require.NoError(t, err)
		require.True(t, c.Created)
		require.Equal(t, fmt.Sprintf("%s:renewal:%d", id, period), c.ID)
		require.Equal(t, store.ChargeRenewal, c.Kind)
		require.Equal(t, period, c.Period)
		require.Equal(t, 5, c.Seats)
		require.Equal(t, ymd(from), ymd(c.PeriodStart))
		require.Equal(t, ymd(from.AddDate(0, 1, 0)), ymd(c.PeriodEnd))
		require.Equal(t, money.Grosze(27000), c.Net)
		require.NotNil(t, c.Invoice)
		require.Equal(t, fmt.Sprintf("PF/%d/%06d", year, period), c.Invoice.Number, "consecutive in the series")
		require.Equal(t, store.ServiceRenewalDue, service(t, id).Status)

		again, err := st.OpenRenewal(ctx, id, "subscription-"+id, from, issued.AddDate(0, 0, 1))
		require.NoError(t, err)
		require.False(t, again.Created)
		require.Equal(t, c.ID, again.ID)
		require.Equal(t, c.Invoice.Number, again.Invoice.Number)

		if period == 3 {
			require.NoError(t, st.SetService(ctx, id, "suspended:3", store.ServiceSuspended, "renewal unpaid"))
			require.NotNil(t, service(t, id).SuspendedAt)
		}
		pid := payCharge(t, c, c.Invoice.Gross)
		fv, err := st.SettleCharge(ctx, c.ID, pid, from)
		require.NoError(t, err)
		require.Equal(t, fmt.Sprintf("FV/%d/%06d", year, period), fv.Number)
		sv := service(t, id)
		require.Equal(t, store.ServiceActive, sv.Status)
		require.Nil(t, sv.SuspendedAt)
		require.Equal(t, period, sv.Period)
		require.Equal(t, ymd(c.PeriodStart), ymd(sv.PeriodStart))
		require.Equal(t, ymd(c.PeriodEnd), ymd(sv.PeriodEnd))
	}
	require.Equal(t, ymd(start.AddDate(0, 4, 0)), ymd(service(t, id).PeriodEnd))

	// Seats added during a period are renewed with it.
	c, _, _ := paidCharge(t, id, 2, year)
	_, err := st.ApplySeats(ctx, c.ID)
	require.NoError(t, err)
	r, err := st.OpenRenewal(ctx, id, "subscription-"+id, deadline, issuedIn(year))
	require.NoError(t, err)
	require.Equal(t, 7, r.Seats)
	require.Equal(t, money.Grosze(5400*7), r.Net)
}

// A period that starts on a month's last day ends on the last day of a
// shorter month, as the first period does in PostgreSQL.
func TestRenewalAtTheEndOfAMonth(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	for _, c := range []struct{ cycle, start, end, next string }{
		{"monthly", "2026-12-31", "2027-01-31", "2027-02-28"},
		{"annual", "2027-02-28", "2028-02-29", "2029-02-28"},
	} {
		id := provision(t, "renewal-end-"+c.cycle, year, c.cycle, 1)
		setPeriod(t, id, c.start, c.end)
		r, err := st.OpenRenewal(ctx, id, "subscription-"+id, deadline, issuedIn(year))
		require.NoError(t, err)
		require.Equal(t, c.end, ymd(r.PeriodStart))
		require.Equal(t, c.next, ymd(r.PeriodEnd), c.cycle)
	}
}

func TestCancelAtPeriodEndAndSetService(t *testing.T) {
	ctx := context.Background()
	year := newYear()
	id := provision(t, "cancel-end", year, "monthly", 5)
	sv, changed, err := st.CancelAtPeriodEnd(ctx, id, "admin@acme.pl", "moving away")
	require.NoError(t, err)
	require.True(t, changed)
	require.True(t, sv.CancelAtPeriodEnd)
	_, changed, err = st.CancelAtPeriodEnd(ctx, id, "admin@acme.pl", "moving away")
	require.NoError(t, err)
	require.False(t, changed)
	require.True(t, service(t, id).CancelAtPeriodEnd)
	require.Equal(t, 1, count(t, `SELECT count(*) FROM order_events WHERE order_id = $1 AND key = 'service:cancel_at_period_end'`, id))

	require.NoError(t, st.SetService(ctx, id, "suspend#1", store.ServiceSuspended, "unpaid"))
	require.NoError(t, st.SetService(ctx, id, "reactivate#1", store.ServiceActive, "paid"))
	require.NoError(t, st.SetService(ctx, id, "suspend#1", store.ServiceSuspended, "unpaid, retried"))
	sv = service(t, id)
	require.Equal(t, store.ServiceActive, sv.Status, "a replayed key moves nothing")
	require.Equal(t, "paid", sv.Reason)
	require.Nil(t, sv.SuspendedAt)

	require.NoError(t, st.SetService(ctx, id, "terminated", store.ServiceTerminated, "ended"))
	_, _, err = st.CancelAtPeriodEnd(ctx, id, "admin@acme.pl", "again")
	require.ErrorIs(t, err, store.ErrNotActive)
	early, _ := placeBilled(t, "cancel-end-early", year)
	_, _, err = st.CancelAtPeriodEnd(ctx, early, "admin@acme.pl", "x")
	require.ErrorIs(t, err, store.ErrNotActive)
	require.True(t, errors.Is(st.SetService(ctx, "no-such-order", "k", store.ServiceActive, "x"), store.ErrNotFound))
}
