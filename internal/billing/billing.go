// Package billing holds the rules of officeflow's billing, as pure
// functions: what a purchase costs (pricing, VAT, proration by day), how a
// document is numbered, which document a cancellation corrects, and whether
// a payment that arrives is taken or owed back. It does no I/O: the store
// reads the facts, asks these functions, and writes what they decide.
package billing

import (
	"fmt"
	"time"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
)

// Series of documents, numbered per calendar year.
const (
	SeriesProforma   = "PF"
	SeriesInvoice    = "FV"
	SeriesCorrection = "KOR"
)

// Kinds of documents. A pro-forma asks for payment and is not a VAT
// invoice; the VAT invoice is issued when the payment is taken; a
// correction (faktura korygująca) exists only against a VAT invoice.
const (
	KindProforma   = "proforma"
	KindInvoice    = "invoice"
	KindCorrection = "correction"
)

// States of documents.
const (
	DocUnpaid = "unpaid"
	DocPaid   = "paid"
	DocVoid   = "void"
)

// Number is a document's number: series, year and a six-digit sequence,
// e.g. PF/2026/000001.
func Number(series string, year, seq int) string {
	return fmt.Sprintf("%s/%d/%06d", series, year, seq)
}

// Price is the net price of seats for one billing period of cycle
// ("monthly" or "annual") at unit, the net price per seat per month.
func Price(unit money.Grosze, seats int, cycle string) money.Grosze {
	return unit * money.Grosze(seats*order.Months(cycle))
}

// Totals are a document's amounts.
type Totals struct {
	Net, VAT, Gross money.Grosze
}

// Amounts is net with its VAT (Polish VAT, money.VAT) and gross.
func Amounts(net money.Grosze) Totals {
	vat := money.VAT(net)
	return Totals{Net: net, VAT: vat, Gross: net + vat}
}

// Negated is what a correction to zero of t says: every amount negated.
func (t Totals) Negated() Totals {
	return Totals{Net: -t.Net, VAT: -t.VAT, Gross: -t.Gross}
}

// Day is the date of t, at midnight UTC: how dates are kept.
func Day(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }

// AddMonths moves a date by months as PostgreSQL does for the first
// period: the 31st plus a month is the last day of a shorter month, not the
// 3rd of the one after.
func AddMonths(d time.Time, months int) time.Time {
	first := time.Date(d.Year(), d.Month()+time.Month(months), 1, 0, 0, 0, 0, time.UTC)
	return first.AddDate(0, 0, min(d.Day(), first.AddDate(0, 1, -1).Day())-1)
}

// Prorate is full × the days from from to end over the period's days
// (start to end), rounded half up to the grosz. A purchase on the period's
// last day still pays for that day.
func Prorate(full money.Grosze, from, start, end time.Time) money.Grosze {
	days := int64(end.Sub(start).Hours()/24 + 0.5)
	left := int64(end.Sub(from).Hours()/24 + 0.5)
	if days <= 0 || left >= days {
		return full
	}
	if left <= 0 {
		left = 1 // the last day is still a day of use
	}
	return money.Grosze((int64(full)*left*2 + days) / (days * 2))
}

// Licences is the net price of change more seats bought on today for the
// rest of the period start to end (end is the first day not paid for).
func Licences(unit money.Grosze, change int, cycle string, today, start, end time.Time) money.Grosze {
	return Prorate(Price(unit, change, cycle), Day(today), start, end)
}

// Document is what the void rule looks at of one document of a purchase.
type Document struct {
	Kind   string
	Status string
}

// Corrects says which of a purchase's documents a cancellation corrects:
// its VAT invoice, and only that. A pro-forma is not a VAT invoice and is
// never corrected (under Polish law it is simply void): a purchase that was
// never paid has nothing to correct, and ok is false.
func Corrects(docs []Document) (i int, ok bool) {
	for i, d := range docs {
		if d.Kind == KindInvoice {
			return i, true
		}
	}
	return -1, false
}

// CorrectionStatus is the state of a correction of a document in state
// corrected: on a paid one the money is owed back until the refund goes out
// (unpaid); on anything else nothing is owed.
func CorrectionStatus(corrected string) string {
	if corrected == DocPaid {
		return DocUnpaid
	}
	return DocPaid
}
