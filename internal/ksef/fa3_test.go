package ksef_test

import (
	"bytes"
	"encoding/xml"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/stretchr/testify/require"
)

// schema finds the Ministry's material: shared/ksef beside the clone
// (/work/shared beside /work/main; /tmp/shared beside a CI clone in
// /tmp/ciN) or inside a parent, walking up from the test's directory. It
// fails, never skips: an invoice nobody validated is not tested.
func schema(t *testing.T) (xsd, catalog string) {
	t.Helper()
	if _, err := exec.LookPath("xmllint"); err != nil {
		t.Fatal("xmllint is missing: install Debian's libxml2-utils (.ci/run does)")
	}
	wd, err := os.Getwd()
	require.NoError(t, err)
	for dir := wd; ; dir = filepath.Dir(dir) {
		catalog = filepath.Join(dir, "shared", "ksef", "catalog.xml")
		if _, err := os.Stat(catalog); err == nil {
			return filepath.Join(dir, "shared", "ksef", "faktury", "schemy", "FA", "schemat_FA(3)_v1-0E.xsd"), catalog
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("shared/ksef/catalog.xml not found in %s or any parent (or beside one): the FA(3) schema is needed to validate", wd)
		}
	}
}

// validate runs xmllint on doc against the FA(3) schema, offline; it
// returns xmllint's complaint when the document is invalid.
func validate(t *testing.T, doc []byte) error {
	t.Helper()
	xsd, catalog := schema(t)
	f := filepath.Join(t.TempDir(), "fa3.xml")
	require.NoError(t, os.WriteFile(f, doc, 0o600))
	cmd := exec.Command("xmllint", "--noout", "--nonet", "--schema", xsd, f)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+catalog)
	out, err := cmd.CombinedOutput()
	if err != nil {
		var exit *exec.ExitError
		require.True(t, errors.As(err, &exit), "xmllint did not run: %v", err)
		return errors.New(string(out))
	}
	require.Contains(t, string(out), "validates", "xmllint said: %s", out)
	return nil
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

var seller = document.Party{
	Name: "Officeflow sp. z o.o.", Address: "ul. Marszałkowska 1", PostalCode: "00-001", City: "Warszawa",
	Country: "PL", NIP: "5260250995", BankAccount: "PL61 1090 1014 0000 0712 1981 2874",
}

// ksefNumber is in the real format: the seller's NIP, the day, twelve hex
// digits and their CRC-8 (polynomial 0x07), as numer-ksef.md describes.
const ksefNumber = "5260250995-20260302-0100001AF629-70"

var buyers = map[string]document.Party{
	"PL business":     {Name: "Acme sp. z o.o.", Address: "ul. Prosta 1", PostalCode: "00-850", City: "Warszawa", Country: "PL", NIP: "5213017228"},
	"PL consumer":     {Name: "Jan Kowalski", Address: "ul. Długa 5/2", PostalCode: "31-147", City: "Kraków", Country: "PL"},
	"EU business":     {Name: "Beispiel GmbH", Address: "Friedrichstraße 10", PostalCode: "10117", City: "Berlin", Country: "DE", NIP: "DE123456789"},
	"EU consumer":     {Name: "Marie Dupont", Address: "12 rue de Rivoli", PostalCode: "75004", City: "Paris", Country: "FR"},
	"GR business":     {Name: "Paradeigma AE", Address: "Odos Ermou 1", PostalCode: "10563", City: "Athina", Country: "GR", NIP: "EL094014201"},
	"non-EU":          {Name: "Example Inc.", Address: "1 Market St", PostalCode: "94105", City: "San Francisco", Country: "US", NIP: "12-3456789"},
	"non-EU consumer": {Name: "John Smith", Address: "10 Downing St", PostalCode: "SW1A 2AA", City: "London", Country: "GB"},
}

// invoice is a paid VAT invoice for 5 seats of a monthly plan at 54.00 a
// seat, with the buyer's VAT treatment.
func invoice(buyer document.Party) (document.Document, billing.VAT) {
	vat := billing.VATFor(buyer.Country, buyer.NIP)
	a := vat.Amounts(27000)
	paid := date(2026, 3, 2)
	return document.Document{
		Kind: document.Invoice, Number: "FV/2026/000042", Issued: paid, SaleDate: paid, PaidOn: &paid,
		Refers: "PF/2026/000041", Seller: seller, Buyer: buyer,
		Lines: []document.Line{{Name: "Microsoft 365 Business Standard", Seats: 5, Period: "1 mies.",
			UnitNet: 5400, Net: a.Net, VAT: a.VAT, Gross: a.Gross}},
		Totals:        document.Totals{Net: a.Net, VAT: a.VAT, Gross: a.Gross},
		PaymentMethod: "przelew lub płatność online (bramka płatności)", Currency: "PLN",
	}, vat
}

// correction takes the whole invoice back, as a cancellation does.
func correction(buyer document.Party) (document.Document, billing.VAT, ksef.Options) {
	inv, vat := invoice(buyer)
	before := inv.Totals
	diff := vat.Amounts(-before.Net)
	d := document.Document{
		Kind: document.Correction, Number: "KOR/2026/000007", Issued: date(2026, 3, 20), SaleDate: inv.SaleDate,
		Refers: inv.Number, Reason: "anulowanie zamówienia", Seller: seller, Buyer: buyer,
		Lines: []document.Line{{Name: inv.Lines[0].Name, Seats: 5, Period: "1 mies.", UnitNet: 5400,
			Net: diff.Net, VAT: diff.VAT, Gross: diff.Gross}},
		Totals: document.Totals{Net: diff.Net, VAT: diff.VAT, Gross: diff.Gross},
		Before: &before, After: &document.Totals{},
		PaymentMethod: inv.PaymentMethod, Currency: "PLN",
	}
	return d, vat, ksef.Options{Corrected: ksef.Corrected{Issued: inv.Issued, KSeFNumber: ksefNumber}}
}

func TestFA3ValidatesForEveryKindAndTaxCase(t *testing.T) {
	cases := []struct {
		name, buyer string
		correction  bool
		outsideKSeF bool     // the corrected invoice was issued outside KSeF
		want        []string // in the XML
		absent      []string
	}{
		{name: "invoice, PL business 23%", buyer: "PL business",
			want:   []string{"<NIP>5213017228</NIP>", "<P_13_1>270.00</P_13_1>", "<P_14_1>62.10</P_14_1>", "<P_15>332.10</P_15>", "<P_12>23</P_12>", "<P_18>2</P_18>", "<RodzajFaktury>VAT</RodzajFaktury>", "<Zaplacono>1</Zaplacono>", "<DataZaplaty>2026-03-02</DataZaplaty>"},
			absent: []string{"PrefiksPodatnika", "DodatkowyOpis"}},
		{name: "invoice, PL consumer 23%", buyer: "PL consumer",
			want: []string{"<BrakID>1</BrakID>", "<P_13_1>270.00</P_13_1>", "<P_14_1>62.10</P_14_1>", "<P_15>332.10</P_15>"}},
		{name: "invoice, EU business reverse charge", buyer: "EU business",
			want: []string{"<PrefiksPodatnika>PL</PrefiksPodatnika>", "<KodUE>DE</KodUE>", "<NrVatUE>123456789</NrVatUE>",
				"<P_13_9>270.00</P_13_9>", "<P_15>270.00</P_15>", "<P_12>np II</P_12>", "<P_18>1</P_18>", "<Wartosc>odwrotne obciążenie</Wartosc>"},
			absent: []string{"P_13_1", "P_14_1"}},
		{name: "invoice, Greek business reverse charge (EL)", buyer: "GR business",
			want: []string{"<KodUE>EL</KodUE>", "<NrVatUE>094014201</NrVatUE>", "<KodKraju>GR</KodKraju>", "<P_18>1</P_18>"}},
		{name: "invoice, EU consumer 23% (no OSS)", buyer: "EU consumer",
			want: []string{"<BrakID>1</BrakID>", "<KodKraju>FR</KodKraju>", "<P_13_1>270.00</P_13_1>", "<P_18>2</P_18>"}},
		{name: "invoice, non-EU business np", buyer: "non-EU",
			want:   []string{"<KodKraju>US</KodKraju>", "<NrID>12-3456789</NrID>", "<P_13_8>270.00</P_13_8>", "<P_15>270.00</P_15>", "<P_12>np I</P_12>", "<P_18>2</P_18>", "art. 28b"},
			absent: []string{"P_13_1", "PrefiksPodatnika"}},
		{name: "invoice, non-EU consumer np", buyer: "non-EU consumer",
			want: []string{"<BrakID>1</BrakID>", "<P_13_8>270.00</P_13_8>", "art. 28k"}},
		{name: "correction, PL business, invoice in KSeF", buyer: "PL business", correction: true,
			want: []string{"<RodzajFaktury>KOR</RodzajFaktury>", "<PrzyczynaKorekty>anulowanie zamówienia</PrzyczynaKorekty>",
				"<NrFaKorygowanej>FV/2026/000042</NrFaKorygowanej>", "<DataWystFaKorygowanej>2026-03-02</DataWystFaKorygowanej>",
				"<NrKSeF>1</NrKSeF>", "<NrKSeFFaKorygowanej>" + ksefNumber + "</NrKSeFFaKorygowanej>",
				"<P_13_1>-270.00</P_13_1>", "<P_14_1>-62.10</P_14_1>", "<P_15>-332.10</P_15>", "<StanPrzed>1</StanPrzed>"},
			absent: []string{"NrKSeFN", "Platnosc"}},
		{name: "correction, EU business, invoice outside KSeF", buyer: "EU business", correction: true, outsideKSeF: true,
			want: []string{"<NrKSeFN>1</NrKSeFN>", "<P_13_9>-270.00</P_13_9>", "<P_15>-270.00</P_15>", "<P_18>1</P_18>"}},
		{name: "correction, non-EU np", buyer: "non-EU", correction: true,
			want: []string{"<P_13_8>-270.00</P_13_8>", "<P_12>np I</P_12>"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, vat := invoice(buyers[c.buyer])
			var o ksef.Options
			if c.correction {
				d, vat, o = correction(buyers[c.buyer])
				if c.outsideKSeF {
					o.Corrected.KSeFNumber = ""
				}
			}
			out, err := ksef.FA3(d, vat, o)
			require.NoError(t, err)
			require.NoError(t, validate(t, out), "%s", out)
			s := string(out)
			require.True(t, strings.HasPrefix(s, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+`<Faktura xmlns="`+ksef.Namespace+`">`), s)
			for _, w := range c.want {
				require.Contains(t, s, w)
			}
			for _, a := range c.absent {
				require.NotContains(t, s, a)
			}
			again, err := ksef.FA3(d, vat, o)
			require.NoError(t, err)
			require.Equal(t, out, again, "the same document is the same bytes")
		})
	}
}

func TestFA3UnpaidInvoiceNamesTheAccount(t *testing.T) {
	d, vat := invoice(buyers["PL business"])
	d.PaidOn = nil
	d.PaymentMethod = "przelew"
	out, err := ksef.FA3(d, vat, ksef.Options{Created: time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)})
	require.NoError(t, err)
	require.NoError(t, validate(t, out), "%s", out)
	s := string(out)
	require.Contains(t, s, "<FormaPlatnosci>6</FormaPlatnosci>")
	require.Contains(t, s, "<NrRB>PL61109010140000071219812874</NrRB>")
	require.Contains(t, s, "<DataWytworzeniaFa>2026-03-02T09:30:00Z</DataWytworzeniaFa>")
	require.NotContains(t, s, "Zaplacono")
}

func TestFA3RefusesAProforma(t *testing.T) {
	d, vat := invoice(buyers["PL business"])
	d.Kind = document.Proforma
	_, err := ksef.FA3(d, vat, ksef.Options{})
	require.ErrorIs(t, err, ksef.ErrProforma)
	require.ErrorContains(t, err, "a pro-forma is not a VAT invoice and never goes to KSeF")
}

func TestFA3TotalsEqualTheDocumentTotals(t *testing.T) {
	amount := func(s string) money.Grosze {
		neg := strings.HasPrefix(s, "-")
		g, err := money.Parse(strings.TrimPrefix(s, "-"))
		require.NoError(t, err, s)
		if neg {
			return -g
		}
		return g
	}
	for name, buyer := range buyers {
		for _, kind := range []string{document.Invoice, document.Correction} {
			t.Run(kind+", "+name, func(t *testing.T) {
				d, vat := invoice(buyer)
				var o ksef.Options
				if kind == document.Correction {
					d, vat, o = correction(buyer)
				}
				out, err := ksef.FA3(d, vat, o)
				require.NoError(t, err)
				var read struct {
					Fa struct {
						P13_1 string `xml:"P_13_1"`
						P14_1 string `xml:"P_14_1"`
						P13_8 string `xml:"P_13_8"`
						P13_9 string `xml:"P_13_9"`
						P15   string `xml:"P_15"`
						Rows  []struct {
							P11       string `xml:"P_11"`
							StanPrzed int    `xml:"StanPrzed"`
						} `xml:"FaWiersz"`
					} `xml:"Fa"`
				}
				require.NoError(t, xml.NewDecoder(bytes.NewReader(out)).Decode(&read))
				f := read.Fa
				var net, tax money.Grosze
				for _, s := range []string{f.P13_1, f.P13_8, f.P13_9} {
					if s != "" {
						net += amount(s)
					}
				}
				if f.P14_1 != "" {
					tax = amount(f.P14_1)
				}
				require.Equal(t, d.Totals.Net, net, "net")
				require.Equal(t, d.Totals.VAT, tax, "VAT")
				require.Equal(t, d.Totals.Gross, amount(f.P15), "gross")
				// the lines: an invoice's add up to the net; a correction's
				// after less before is the net it takes off
				var rows money.Grosze
				for _, r := range f.Rows {
					if r.StanPrzed == 1 {
						rows -= amount(r.P11)
					} else {
						rows += amount(r.P11)
					}
				}
				require.Equal(t, d.Totals.Net, rows, "lines")
			})
		}
	}
}

func TestFA3BrokenDocumentIsCaught(t *testing.T) {
	t.Run("seller without NIP: the schema refuses it", func(t *testing.T) {
		d, vat := invoice(buyers["PL business"])
		d.Seller.NIP = ""
		out, err := ksef.FA3(d, vat, ksef.Options{})
		require.NoError(t, err, "identifiers are the schema's to check")
		err = validate(t, out)
		require.Error(t, err)
		require.Contains(t, err.Error(), "NIP")
	})
	t.Run("Polish buyer with a malformed NIP: the schema refuses it", func(t *testing.T) {
		d, vat := invoice(buyers["PL business"])
		d.Buyer.NIP = "0123"
		out, err := ksef.FA3(d, vat, ksef.Options{})
		require.NoError(t, err)
		require.Error(t, validate(t, out))
	})
	for _, c := range []struct {
		name   string
		mutate func(*document.Document, *billing.VAT, *ksef.Options)
		want   string
	}{
		{"wrong total", func(d *document.Document, _ *billing.VAT, _ *ksef.Options) { d.Totals.Gross++ }, "the lines add up to"},
		{"VAT not 23% of the net", func(d *document.Document, _ *billing.VAT, _ *ksef.Options) {
			d.Totals.VAT--
			d.Totals.Gross--
			d.Lines[0].VAT--
			d.Lines[0].Gross--
		}, "are not net with VAT"},
		{"Polish VAT on a reverse-charge sale", func(_ *document.Document, v *billing.VAT, _ *ksef.Options) {
			*v = billing.VATFor("DE", "DE123456789")
		}, "are not net with VAT np II"},
		{"unknown VAT code", func(_ *document.Document, v *billing.VAT, _ *ksef.Options) { v.Code = "zw" }, "not one officeflow issues"},
		{"no lines", func(d *document.Document, _ *billing.VAT, _ *ksef.Options) { d.Lines = nil }, "no lines"},
		{"unknown kind", func(d *document.Document, _ *billing.VAT, _ *ksef.Options) { d.Kind = "receipt" }, "unknown kind"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, vat := invoice(buyers["PL business"])
			o := ksef.Options{}
			c.mutate(&d, &vat, &o)
			_, err := ksef.FA3(d, vat, o)
			require.ErrorContains(t, err, c.want)
		})
	}
	for _, c := range []struct {
		name   string
		mutate func(*document.Document, *ksef.Options)
		want   string
	}{
		{"correction not after less before", func(d *document.Document, _ *ksef.Options) { d.After = &document.Totals{Net: 100, VAT: 23, Gross: 123} }, "not after less before"},
		{"correction without before", func(d *document.Document, _ *ksef.Options) { d.Before = nil }, "before and after"},
		{"correction of nothing", func(d *document.Document, _ *ksef.Options) { d.Refers = "" }, "names no invoice"},
		{"correction without the corrected invoice's date", func(_ *document.Document, o *ksef.Options) { o.Corrected.Issued = time.Time{} }, "issue date"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, vat, o := correction(buyers["PL business"])
			c.mutate(&d, &o)
			_, err := ksef.FA3(d, vat, o)
			require.ErrorContains(t, err, c.want)
		})
	}
}

// The validation really runs: a valid document made invalid in small ways
// fails xmllint, each time.
func TestFA3SchemaValidationRejectsInvalidXML(t *testing.T) {
	d, vat := invoice(buyers["PL business"])
	out, err := ksef.FA3(d, vat, ksef.Options{})
	require.NoError(t, err)
	require.NoError(t, validate(t, out))
	for name, broken := range map[string]string{
		"another namespace":         strings.Replace(string(out), ksef.Namespace, "http://crd.gov.pl/wzor/2023/06/29/12648/", 1),
		"a rate the schema has not": strings.Replace(string(out), "<P_12>23</P_12>", "<P_12>23%</P_12>", 1),
		"no P_15":                   strings.Replace(string(out), "<P_15>332.10</P_15>", "", 1),
		"three decimals":            strings.Replace(string(out), "<P_15>332.10</P_15>", "<P_15>332.100</P_15>", 1),
		"out of order":              strings.Replace(string(out), "<KodWaluty>PLN</KodWaluty>\n    <P_1>2026-03-02</P_1>", "<P_1>2026-03-02</P_1>\n    <KodWaluty>PLN</KodWaluty>", 1),
		"not well-formed":           strings.Replace(string(out), "</Fa>", "", 1),
	} {
		t.Run(name, func(t *testing.T) {
			require.NotEqual(t, string(out), broken, "the mutation applies")
			require.Error(t, validate(t, []byte(broken)))
		})
	}
}
