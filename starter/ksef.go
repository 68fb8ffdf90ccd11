package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// ksef prints the KSeF state of an order's documents as a table: what an
// operator checks when an invoice is late in KSeF or was rejected.
func ksef(ctx context.Context, orderID string, stdout io.Writer) error {
	c, _, err := clientFromEnv()
	if err != nil {
		return err
	}
	docs, err := c.Documents(ctx, orderID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NUMBER\tKIND\tKSEF\tKSEF_NUMBER\tNOTE")
	for _, d := range docs {
		if d.KSeF == nil {
			// Listed all the same, so that a VAT invoice issued with
			// KSEF_MODE=off shows as not sent rather than missing.
			fmt.Fprintf(tw, "%s\t%s\t-\t\t\n", d.Number, d.Kind)
			continue
		}
		k := d.KSeF
		note := cell(k.Reason)
		if k.Deadline != "" {
			note = "send by " + k.Deadline
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Number, d.Kind, k.Status, k.Number, note)
	}
	return tw.Flush()
}

// cell keeps a free text (KSeF's reason) on one line of its table cell: a
// tab or newline in it would break the table.
func cell(s string) string { return strings.Join(strings.Fields(s), " ") }
