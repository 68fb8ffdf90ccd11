package ksef

import "encoding/xml"

// The FA(3) elements officeflow writes, in the schema's order (the schema
// is sequences: an element out of order is invalid). Optional elements are
// pointers or omitempty; elements the schema has and officeflow never
// fills are left out.

// Namespace is the FA(3) schema's targetNamespace.
const Namespace = "http://crd.gov.pl/wzor/2025/06/25/13775/"

type faktura struct {
	XMLName  xml.Name `xml:"Faktura"`
	Xmlns    string   `xml:"xmlns,attr"`
	Naglowek naglowek `xml:"Naglowek"`
	Podmiot1 podmiot1 `xml:"Podmiot1"`
	Podmiot2 podmiot2 `xml:"Podmiot2"`
	Fa       fa       `xml:"Fa"`
}

type kodFormularza struct {
	KodSystemowy string `xml:"kodSystemowy,attr"`
	WersjaSchemy string `xml:"wersjaSchemy,attr"`
	Value        string `xml:",chardata"`
}

type naglowek struct {
	KodFormularza     kodFormularza `xml:"KodFormularza"`
	WariantFormularza int           `xml:"WariantFormularza"`
	DataWytworzeniaFa string        `xml:"DataWytworzeniaFa"`
	SystemInfo        string        `xml:"SystemInfo,omitempty"`
}

type adres struct {
	KodKraju string `xml:"KodKraju"`
	AdresL1  string `xml:"AdresL1"`
	AdresL2  string `xml:"AdresL2,omitempty"`
}

type daneSprzedawcy struct {
	NIP   string `xml:"NIP"`
	Nazwa string `xml:"Nazwa"`
}

type podmiot1 struct {
	PrefiksPodatnika    string         `xml:"PrefiksPodatnika,omitempty"`
	DaneIdentyfikacyjne daneSprzedawcy `xml:"DaneIdentyfikacyjne"`
	Adres               adres          `xml:"Adres"`
}

// daneNabywcy is TPodmiot2: one of NIP, KodUE+NrVatUE, KodKraju+NrID or
// BrakID, then the name.
type daneNabywcy struct {
	NIP      string `xml:"NIP,omitempty"`
	KodUE    string `xml:"KodUE,omitempty"`
	NrVatUE  string `xml:"NrVatUE,omitempty"`
	KodKraju string `xml:"KodKraju,omitempty"`
	NrID     string `xml:"NrID,omitempty"`
	BrakID   int    `xml:"BrakID,omitempty"`
	Nazwa    string `xml:"Nazwa,omitempty"`
}

type podmiot2 struct {
	DaneIdentyfikacyjne daneNabywcy `xml:"DaneIdentyfikacyjne"`
	Adres               *adres      `xml:"Adres,omitempty"`
	JST                 int         `xml:"JST"` // 2: not a subordinate unit of a local government
	GV                  int         `xml:"GV"`  // 2: not a member of a VAT group
}

// zwolnienie: P_19N = 1, no exempt sale.
type zwolnienie struct {
	P19N int `xml:"P_19N"`
}

// noweSrodkiTransportu: P_22N = 1, no new means of transport.
type noweSrodkiTransportu struct {
	P22N int `xml:"P_22N"`
}

// pMarzy: P_PMarzyN = 1, no margin scheme.
type pMarzy struct {
	PPMarzyN int `xml:"P_PMarzyN"`
}

// adnotacje: the yes (1) / no (2) annotations every invoice carries.
type adnotacje struct {
	P16                  int                  `xml:"P_16"`  // metoda kasowa
	P17                  int                  `xml:"P_17"`  // samofakturowanie
	P18                  int                  `xml:"P_18"`  // odwrotne obciążenie
	P18A                 int                  `xml:"P_18A"` // mechanizm podzielonej płatności
	Zwolnienie           zwolnienie           `xml:"Zwolnienie"`
	NoweSrodkiTransportu noweSrodkiTransportu `xml:"NoweSrodkiTransportu"`
	P23                  int                  `xml:"P_23"` // procedura uproszczona (triangulation)
	PMarzy               pMarzy               `xml:"PMarzy"`
}

// daneFaKorygowanej names the corrected invoice: its KSeF number (NrKSeF =
// 1 and NrKSeFFaKorygowanej) or that it was issued outside KSeF (NrKSeFN =
// 1).
type daneFaKorygowanej struct {
	DataWystFaKorygowanej string `xml:"DataWystFaKorygowanej"`
	NrFaKorygowanej       string `xml:"NrFaKorygowanej"`
	NrKSeF                int    `xml:"NrKSeF,omitempty"`
	NrKSeFFaKorygowanej   string `xml:"NrKSeFFaKorygowanej,omitempty"`
	NrKSeFN               int    `xml:"NrKSeFN,omitempty"`
}

type kluczWartosc struct {
	Klucz   string `xml:"Klucz"`
	Wartosc string `xml:"Wartosc"`
}

type faWiersz struct {
	NrWierszaFa int    `xml:"NrWierszaFa"`
	P7          string `xml:"P_7"`            // name of the service
	P8A         string `xml:"P_8A,omitempty"` // unit
	P8B         string `xml:"P_8B"`           // quantity
	P9A         string `xml:"P_9A"`           // unit net price
	P11         string `xml:"P_11"`           // net value
	P12         string `xml:"P_12"`           // rate
	StanPrzed   int    `xml:"StanPrzed,omitempty"`
}

type platnosc struct {
	Zaplacono       int              `xml:"Zaplacono,omitempty"`
	DataZaplaty     string           `xml:"DataZaplaty,omitempty"`
	FormaPlatnosci  int              `xml:"FormaPlatnosci,omitempty"`
	PlatnoscInna    int              `xml:"PlatnoscInna,omitempty"`
	OpisPlatnosci   string           `xml:"OpisPlatnosci,omitempty"`
	RachunekBankowy *rachunekBankowy `xml:"RachunekBankowy,omitempty"`
}

type rachunekBankowy struct {
	NrRB string `xml:"NrRB"`
}

// fa is the invoice proper: the amounts by rate (P_13_x/P_14_x), P_15,
// the annotations, the kind, the corrected invoice, the lines, payment.
type fa struct {
	KodWaluty string `xml:"KodWaluty"`
	P1        string `xml:"P_1"` // issue date
	P2        string `xml:"P_2"` // number
	P6        string `xml:"P_6,omitempty"`
	// 23%
	P13_1 string `xml:"P_13_1,omitempty"`
	P14_1 string `xml:"P_14_1,omitempty"`
	// not taxable in Poland: outside the country (np I), EU services with
	// reverse charge (np II)
	P13_8 string    `xml:"P_13_8,omitempty"`
	P13_9 string    `xml:"P_13_9,omitempty"`
	P15   string    `xml:"P_15"`
	Adn   adnotacje `xml:"Adnotacje"`
	// VAT or KOR
	RodzajFaktury     string             `xml:"RodzajFaktury"`
	PrzyczynaKorekty  string             `xml:"PrzyczynaKorekty,omitempty"`
	TypKorekty        int                `xml:"TypKorekty,omitempty"`
	DaneFaKorygowanej *daneFaKorygowanej `xml:"DaneFaKorygowanej,omitempty"`
	DodatkowyOpis     []kluczWartosc     `xml:"DodatkowyOpis"`
	FaWiersz          []faWiersz         `xml:"FaWiersz"`
	Platnosc          *platnosc          `xml:"Platnosc,omitempty"`
}
