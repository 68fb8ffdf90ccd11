package bench

import (
	"context"
	"fmt"
	"runtime"

	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/store"
)

// docRenders is how many times each document kind is made for its cost.
const docRenders = 100

// documentCost is the CPU each document kind costs, made in the bench's own
// process through the packages' public API (document.Render, ksef.FA3)
// from a saga order's VAT invoice as the store holds it (with its KSeF
// mark, so its PDF has the QR code), and from a correction of that invoice
// to zero, also with a KSeF mark. It runs when the stack is idle: the process's CPU, garbage
// collection included, over docRenders of each, sequentially.
func (r *runner) documentCost(ctx context.Context, res *Result) error {
	orderID := r.request("s", 0).OrderID
	var id int64
	if err := r.st.Store.Pool.QueryRow(ctx, `SELECT id FROM invoices WHERE order_id = $1 AND kind = 'invoice'`, orderID).Scan(&id); err != nil {
		return fmt.Errorf("document cost: the invoice of %s: %w", orderID, err)
	}
	src, err := r.st.Store.Source(ctx, id)
	if err != nil {
		return fmt.Errorf("document cost: %w", err)
	}
	corr, corrOpts := correctionOf(src)
	invOpts := ksef.Options{}
	for _, k := range []struct {
		into *float64
		make func() error
	}{
		{&res.Documents.PDFInvoiceMS, func() error { _, err := document.Render(src.Doc); return err }},
		{&res.Documents.PDFCorrectionMS, func() error { _, err := document.Render(corr); return err }},
		{&res.Documents.FA3InvoiceMS, func() error { _, err := ksef.FA3(src.Doc, src.VAT, invOpts); return err }},
		{&res.Documents.FA3CorrectionMS, func() error { _, err := ksef.FA3(corr, src.VAT, corrOpts); return err }},
	} {
		// Once outside the count: an error says so before any timing, and
		// anything made once per process is made.
		if err := k.make(); err != nil {
			return fmt.Errorf("document cost: %w", err)
		}
		runtime.GC()
		cpu := cpuSeconds()
		for range docRenders {
			if err := k.make(); err != nil {
				return fmt.Errorf("document cost: %w", err)
			}
		}
		*k.into = (cpuSeconds() - cpu) * 1000 / docRenders
	}
	res.Documents.Renders = docRenders
	return nil
}

// correctionOf is a correction of the invoice to zero (every seat given
// back), as the store would issue it: one line, the totals after less
// before, and what the FA(3) XML needs of the corrected invoice.
func correctionOf(inv store.Source) (document.Document, ksef.Options) {
	d := inv.Doc
	before, after := d.Totals, document.Totals{}
	d.Kind, d.Number, d.Refers, d.Reason = document.Correction, "FK/BENCH/000001", inv.Doc.Number, "anulowanie zamówienia"
	// d.KSeF stays the invoice's: an accepted correction's PDF carries its
	// own KSeF number and QR code the same way.
	d.PaidOn, d.Due = nil, nil
	d.Before, d.After = &before, &after
	d.Totals = document.Totals{Net: -before.Net, VAT: -before.VAT, Gross: -before.Gross}
	line := document.Line{Name: "Microsoft 365", Seats: 1, Period: "1 mies.", Rate: ""}
	if len(inv.Doc.Lines) > 0 {
		line = inv.Doc.Lines[0]
	}
	line.Net, line.VAT, line.Gross = d.Totals.Net, d.Totals.VAT, d.Totals.Gross
	d.Lines = []document.Line{line}
	o := ksef.Options{Corrected: ksef.Corrected{Issued: inv.Doc.Issued}}
	if inv.Doc.KSeF != nil {
		o.Corrected.KSeFNumber = inv.Doc.KSeF.Number
	}
	return d, o
}
