package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/officeflow/officeflow/internal/intake"
)

// ksef prints the KSeF state of an order's documents as a table: what an
// operator checks when an invoice is late in KSeF or was rejected.
func ksef(ctx context.Context, orderID string, stdout io.Writer) error {
	return documentTable(ctx, orderID, stdout, "NUMBER\tKIND\tKSEF\tKSEF_NUMBER\tNOTE", func(w io.Writer, d intake.DocumentView) {
		if d.KSeF == nil {
			// Listed all the same, so that a VAT invoice issued with
			// KSEF_MODE=off shows as not sent rather than missing.
			fmt.Fprintf(w, "%s\t%s\t-\t\t\n", d.Number, d.Kind)
			return
		}
		k := d.KSeF
		note := cell(k.Reason)
		if k.Deadline != "" {
			note = "send by " + k.Deadline
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", d.Number, d.Kind, k.Status, k.Number, note)
	})
}

// cell keeps a free text (KSeF's reason) on one line of its table cell: a
// tab or newline in it would break the table.
func cell(s string) string { return strings.Join(strings.Fields(s), " ") }
