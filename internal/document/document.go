// Package document renders the billing documents a Polish customer is owed
// (pro-forma, faktura VAT, faktura korygująca) as one-page A4 PDFs. The
// same document always renders to the same bytes: the PDF's dates are the
// issue date and nothing else varies, so a document rendered again (a
// retried step) is the one already stored.
package document

import (
	"bytes"
	"fmt"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/officeflow/officeflow/internal/money"
	"golang.org/x/image/font/gofont/goregular"
)

// Kinds of document.
const (
	Proforma   = "proforma"
	Invoice    = "invoice"
	Correction = "correction"
)

// Party is the seller or the buyer as the document names them.
type Party struct {
	Name, Address, PostalCode, City, Country string
	NIP                                      string
	BankAccount                              string // the seller's, for the transfer
}

// Line is one item: a plan's seats for a period.
type Line struct {
	Name    string
	Seats   int
	Period  string // e.g. "1 mies." or "12 mies."
	UnitNet money.Grosze
	Net     money.Grosze
	VAT     money.Grosze
	Gross   money.Grosze
}

// Totals of a document, or of what a correction changes.
type Totals struct{ Net, VAT, Gross money.Grosze }

// Document is everything printed on one.
type Document struct {
	Kind          string
	Number        string
	Issued        time.Time
	SaleDate      time.Time
	Due           *time.Time // pro-forma: the payment deadline
	PaidOn        *time.Time // invoice: the day the payment came
	Refers        string     // invoice: the pro-forma it settles; correction: the document it corrects
	Reason        string     // correction: why
	Seller, Buyer Party
	Lines         []Line
	Totals        Totals
	Before, After *Totals // correction: the corrected document's totals, and what stands now
	PaymentMethod string
	Currency      string
}

func title(kind string) string {
	switch kind {
	case Invoice:
		return "Faktura VAT"
	case Correction:
		return "Faktura korygująca"
	default:
		return "Faktura pro forma"
	}
}

func day(t time.Time) string { return t.Format("2006-01-02") }

func amount(g money.Grosze) string { return g.Local("pl") }

// Render lays the document out on one A4 page.
func Render(d Document) ([]byte, error) {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCatalogSort(true)
	p.SetCreationDate(d.Issued)
	p.SetModificationDate(d.Issued)
	p.SetTitle(title(d.Kind)+" "+d.Number, true)
	p.SetAuthor(d.Seller.Name, true)
	// One face only: each embedded TTF is parsed, subset and compressed per
	// document, about 5 ms of CPU apiece; headings are set larger instead.
	p.AddUTF8FontFromBytes("go", "", goregular.TTF)
	p.SetAutoPageBreak(false, 10)
	p.AddPage()

	p.SetFont("go", "", 16)
	p.CellFormat(0, 9, title(d.Kind)+" nr "+d.Number, "", 1, "L", false, 0, "")
	p.SetFont("go", "", 9)
	line := func(s string) { p.CellFormat(0, 4.5, s, "", 1, "L", false, 0, "") }
	line("Data wystawienia: " + day(d.Issued) + "    Data sprzedaży: " + day(d.SaleDate))
	switch d.Kind {
	case Proforma:
		line("Dokument nie jest fakturą VAT i nie stanowi podstawy do odliczenia podatku.")
		if d.Due != nil {
			line("Termin płatności: " + day(*d.Due))
		}
	case Invoice:
		if d.PaidOn != nil {
			line("Zapłacono: " + day(*d.PaidOn))
		}
		if d.Refers != "" {
			line("Rozlicza fakturę pro forma nr " + d.Refers)
		}
	case Correction:
		line("Korekta dokumentu nr " + d.Refers)
		if d.Reason != "" {
			line("Przyczyna korekty: " + d.Reason)
		}
	}
	p.Ln(4)

	// Seller and buyer side by side.
	y := p.GetY()
	party := func(x float64, head string, pt Party) {
		p.SetXY(x, y)
		p.SetFont("go", "", 10)
		p.CellFormat(90, 5, head, "", 2, "L", false, 0, "")
		p.SetFont("go", "", 9)
		for _, s := range []string{pt.Name, pt.Address, pt.PostalCode + " " + pt.City, pt.Country, "NIP: " + pt.NIP} {
			p.SetX(x)
			p.CellFormat(90, 4.5, s, "", 2, "L", false, 0, "")
		}
		if pt.BankAccount != "" {
			p.SetX(x)
			p.CellFormat(90, 4.5, "Rachunek: "+pt.BankAccount, "", 2, "L", false, 0, "")
		}
	}
	party(10, "Sprzedawca", d.Seller)
	party(110, "Nabywca", d.Buyer)
	p.SetXY(10, y+38)

	// Lines.
	cols := []struct {
		head  string
		w     float64
		align string
	}{{"Lp.", 8, "C"}, {"Nazwa", 62, "L"}, {"Ilość", 12, "R"}, {"Okres", 16, "C"}, {"Cena netto", 20, "R"},
		{"Netto", 20, "R"}, {"VAT", 12, "C"}, {"Kwota VAT", 20, "R"}, {"Brutto", 20, "R"}}
	p.SetFont("go", "", 8)
	for _, c := range cols {
		p.CellFormat(c.w, 6, c.head, "1", 0, "C", false, 0, "")
	}
	p.Ln(-1)
	p.SetFont("go", "", 8)
	for i, l := range d.Lines {
		cells := []string{fmt.Sprint(i + 1), l.Name, fmt.Sprint(l.Seats), l.Period, amount(l.UnitNet),
			amount(l.Net), "23%", amount(l.VAT), amount(l.Gross)}
		for j, c := range cols {
			p.CellFormat(c.w, 6, cells[j], "1", 0, c.align, false, 0, "")
		}
		p.Ln(-1)
	}
	p.Ln(3)

	totals := func(label string, t Totals) {
		p.SetFont("go", "", 9)
		p.CellFormat(118, 5.5, label, "", 0, "R", false, 0, "")
		p.SetFont("go", "", 9)
		p.CellFormat(24, 5.5, "netto "+amount(t.Net), "", 0, "R", false, 0, "")
		p.CellFormat(24, 5.5, "VAT "+amount(t.VAT), "", 0, "R", false, 0, "")
		p.CellFormat(24, 5.5, "brutto "+amount(t.Gross), "", 1, "R", false, 0, "")
	}
	if d.Kind == Correction && d.Before != nil && d.After != nil {
		totals("Przed korektą:", *d.Before)
		totals("Po korekcie:", *d.After)
		totals("Różnica:", d.Totals)
	} else {
		totals("Razem (stawka 23%):", d.Totals)
	}
	p.Ln(4)

	due := d.Totals.Gross
	label := "Do zapłaty: "
	switch {
	case d.Kind == Invoice:
		label = "Zapłacono: "
	case due < 0:
		label, due = "Do zwrotu: ", -due
	}
	p.SetFont("go", "", 11)
	p.CellFormat(0, 6, label+amount(due)+" "+d.Currency, "", 1, "L", false, 0, "")
	p.SetFont("go", "", 9)
	line("Słownie: " + due.Words())
	if d.PaymentMethod != "" {
		line("Sposób płatności: " + d.PaymentMethod)
	}

	if err := p.Error(); err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
