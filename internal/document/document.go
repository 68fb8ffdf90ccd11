// Package document renders the billing documents a Polish customer is owed
// (pro-forma, faktura VAT, faktura korygująca) as one-page A4 PDFs. The
// same document always renders to the same bytes: the PDF's dates are the
// issue date and nothing else varies, so a document rendered again (a
// retried step) is the one already stored.
package document

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/go-pdf/fpdf"
	"github.com/officeflow/officeflow/internal/money"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/text/unicode/norm"
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
	// Rate is the VAT rate as printed in the line's VAT column: "23%", or
	// "np" (not taxable in Poland; Document.VATNote says why). "" is 23%.
	Rate string
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
	// VATNote is the annotation a document without Polish VAT must carry,
	// printed under the totals: "odwrotne obciążenie" for reverse charge
	// (art. 106e ust. 1 pkt 18 ustawy o VAT), or why the sale is not taxable
	// in Poland. "" for 23%.
	VATNote string
	// KSeF is what KSeF gave the document, printed with its QR codes; nil
	// for a pro-forma, with KSeF off, or before the document is accepted or
	// issued offline.
	KSeF *KSeF
}

// KSeF is a VAT invoice's or a correction's mark from KSeF, as kody-qr.md
// of the Ministry's guide wants it on the document's visualisation.
type KSeF struct {
	// Number is the KSeF number, printed under KOD I; "" for a document
	// issued offline and not yet accepted, which prints "OFFLINE" instead.
	Number string
	// VerifyURL is KOD I: the link to verify the invoice in KSeF.
	VerifyURL string
	// CertificateURL is KOD II of an offline document: the signed link that
	// proves its issuer; "" for one issued online.
	CertificateURL string
}

// Replacement is printed for a character the document's font cannot show.
const Replacement = '?'

// glyphs is the set of BMP characters the embedded font has a glyph for,
// read once from its cmap (a bit per code point, 8 KiB).
var glyphs = sync.OnceValue(func() *[0x10000 / 64]uint64 {
	f, err := sfnt.Parse(goregular.TTF)
	if err != nil {
		panic("document: the embedded Go font does not parse: " + err.Error())
	}
	var set [0x10000 / 64]uint64
	var buf sfnt.Buffer
	for r := rune(0); r < 0x10000; r++ {
		if g, err := f.GlyphIndex(&buf, r); err == nil && g != 0 {
			set[r/64] |= 1 << (r % 64)
		}
	}
	return &set
})

// Printable is the text as the PDF prints it: every string that reaches the
// PDF writer (fpdf) goes through it, whatever its source. fpdf with an
// embedded TrueType font handles only characters of the Basic Multilingual
// Plane the font has a glyph for; others corrupt its output or make it
// panic (an emoji indexes past its CID map). So the text is composed (NFC,
// "e\u0301" prints as the font's "é"), format characters with no visible
// form of their own (bidi controls, zero-width joiners, soft hyphens,
// variation selectors, tags) are dropped, and every other character the
// font has no glyph for, every control character and every character
// outside the BMP (emoji) is printed as Replacement: "Acme 🚀" is "Acme ?".
// A run of invalid UTF-8 bytes is one Replacement. Polish, German,
// Scandinavian, Czech, Hungarian, Romanian, Greek and Cyrillic letters are
// all in the Go font and print as they are; Hebrew and Arabic are not.
func Printable(s string) string {
	plain := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			plain = false
			break
		}
	}
	if plain {
		return s
	}
	s = norm.NFC.String(strings.ToValidUTF8(s, string(Replacement)))
	set := glyphs()
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case unicode.Is(unicode.Cf, r), unicode.Is(unicode.Variation_Selector, r):
			continue
		case r > 0xffff, unicode.Is(unicode.Cc, r), set[r/64]&(1<<(r%64)) == 0:
			r = Replacement
		}
		b.WriteRune(r)
	}
	return b.String()
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

// rate is a line's VAT rate as printed: "" is the standard 23%.
func rate(r string) string {
	if r == "" {
		return "23%"
	}
	return r
}

// Render lays the document out on one A4 page: with the prepared font
// (font.go) when it has a code for every character the document prints,
// else with the UTF-8 font.
func Render(d Document) ([]byte, error) {
	if f, err := prepared(); err == nil {
		if pdf, ok, err := render(d, f); ok || err != nil {
			return pdf, err
		}
	}
	pdf, _, err := render(d, nil)
	return pdf, err
}

// render is Render with the prepared font f, or with the UTF-8 font if f
// is nil; false (and no PDF) if f has no code for a character printed.
func render(d Document, f *font) ([]byte, bool, error) {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetCatalogSort(true)
	p.SetCreationDate(d.Issued)
	p.SetModificationDate(d.Issued)
	p.SetTitle(Printable(title(d.Kind)+" "+d.Number), true)
	p.SetAuthor(Printable(d.Seller.Name), true)
	// One face only, headings set larger: the UTF-8 font is parsed, subset
	// and compressed per document; the prepared one (font.go) is copied in
	// as it is.
	if f != nil {
		p.AddFontFromBytes("go", "", f.def, f.file)
	} else {
		p.AddUTF8FontFromBytes("go", "", goregular.TTF)
	}
	p.SetAutoPageBreak(false, 10)
	p.AddPage()
	// Every text on the page goes through here, and so through Printable.
	// A character the prepared font has no code for stops nothing here:
	// the document is rendered again with the UTF-8 font (Render).
	missed := false
	cell := func(w, h float64, s, border string, ln int, align string) {
		s = Printable(s)
		if f != nil {
			var ok bool
			if s, ok = f.encode(s); !ok {
				missed = true
			}
		}
		p.CellFormat(w, h, s, border, ln, align, false, 0, "")
	}

	p.SetFont("go", "", 16)
	cell(0, 9, title(d.Kind)+" nr "+d.Number, "", 1, "L")
	p.SetFont("go", "", 9)
	line := func(s string) { cell(0, 4.5, s, "", 1, "L") }
	line("Data wystawienia: " + day(d.Issued) + "    Data sprzedaży: " + day(d.SaleDate))
	if d.KSeF != nil && d.KSeF.Number != "" {
		line("Numer KSeF: " + d.KSeF.Number)
	}
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
		cell(90, 5, head, "", 2, "L")
		p.SetFont("go", "", 9)
		for _, s := range []string{pt.Name, pt.Address, pt.PostalCode + " " + pt.City, pt.Country, "NIP: " + pt.NIP} {
			p.SetX(x)
			cell(90, 4.5, s, "", 2, "L")
		}
		if pt.BankAccount != "" {
			p.SetX(x)
			cell(90, 4.5, "Rachunek: "+pt.BankAccount, "", 2, "L")
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
		cell(c.w, 6, c.head, "1", 0, "C")
	}
	p.Ln(-1)
	p.SetFont("go", "", 8)
	for i, l := range d.Lines {
		cells := []string{fmt.Sprint(i + 1), l.Name, fmt.Sprint(l.Seats), l.Period, amount(l.UnitNet),
			amount(l.Net), rate(l.Rate), amount(l.VAT), amount(l.Gross)}
		for j, c := range cols {
			cell(c.w, 6, cells[j], "1", 0, c.align)
		}
		p.Ln(-1)
	}
	p.Ln(3)

	totals := func(label string, t Totals) {
		p.SetFont("go", "", 9)
		cell(118, 5.5, label, "", 0, "R")
		p.SetFont("go", "", 9)
		cell(24, 5.5, "netto "+amount(t.Net), "", 0, "R")
		cell(24, 5.5, "VAT "+amount(t.VAT), "", 0, "R")
		cell(24, 5.5, "brutto "+amount(t.Gross), "", 1, "R")
	}
	if d.Kind == Correction && d.Before != nil && d.After != nil {
		totals("Przed korektą:", *d.Before)
		totals("Po korekcie:", *d.After)
		totals("Różnica:", d.Totals)
	} else {
		r := ""
		if len(d.Lines) > 0 {
			r = d.Lines[0].Rate
		}
		totals("Razem (stawka "+rate(r)+"):", d.Totals)
	}
	if d.VATNote != "" {
		p.SetFont("go", "", 9)
		cell(0, 5.5, "Adnotacja: "+d.VATNote, "", 1, "L")
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
	cell(0, 6, label+amount(due)+" "+d.Currency, "", 1, "L")
	p.SetFont("go", "", 9)
	line("Słownie: " + due.Words())
	if d.PaymentMethod != "" {
		line("Sposób płatności: " + d.PaymentMethod)
	}
	if d.KSeF != nil {
		if err := codes(p, d.KSeF, cell); err != nil {
			return nil, false, err
		}
	}

	if missed {
		return nil, false, nil
	}
	if err := p.Error(); err != nil {
		return nil, false, err
	}
	var b bytes.Buffer
	if err := p.Output(&b); err != nil {
		return nil, false, err
	}
	return b.Bytes(), true, nil
}
