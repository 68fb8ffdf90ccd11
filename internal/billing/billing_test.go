package billing_test

import (
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/stretchr/testify/require"
)

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestNumber(t *testing.T) {
	require.Equal(t, "PF/2026/000001", billing.Number(billing.SeriesProforma, 2026, 1))
	require.Equal(t, "FV/2026/123456", billing.Number(billing.SeriesInvoice, 2026, 123456))
	require.Equal(t, "KOR/2027/1000000", billing.Number(billing.SeriesCorrection, 2027, 1000000))
}

func TestPriceByCycle(t *testing.T) {
	require.Equal(t, money.Grosze(27000), billing.Price(5400, 5, "monthly"))
	require.Equal(t, money.Grosze(324000), billing.Price(5400, 5, "annual"))
}

func TestAmountsUseMoneyVAT(t *testing.T) {
	a := billing.Amounts(27000)
	require.Equal(t, billing.Totals{Net: 27000, VAT: 6210, Gross: 33210}, a)
	require.Equal(t, money.VAT(12345), billing.Amounts(12345).VAT)
	require.Equal(t, billing.Totals{Net: -27000, VAT: -6210, Gross: -33210}, a.Negated())
}

func TestAddMonthsKeepsTheLastDay(t *testing.T) {
	require.Equal(t, date(2026, 2, 28), billing.AddMonths(date(2026, 1, 31), 1))
	require.Equal(t, date(2028, 2, 29), billing.AddMonths(date(2027, 3, 31), 11))
	require.Equal(t, date(2027, 1, 15), billing.AddMonths(date(2026, 1, 15), 12))
	require.Equal(t, date(2026, 12, 1), billing.AddMonths(date(2026, 11, 1), 1))
}

func TestDay(t *testing.T) {
	warsaw := time.FixedZone("CET", 3600)
	require.Equal(t, date(2026, 3, 1), billing.Day(time.Date(2026, 3, 1, 0, 30, 0, 0, warsaw)))
}

func TestProrateByDay(t *testing.T) {
	start, end := date(2026, 4, 1), date(2026, 5, 1) // 30 days
	require.Equal(t, money.Grosze(3000), billing.Prorate(3000, start, start, end), "the whole period")
	require.Equal(t, money.Grosze(1500), billing.Prorate(3000, date(2026, 4, 16), start, end), "half")
	require.Equal(t, money.Grosze(100), billing.Prorate(3000, date(2026, 4, 30), start, end), "the last day is a day")
	require.Equal(t, money.Grosze(100), billing.Prorate(3000, end, start, end), "never nothing")
	require.Equal(t, money.Grosze(3000), billing.Prorate(3000, date(2026, 3, 20), start, end), "before the period: all of it")
	require.Equal(t, money.Grosze(3000), billing.Prorate(3000, start, start, start), "an empty period: all of it")
	// rounding half up: 1000 x 1/3 = 333.33, 2000 x 1/3 = 666.67
	require.Equal(t, money.Grosze(333), billing.Prorate(1000, date(2026, 4, 21), date(2026, 4, 1), date(2026, 5, 1)))
	require.Equal(t, money.Grosze(667), billing.Prorate(2000, date(2026, 4, 21), date(2026, 4, 1), date(2026, 5, 1)))
	// an annual plan prorates twelve months' price over the period's days
	require.Equal(t, billing.Prorate(billing.Price(5400, 2, "annual"), date(2026, 7, 2), date(2026, 1, 1), date(2027, 1, 1)),
		billing.Licences(5400, 2, "annual", time.Date(2026, 7, 2, 15, 0, 0, 0, time.UTC), date(2026, 1, 1), date(2027, 1, 1)))
}

func TestCorrectsOnlyTheVATInvoice(t *testing.T) {
	_, ok := billing.Corrects([]billing.Document{{Kind: billing.KindProforma, Status: billing.DocUnpaid}})
	require.False(t, ok, "an unpaid pro-forma is void, never corrected")
	_, ok = billing.Corrects(nil)
	require.False(t, ok, "nothing billed")
	i, ok := billing.Corrects([]billing.Document{{Kind: billing.KindProforma, Status: billing.DocPaid}, {Kind: billing.KindInvoice, Status: billing.DocPaid}})
	require.True(t, ok)
	require.Equal(t, 1, i, "the VAT invoice")
	require.Equal(t, billing.DocUnpaid, billing.CorrectionStatus(billing.DocPaid), "money owed back")
	require.Equal(t, billing.DocPaid, billing.CorrectionStatus(billing.DocUnpaid))
}

func TestDecide(t *testing.T) {
	due := &billing.Due{Number: "PF/2026/000001", Gross: 33210, Currency: "PLN"}
	order := func(status string) billing.Arrival {
		return billing.Arrival{Of: billing.OfOrder, Status: status, Amount: 33210, Currency: "PLN", Due: due}
	}
	charge := func(status string) billing.Arrival {
		a := order(status)
		a.Of = billing.OfCharge
		return a
	}
	cases := []struct {
		name string
		a    billing.Arrival
		want billing.Decision
	}{
		{"waiting, matching", order("awaiting_payment"), billing.Decision{Verdict: billing.Take}},
		{"placed, matching", order("billing_access"), billing.Decision{Verdict: billing.Take}},
		{"cancelled", order("cancelled"), billing.Decision{billing.RefundLate, "paid after the order was cancelled"}},
		{"compensating", order("compensating"), billing.Decision{billing.RefundLate, "paid after the order was compensating"}},
		{"needs attention", order("needs_attention"), billing.Decision{billing.RefundLate, "paid after the order was needs_attention"}},
		{"provisioning", order("provisioning_tenant"), billing.Decision{billing.RefundDouble, "the order was already paid"}},
		{"no pro-forma", func() billing.Arrival { a := order("placed"); a.Due = nil; return a }(),
			billing.Decision{billing.RefundMismatch, "no pro-forma to pay yet"}},
		{"amount", func() billing.Arrival { a := order("awaiting_payment"); a.Amount = 1; return a }(),
			billing.Decision{billing.RefundMismatch, "0.01 PLN does not match pro-forma PF/2026/000001 of 332.10 PLN"}},
		{"currency", func() billing.Arrival { a := order("awaiting_payment"); a.Currency = "EUR"; return a }(),
			billing.Decision{billing.RefundMismatch, "332.10 EUR does not match pro-forma PF/2026/000001 of 332.10 PLN"}},
		{"twice", func() billing.Arrival { a := order("awaiting_payment"); a.PaidBefore = true; return a }(),
			billing.Decision{billing.RefundDouble, "the order was already paid"}},
		{"charge waiting", charge("awaiting_payment"), billing.Decision{Verdict: billing.Take}},
		{"charge paid", charge("paid"), billing.Decision{billing.RefundDouble, "the charge was already paid"}},
		{"charge applied", charge("applied"), billing.Decision{billing.RefundDouble, "the charge was already paid"}},
		{"charge cancelled", charge("cancelled"), billing.Decision{billing.RefundLate, "paid after the charge was cancelled"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := billing.Decide(c.a)
			require.Equal(t, c.want, got)
			require.Equal(t, c.want.Verdict != billing.Take, got.Refund())
		})
	}
}
