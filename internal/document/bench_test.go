package document_test

import (
	"testing"

	"github.com/officeflow/officeflow/internal/document"
)

// The documents an order's payment path renders: the pro-forma, the VAT
// invoice (again once KSeF accepts it, with its number and KOD I), and a
// correction when an order is cancelled.
func BenchmarkRender(b *testing.B) {
	for _, c := range []struct {
		name string
		doc  func() document.Document
	}{{"invoice", sample}, {"correction", correction}, {"ksef-accepted", accepted}} {
		d := c.doc()
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := document.Render(d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// correction is the sample invoice's correction to zero.
func correction() document.Document {
	kor := sample()
	kor.Kind, kor.Number, kor.Refers, kor.Reason = document.Correction, "KOR/2026/000007", "FV/2026/000042", "anulowanie zamówienia"
	kor.PaidOn = nil
	kor.Before = &document.Totals{Net: 27000, VAT: 6210, Gross: 33210}
	kor.After = &document.Totals{}
	kor.Totals = document.Totals{Net: -27000, VAT: -6210, Gross: -33210}
	for i := range kor.Lines {
		l := &kor.Lines[i]
		l.Net, l.VAT, l.Gross = -l.Net, -l.VAT, -l.Gross
	}
	return kor
}

// accepted is the sample invoice as KSeF accepted it: its number and KOD I.
func accepted() document.Document {
	d := sample()
	d.KSeF = &document.KSeF{Number: ksefNumber, VerifyURL: verifyURL}
	return d
}
