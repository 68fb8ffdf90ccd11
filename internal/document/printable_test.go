package document_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/pdftest"
	"github.com/stretchr/testify/require"
)

func TestPrintable(t *testing.T) {
	for in, want := range map[string]string{
		"Acme sp. z o.o.": "Acme sp. z o.o.",
		"Acme 🚀":          "Acme ?",
		"Zażółć Gęślą Jaźń ĄĘŁÓŚŻŹĆŃ":     "Zażółć Gęślą Jaźń ĄĘŁÓŚŻŹĆŃ",
		"Straße Ærø Ελλάδα България":      "Straße Ærø Ελλάδα България",
		"Őrült Știință Țară Žluťoučký":    "Őrült Știință Țară Žluťoučký",
		"„Cudowna” O’Brien & Co. 1/2":     "„Cudowna” O’Brien & Co. 1/2",
		"Zaz\u0307o\u0301\u0142c\u0301":   "Zażółć",      // decomposed: composed, printed with the font's letters
		"q\u0301":                         "q?",          // a mark with no composition and no glyph
		"שלום":                            "????",        // Hebrew: no glyphs in the Go font
		"شركة":                            "????",        // Arabic likewise
		"👩\u200d💻":                        "??",          // the joiner has no form of its own
		"❤\ufe0f":                         "?",           // nor the variation selector
		"Acme\u202eexe.pdf":               "Acmeexe.pdf", // a bidi override is dropped, not obeyed
		"A\u200bB\u00adC\u2066D\u2069":    "ABCD",
		"\x1b[31mred\x7f":                 "?[31mred?",
		"\x00\r\n\t\u0085":                "?????",
		"line\u2028break":                 "line?break",
		"bad \xff\xfe bytes \xed\xa0\x80": "bad ? bytes ?", // invalid UTF-8 and an encoded surrogate
		"\ufffd":                          "\ufffd",        // the font has U+FFFD
		"\U000f0000 \ue000":               "? ?",           // private use
		"":                                "",
	} {
		require.Equal(t, want, document.Printable(in), "%q", in)
	}
}

// TestEmojiAndRightToLeftPrintSubstituted: what the intake accepts renders,
// and pdftotext reads the substitutes next to the Polish letters as they are.
func TestEmojiAndRightToLeftPrintSubstituted(t *testing.T) {
	d := sample()
	d.Buyer.Name = "Acme 🚀 ąęłóśż"
	d.Buyer.Address = "רחוב הרצל 1 / شارع 2"
	d.Buyer.City = "Łódź 👩‍💻"
	d.Seller.Name = "Sprzedawca ❤️"
	d.Lines[0].Name = "Microsoft 365 🏢"
	pdf, err := document.Render(d)
	require.NoError(t, err)
	again, err := document.Render(d)
	require.NoError(t, err)
	require.Equal(t, pdf, again, "still the same bytes every time")
	text := pdftest.Text(t, pdf)
	for _, want := range []string{"Acme ? ąęłóśż", "???? ???? 1 / ???? 2", "90-001 Łódź ??", "Sprzedawca ?", "Microsoft 365 ?"} {
		require.Contains(t, text, want, "the PDF's text:\n%s", text)
	}
}

// FuzzRender feeds arbitrary strings into every text field of a document:
// the renderer never panics, never fails, and always writes a PDF.
// `go test` runs the seeds; `go test -fuzz FuzzRender ./internal/document`
// looks for more.
func FuzzRender(f *testing.F) {
	long := strings.Repeat("Zażółć gęślą jaźń 🚀 ", 2000)
	for _, s := range [][4]string{
		{"Acme 🚀", "שלום עולם", "شركة أكمي", "👩\u200d💻❤\ufe0f🏳\ufe0f\u200d🌈"},
		{"e\u0301\u0302\u0303\u0304\u0305", "Z\u0351\u0352\u0353a\u0354\u0355l\u0356\u0357g\u0358o", "\u0301", "a\u20dd"},
		{"\xed\xa0\x80", "\xed\xbf\xbf", "\xff\xfe\xfd", "\xf0\x9f\x9a"}, // encoded surrogates, bad bytes, a cut emoji
		{"\x00", "\r\n\t", "\x1b[2J\x7f", "\u0085\u009b"},
		{"\u202eexe.pdf", "\u2066\u2067\u2068\u2069\u200e\u200f\u061c", "\u2028\u2029", "\ufeff\u200b\u00ad\U000e0041"},
		{"(", ")", "\\", "(\\)\\(%%EOF"},
		{"\ufffd\ufffe\uffff", "\U0010ffff", "\U000f0000\ue000", "\ud7ff\ue000"},
		{long, long[:1001], strings.Repeat("\u0301", 5000), strings.Repeat("(", 3000)},
		{"", " ", "\u00a0", "\u3000"},
	} {
		f.Add(s[0], s[1], s[2], s[3])
	}
	f.Fuzz(func(t *testing.T, a, b, c, e string) {
		d := sample()
		d.Number, d.Refers, d.Reason, d.PaymentMethod, d.Currency = a, b, c, e, a
		d.Buyer = document.Party{Name: a, Address: b, PostalCode: c, City: e, Country: a + b, NIP: c + e, BankAccount: e}
		d.Seller = document.Party{Name: e, Address: c, PostalCode: b, City: a, Country: c, NIP: b, BankAccount: a}
		d.Lines = append(d.Lines, document.Line{Name: a + e, Period: b, Seats: 1})
		for _, kind := range []string{document.Invoice, document.Proforma, document.Correction} {
			d.Kind = kind
			if kind == document.Correction {
				d.Before, d.After = &document.Totals{Net: 1}, &document.Totals{}
			}
			pdf, err := document.Render(d)
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf[len(pdf)-32:], []byte("%%EOF")) {
				t.Fatalf("%s: not a PDF: %.40q ... %q", kind, pdf, pdf[max(0, len(pdf)-32):])
			}
		}
	})
}
