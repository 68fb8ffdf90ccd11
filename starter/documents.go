package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"text/tabwriter"

	"github.com/officeflow/officeflow/internal/intake"
)

// documents prints an order's billing documents as a table.
func documents(ctx context.Context, orderID string, stdout io.Writer) error {
	return documentTable(ctx, orderID, stdout, "ID\tKIND\tNUMBER\tISSUED\tSTATUS\tGROSS\tPDF\tCHARGE", func(w io.Writer, d intake.DocumentView) {
		// The charge column names what `pay -charge` pays; empty for the
		// order's own documents.
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s %s\t%s\t%s\n", d.ID, d.Kind, d.Number, d.IssuedAt, d.Status, d.Gross, d.Currency, d.PDF, d.ChargeID)
	})
}

// documentTable prints a table of an order's documents, read through the
// intake API: a header and one row per document, oldest first.
func documentTable(ctx context.Context, orderID string, stdout io.Writer, header string, row func(w io.Writer, d intake.DocumentView)) error {
	c, _, err := clientFromEnv()
	if err != nil {
		return err
	}
	docs, err := c.Documents(ctx, orderID)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, header)
	for _, d := range docs {
		row(tw, d)
	}
	return tw.Flush()
}

// downloadPDF writes a document's PDF to out ("-" for stdout).
func downloadPDF(ctx context.Context, documentID, out string, stdout io.Writer) error {
	c, _, err := clientFromEnv()
	if err != nil {
		return err
	}
	pdf, err := c.PDF(ctx, documentID)
	if err != nil {
		return err
	}
	if out == "-" {
		_, err = stdout.Write(pdf)
		return err
	}
	if err := os.WriteFile(out, pdf, 0o644); err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "wrote %s (%d bytes)\n", out, len(pdf))
	return err
}
