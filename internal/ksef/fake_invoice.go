//go:build !production

package ksef

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"
	"unicode/utf8"
)

// fakeFA is what the Fake reads of an FA(3) invoice.
type fakeFA struct {
	XMLName  xml.Name
	Naglowek struct {
		KodFormularza struct {
			KodSystemowy string `xml:"kodSystemowy,attr"`
			WersjaSchemy string `xml:"wersjaSchemy,attr"`
			Value        string `xml:",chardata"`
		} `xml:"KodFormularza"`
	} `xml:"Naglowek"`
	Podmiot1 struct {
		NIP string `xml:"DaneIdentyfikacyjne>NIP"`
	} `xml:"Podmiot1"`
	Fa struct {
		P1            string `xml:"P_1"`
		P2            string `xml:"P_2"`
		RodzajFaktury string `xml:"RodzajFaktury"`
	} `xml:"Fa"`
}

// verify checks an invoice's XML as weryfikacja-faktury.md lists, and
// answers the status of a failed check (Code 0: it passed).
func (f *Fake) verify(plain []byte) (StatusInfo, fakeFA) {
	var doc fakeFA
	bad := func(details ...string) StatusInfo {
		return StatusInfo{Code: 430, Description: "Błąd weryfikacji pliku faktury", Details: details}
	}
	switch {
	case len(plain) > maxInvoice:
		return bad("Faktura przekracza 1 MB."), doc
	case bytes.HasPrefix(plain, []byte{0xEF, 0xBB, 0xBF}):
		return bad("Faktura nie może zawierać znaku BOM."), doc
	case !utf8.Valid(plain):
		return bad("Faktura musi być kodowana w UTF-8."), doc
	}
	dec := xml.NewDecoder(bytes.NewReader(plain))
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return bad("Dokument XML jest niepoprawny: " + err.Error()), doc
		}
		if pi, ok := tok.(xml.ProcInst); ok && pi.Target != "xml" {
			return bad("Faktura nie może zawierać instrukcji przetwarzania."), doc
		}
	}
	if err := xml.Unmarshal(plain, &doc); err != nil {
		return bad("Dokument XML jest niepoprawny: " + err.Error()), doc
	}
	kf := doc.Naglowek.KodFormularza
	switch {
	case doc.XMLName.Space != formNamespace || doc.XMLName.Local != "Faktura":
		return bad(fmt.Sprintf("Dokument nie jest fakturą FA(3): element główny {%s}%s.", doc.XMLName.Space, doc.XMLName.Local)), doc
	case kf.KodSystemowy != FormSystemCode || kf.WersjaSchemy != FormSchemaVersion || strings.TrimSpace(kf.Value) != FormValue:
		return bad("Kod formularza faktury jest niezgodny z kodem sesji."), doc
	}
	if msg := f.schemaErrors(plain); msg != "" {
		return bad(msg), doc
	}
	if doc.Podmiot1.NIP != f.nip {
		return StatusInfo{Code: 410, Description: "Nieprawidłowy zakres uprawnień",
			Details: []string{"NIP sprzedawcy (Podmiot1) nie jest NIP-em kontekstu."}}, doc
	}
	if issued, err := time.ParseInLocation("2006-01-02", doc.Fa.P1, warsaw); err != nil || issued.After(f.now().In(warsaw)) {
		return StatusInfo{Code: 450, Description: "Błąd weryfikacji semantyki dokumentu faktury",
			Details: []string{"Data wystawienia (P_1) nie może być późniejsza niż data przyjęcia do KSeF."}}, doc
	}
	return StatusInfo{}, doc
}

// schemaErrors validates plain against Schema with xmllint, when Schema is
// set and xmllint installed; "" when valid or not checked.
func (f *Fake) schemaErrors(plain []byte) string {
	if f.Schema == "" {
		return ""
	}
	bin, err := exec.LookPath("xmllint")
	if err != nil {
		return ""
	}
	cmd := exec.Command(bin, "--nonet", "--noout", "--schema", f.Schema, "-")
	cmd.Stdin = bytes.NewReader(plain)
	cmd.Env = append(os.Environ(), "XML_CATALOG_FILES="+f.Catalog)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if cmd.Run() == nil {
		return ""
	}
	return truncate("Niezgodność ze schematem: " + strings.TrimSpace(stderr.String()))
}

// fakeDocKey is what makes two invoices the same one to KSeF: the seller,
// the kind and the number.
type fakeDocKey struct{ nip, kind, number string }

func docKey(doc fakeFA) fakeDocKey {
	return fakeDocKey{doc.Podmiot1.NIP, doc.Fa.RodzajFaktury, doc.Fa.P2}
}

// duplicate is the accepted invoice with doc's seller, kind and number: an
// index, not a scan, since the bench sends thousands to one Fake.
// Called with f.mu held.
func (f *Fake) duplicate(doc fakeFA) *fakeInvoice {
	return f.byNumber[docKey(doc)]
}

// ksefNumber is a new KSeF number (numer-ksef.md). Called with f.mu held.
func (f *Fake) ksefNumber(at time.Time) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	data := f.nip + "-" + at.In(warsaw).Format("20060102") + "-" + strings.ToUpper(hex.EncodeToString(b))
	return data + "-" + KsefNumberChecksum(data)
}

// upoXML is the UPO of an accepted invoice, of the upo-v4-3 schema, shaped
// as KSeF's examples (without KSeF's XAdES signature).
func (f *Fake) upoXML(s *fakeSession, inv *fakeInvoice, at time.Time) []byte {
	const stamp = "2006-01-02T15:04:05.000-07:00"
	var b bytes.Buffer
	esc := func(v string) string {
		var e bytes.Buffer
		_ = xml.EscapeText(&e, []byte(v))
		return e.String()
	}
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="utf-8"?>
<Potwierdzenie xmlns="http://upo.schematy.mf.gov.pl/KSeF/v4-3">
	<NazwaPodmiotuPrzyjmujacego>Ministerstwo Finansów</NazwaPodmiotuPrzyjmujacego>
	<NumerReferencyjnySesji>%s</NumerReferencyjnySesji>
	<Uwierzytelnienie>
		<IdKontekstu>
			<Nip>%s</Nip>
		</IdKontekstu>
		<SkrotDokumentuUwierzytelniajacego>%s</SkrotDokumentuUwierzytelniajacego>
	</Uwierzytelnienie>
	<NazwaStrukturyLogicznej>Schemat_FA(3)_v1-0E.xsd</NazwaStrukturyLogicznej>
	<KodFormularza>FA (3)</KodFormularza>
	<Dokument>
		<NipSprzedawcy>%s</NipSprzedawcy>
		<NumerKSeFDokumentu>%s</NumerKSeFDokumentu>
		<NumerFaktury>%s</NumerFaktury>
		<DataWystawieniaFaktury>%s</DataWystawieniaFaktury>
		<DataPrzeslaniaDokumentu>%s</DataPrzeslaniaDokumentu>
		<DataNadaniaNumeruKSeF>%s</DataNadaniaNumeruKSeF>
		<SkrotDokumentu>%s</SkrotDokumentu>
		<TrybWysylki>%s</TrybWysylki>
	</Dokument>
</Potwierdzenie>
`, s.ref, esc(f.nip), s.authDigest, esc(f.nip), inv.ksefNumber, esc(inv.number), esc(inv.issued),
		inv.received.In(warsaw).Format(stamp), at.Add(time.Millisecond).In(warsaw).Format(stamp), inv.hash, inv.mode())
	return b.Bytes()
}

// decryptCBC undoes encryptCBC.
func decryptCBC(key, iv, enc []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if len(iv) != aes.BlockSize || len(enc) == 0 || len(enc)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("not AES-CBC ciphertext")
	}
	buf := make([]byte, len(enc))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(buf, enc)
	pad := int(buf[len(buf)-1])
	if pad == 0 || pad > aes.BlockSize || !bytes.Equal(buf[len(buf)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) {
		return nil, fmt.Errorf("bad PKCS#7 padding")
	}
	return buf[:len(buf)-pad], nil
}
