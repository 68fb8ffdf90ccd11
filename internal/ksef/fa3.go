// Package ksef turns officeflow's billing documents into what Poland's
// national e-invoicing system, KSeF (Krajowy System e-Faktur), takes: the
// structured FA(3) XML invoice of the Ministry of Finance's schema
// (shared/ksef/faktury/schemy/FA/schemat_FA(3)_v1-0E.xsd, namespace
// Namespace). A VAT invoice is FA(3) RodzajFaktury VAT, a correction KOR;
// a pro-forma is not a VAT invoice and never goes to KSeF.
//
// The XML is built from the same document.Document the PDF is rendered
// from, so the two agree, and from the billing.VAT treatment of the buyer.
// It is pure: the same input gives the same bytes, which are what is sent
// and stored. The KSeF API 2.0 client that sends it is in api*.go, its
// fake in fake*.go; the workflow that sends each document is still to come.
package ksef

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/document"
	"github.com/officeflow/officeflow/internal/money"
)

// ErrProforma is returned for a pro-forma.
var ErrProforma = errors.New("ksef: a pro-forma is not a VAT invoice and never goes to KSeF")

// SystemInfo is written in the header as the system that made the XML.
const SystemInfo = "officeflow"

// Options are what FA(3) needs beyond the document.
type Options struct {
	// Created is the header's DataWytworzeniaFa; zero: the document's
	// issue date, so that the XML depends on the document only.
	Created time.Time
	// Corrected is, for a correction, the invoice it corrects.
	Corrected Corrected
}

// Corrected is what a correction names of the invoice it corrects, beyond
// its number (the document's Refers).
type Corrected struct {
	Issued time.Time // its issue date (DataWystFaKorygowanej)
	// KSeFNumber is the number KSeF gave it (NrKSeFFaKorygowanej); empty
	// for an invoice issued outside KSeF (NrKSeFN).
	KSeFNumber string
}

// FA3 is the FA(3) XML of a VAT invoice or a correction, with vat the
// buyer's VAT treatment (billing.VATFor). It checks what the schema
// cannot: the kind, that the lines add up to the totals and the totals to
// the treatment's VAT, and for a correction that the difference is after
// less before. Identifiers and text are the schema's to check (xmllint in
// the tests, KSeF itself when sent).
func FA3(d document.Document, vat billing.VAT, o Options) ([]byte, error) {
	switch d.Kind {
	case document.Invoice, document.Correction:
	case document.Proforma:
		return nil, ErrProforma
	default:
		return nil, fmt.Errorf("ksef: document %s: unknown kind %q", d.Number, d.Kind)
	}
	if err := check(d, vat, o); err != nil {
		return nil, fmt.Errorf("ksef: document %s: %w", d.Number, err)
	}
	currency := d.Currency
	if currency == "" {
		currency = "PLN"
	}
	created := o.Created
	if created.IsZero() {
		created = d.Issued
	}
	f := faktura{
		Xmlns: Namespace,
		Naglowek: naglowek{
			KodFormularza:     kodFormularza{KodSystemowy: "FA (3)", WersjaSchemy: "1-0E", Value: "FA"},
			WariantFormularza: 3,
			DataWytworzeniaFa: created.UTC().Format("2006-01-02T15:04:05Z"),
			SystemInfo:        SystemInfo,
		},
		Podmiot1: seller(d.Seller, vat),
		Podmiot2: podmiot2{DaneIdentyfikacyjne: buyerID(d.Buyer), Adres: address(d.Buyer), JST: 2, GV: 2},
		Fa: fa{
			KodWaluty: currency,
			P1:        day(d.Issued),
			P2:        d.Number,
			P15:       d.Totals.Gross.String(),
			Adn: adnotacje{P16: 2, P17: 2, P18: yesNo(vat.ReverseCharge), P18A: 2,
				Zwolnienie: zwolnienie{1}, NoweSrodkiTransportu: noweSrodkiTransportu{1}, P23: 2, PMarzy: pMarzy{1}},
		},
	}
	x := &f.Fa
	if !d.SaleDate.IsZero() {
		x.P6 = day(d.SaleDate)
	}
	switch vat.Code {
	case billing.VATCodeStandard:
		x.P13_1, x.P14_1 = d.Totals.Net.String(), d.Totals.VAT.String()
	case billing.VATCodeOutside:
		x.P13_8 = d.Totals.Net.String()
	case billing.VATCodeEUService:
		x.P13_9 = d.Totals.Net.String()
	}
	if vat.Note != "" {
		x.DodatkowyOpis = []kluczWartosc{{Klucz: "Uwagi VAT", Wartosc: vat.Note}}
	}
	switch d.Kind {
	case document.Invoice:
		x.RodzajFaktury = "VAT"
		for i, l := range d.Lines {
			x.FaWiersz = append(x.FaWiersz, row(i+1, l, l.Seats, l.Net, vat, false))
		}
		x.Platnosc = payment(d)
	case document.Correction:
		x.RodzajFaktury = "KOR"
		x.PrzyczynaKorekty = d.Reason
		x.TypKorekty = 2 // in the period of the correction's issue date
		k := &daneFaKorygowanej{DataWystFaKorygowanej: day(o.Corrected.Issued), NrFaKorygowanej: d.Refers}
		if o.Corrected.KSeFNumber != "" {
			k.NrKSeF, k.NrKSeFFaKorygowanej = 1, o.Corrected.KSeFNumber
		} else {
			k.NrKSeFN = 1
		}
		x.DaneFaKorygowanej = k
		// The schema's way: the line as it stood (StanPrzed = 1) and as it
		// stands now, each with its own number; P_13_x, P_14_x and P_15 are
		// the differences.
		l := d.Lines[0]
		after := l.Seats
		if d.After.Net == 0 {
			after = 0 // taken back whole: nothing of it stands
		}
		x.FaWiersz = []faWiersz{row(1, l, l.Seats, d.Before.Net, vat, true), row(2, l, after, d.After.Net, vat, false)}
	}
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("ksef: document %s: %w", d.Number, err)
	}
	return append([]byte(xml.Header), append(out, '\n')...), nil
}

// check is what the schema cannot see: arithmetic and the data a kind
// needs.
func check(d document.Document, vat billing.VAT, o Options) error {
	switch {
	case vat.Code == billing.VATCodeStandard && vat.Rate != money.VATRate:
		return fmt.Errorf("VAT code %q with a rate of %d%%", vat.Code, vat.Rate)
	case (vat.Code == billing.VATCodeOutside || vat.Code == billing.VATCodeEUService) && (vat.Rate != 0):
		return fmt.Errorf("VAT code %q (not taxable in Poland) with a rate of %d%%", vat.Code, vat.Rate)
	case vat.Code != billing.VATCodeStandard && vat.Code != billing.VATCodeOutside && vat.Code != billing.VATCodeEUService:
		return fmt.Errorf("VAT code %q is not one officeflow issues", vat.Code)
	case vat.ReverseCharge && vat.Code != billing.VATCodeEUService:
		return fmt.Errorf("reverse charge with VAT code %q", vat.Code)
	case d.Issued.IsZero():
		return errors.New("no issue date")
	case len(d.Lines) == 0:
		return errors.New("no lines")
	case vat.Rate != 0 && d.Currency != "" && d.Currency != "PLN":
		return fmt.Errorf("VAT in %s needs its amount in PLN (P_14_1W), which officeflow does not compute", d.Currency)
	}
	var sum document.Totals
	for _, l := range d.Lines {
		sum.Net, sum.VAT, sum.Gross = sum.Net+l.Net, sum.VAT+l.VAT, sum.Gross+l.Gross
	}
	if sum != d.Totals {
		return fmt.Errorf("the lines add up to %s, the totals say %s", show(sum), show(d.Totals))
	}
	if d.Totals.Gross != d.Totals.Net+d.Totals.VAT {
		return fmt.Errorf("gross %s is not net plus VAT (%s)", d.Totals.Gross, show(d.Totals))
	}
	agrees := func(t document.Totals) bool {
		a := vat.Amounts(t.Net)
		return a.VAT == t.VAT && a.Gross == t.Gross
	}
	if d.Kind == document.Invoice {
		if !agrees(d.Totals) {
			return fmt.Errorf("totals %s are not net with VAT %s (%d%%)", show(d.Totals), vat.Code, vat.Rate)
		}
		return nil
	}
	switch {
	case d.Refers == "":
		return errors.New("a correction names no invoice it corrects")
	case o.Corrected.Issued.IsZero():
		return errors.New("a correction needs the corrected invoice's issue date")
	case len(d.Lines) != 1:
		return fmt.Errorf("a correction of %d lines: only one line is written as before and after", len(d.Lines))
	case d.Before == nil || d.After == nil:
		return errors.New("a correction needs the totals before and after")
	case !agrees(*d.Before) || !agrees(*d.After):
		return fmt.Errorf("before %s or after %s is not net with VAT %s", show(*d.Before), show(*d.After), vat.Code)
	}
	diff := document.Totals{Net: d.After.Net - d.Before.Net, VAT: d.After.VAT - d.Before.VAT, Gross: d.After.Gross - d.Before.Gross}
	if diff != d.Totals {
		return fmt.Errorf("the correction's totals %s are not after less before (%s)", show(d.Totals), show(diff))
	}
	return nil
}

func show(t document.Totals) string {
	return fmt.Sprintf("net %s VAT %s gross %s", t.Net, t.VAT, t.Gross)
}

func day(t time.Time) string { return t.Format("2006-01-02") }

func yesNo(b bool) int {
	if b {
		return 1
	}
	return 2
}

// bare is an identifier without spaces and dashes, in upper case.
func bare(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(s)))
}

func seller(p document.Party, vat billing.VAT) podmiot1 {
	s := podmiot1{
		DaneIdentyfikacyjne: daneSprzedawcy{NIP: strings.TrimPrefix(bare(p.NIP), "PL"), Nazwa: p.Name},
		Adres:               adres{KodKraju: "PL", AdresL1: p.Address, AdresL2: strings.TrimSpace(p.PostalCode + " " + p.City)},
	}
	if c := strings.ToUpper(p.Country); c != "" {
		s.Adres.KodKraju = c
	}
	// A service to a business in another member state (art. 28b) names the
	// seller by its VAT-UE number, PL and the NIP (art. 106e ust. 1 pkt 4).
	if vat.Code == billing.VATCodeEUService {
		s.PrefiksPodatnika = "PL"
	}
	return s
}

// buyerID names the buyer as TPodmiot2 does: a Polish NIP; an EU VAT
// number as its prefix (KodUE) and the rest (NrVatUE); another country's
// tax number (KodKraju, NrID); or no tax id at all (BrakID, a consumer).
func buyerID(p document.Party) daneNabywcy {
	country, id := strings.ToUpper(strings.TrimSpace(p.Country)), strings.TrimSpace(p.NIP)
	b := daneNabywcy{Nazwa: p.Name}
	switch {
	case id == "":
		b.BrakID = 1
	case country == "PL" || country == "":
		b.NIP = strings.TrimPrefix(bare(id), "PL")
	case billing.InEU(country):
		prefix := billing.VATPrefix(country)
		b.KodUE, b.NrVatUE = prefix, strings.TrimPrefix(strings.TrimPrefix(bare(id), prefix), country)
	default:
		b.KodKraju, b.NrID = country, id
	}
	return b
}

func address(p document.Party) *adres {
	line2 := strings.TrimSpace(p.PostalCode + " " + p.City)
	if p.Address == "" && line2 == "" {
		return nil
	}
	a := &adres{KodKraju: strings.ToUpper(strings.TrimSpace(p.Country)), AdresL1: p.Address, AdresL2: line2}
	if a.KodKraju == "" {
		a.KodKraju = "PL"
	}
	if a.AdresL1 == "" {
		a.AdresL1, a.AdresL2 = line2, ""
	}
	return a
}

// row is one FaWiersz: the plan with its period, seats licences at the
// unit net price, net, the rate.
func row(n int, l document.Line, seats int, net money.Grosze, vat billing.VAT, before bool) faWiersz {
	name := l.Name
	if l.Period != "" {
		name += " (" + l.Period + ")"
	}
	w := faWiersz{NrWierszaFa: n, P7: name, P8A: "licencja", P8B: strconv.Itoa(seats),
		P9A: l.UnitNet.String(), P11: net.String(), P12: vat.Code}
	if before {
		w.StanPrzed = 1
	}
	return w
}

// forms are the payment methods FA(3) has a code for (TFormaPlatnosci);
// any other is written out (PlatnoscInna, OpisPlatnosci).
var forms = map[string]int{"gotówka": 1, "karta": 2, "bon": 3, "czek": 4, "kredyt": 5, "przelew": 6, "mobilna": 7}

// payment is an invoice's Platnosc: paid on the day it was, and how; an
// unpaid one names the seller's account.
func payment(d document.Document) *platnosc {
	p := &platnosc{}
	if d.PaidOn != nil {
		p.Zaplacono, p.DataZaplaty = 1, day(*d.PaidOn)
	}
	if m := strings.TrimSpace(d.PaymentMethod); m != "" {
		if code, ok := forms[strings.ToLower(m)]; ok {
			p.FormaPlatnosci = code
		} else {
			p.PlatnoscInna, p.OpisPlatnosci = 1, m
		}
	}
	if nr := strings.ReplaceAll(d.Seller.BankAccount, " ", ""); d.PaidOn == nil && len(nr) >= 10 && len(nr) <= 34 {
		p.RachunekBankowy = &rachunekBankowy{NrRB: nr}
	}
	if *p == (platnosc{}) {
		return nil
	}
	return p
}
