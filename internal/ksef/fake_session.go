//go:build !production

package ksef

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
	_ "time/tzdata" // KSeF numbers and UPOs carry Polish dates
	"unicode/utf8"
)

// formNamespace is the FA(3) schema's target namespace.
const formNamespace = "http://crd.gov.pl/wzor/2025/06/25/13775/"

// maxInvoice is KSeF's limit of an invoice without attachments.
const maxInvoice = 1_000_000

type fakeSession struct {
	ref        string
	key, iv    []byte
	created    time.Time
	updated    time.Time
	closed     bool
	authDigest string
	invoices   []*fakeInvoice
}

type fakeInvoice struct {
	session, ref string
	ordinal      int
	hash         string
	number       string // P_2
	issued       string // P_1
	received     time.Time
	offline      bool
	polls        int // status answers of 150 still to give; -1: forever
	status       StatusInfo
	extensions   map[string]string
	ksefNumber   string
	xml, upo     []byte
}

var warsaw = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Warsaw")
	if err != nil {
		return time.UTC
	}
	return loc
}()

func (f *Fake) openSession(w http.ResponseWriter, r *http.Request) {
	var req openSessionRequest
	if !decodeBody(w, r, &req) {
		return
	}
	fc := req.FormCode
	if fc.SystemCode != FormSystemCode || fc.SchemaVersion != FormSchemaVersion || fc.Value != FormValue {
		badRequest(w, "Wskazany kod formularza nie jest wspierany.")
		return
	}
	rsaKey, _, keyID := f.keyPair()
	if id := req.Encryption.PublicKeyID; id != "" && id != keyID {
		writeJSON(w, http.StatusBadRequest, exception(CodeUnknownKeyID, "Przesłany identyfikator klucza jest nieznany lub wskazuje na wycofany klucz."))
		return
	}
	key, err := rsa.DecryptOAEP(sha256.New(), nil, rsaKey, req.Encryption.EncryptedSymmetricKey, nil)
	if err != nil || len(key) != 32 {
		badRequest(w, "Błąd odszyfrowania dostarczonego klucza.")
		return
	}
	if len(req.Encryption.InitializationVector) != aes.BlockSize {
		badRequest(w, "Wektor inicjalizujący musi mieć 16 bajtów.")
		return
	}
	f.mu.Lock()
	now := f.now()
	s := &fakeSession{ref: f.reference("SO"), key: key, iv: req.Encryption.InitializationVector, created: now, updated: now,
		authDigest: f.lastAuthDigest()}
	f.sessions[s.ref] = s
	f.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{"referenceNumber": s.ref, "validUntil": now.Add(sessionTTL).UTC()})
}

// lastAuthDigest is the hash of the latest successful authentication
// request, which the UPO names. Called with f.mu held.
func (f *Fake) lastAuthDigest() string {
	var last *fakeAuth
	for _, a := range f.auths {
		if a.redeemed && (last == nil || a.started.After(last.started)) {
			last = a
		}
	}
	if last == nil {
		return b64(make([]byte, 32))
	}
	return last.docHash
}

// openSessionOf is the open session of the request's path, with f.mu held;
// nil answers 400.
func (f *Fake) openSessionOf(w http.ResponseWriter, r *http.Request) *fakeSession {
	s := f.sessions[r.PathValue("referenceNumber")]
	switch {
	case s == nil:
		badRequest(w, "Sesja o podanym numerze referencyjnym nie istnieje.")
		return nil
	case s.closed || f.now().Sub(s.created) > sessionTTL:
		badRequest(w, "Sesja jest zamknięta.")
		return nil
	}
	return s
}

func (f *Fake) sendInvoice(w http.ResponseWriter, r *http.Request) {
	var req sendInvoiceRequest
	if !decodeBody(w, r, &req) {
		return
	}
	if len(req.InvoiceHash) != 44 || len(req.EncryptedInvoiceHash) != 44 || req.InvoiceSize < 1 || req.EncryptedInvoiceSize < 1 || len(req.EncryptedInvoiceContent) == 0 {
		badRequest(w, "Wymagane pola: invoiceHash, invoiceSize, encryptedInvoiceHash, encryptedInvoiceSize, encryptedInvoiceContent.")
		return
	}
	f.mu.Lock()
	s := f.openSessionOf(w, r)
	if s == nil {
		f.mu.Unlock()
		return
	}
	key, iv := s.key, s.iv
	f.mu.Unlock()

	enc := req.EncryptedInvoiceContent
	switch {
	case int64(len(enc)) != req.EncryptedInvoiceSize:
		badRequest(w, "Rozmiar zaszyfrowanej faktury jest niezgodny z przesłanym encryptedInvoiceSize.")
		return
	case hashB64(enc) != req.EncryptedInvoiceHash:
		badRequest(w, "Skrót zaszyfrowanej faktury jest niezgodny z przesłanym encryptedInvoiceHash.")
		return
	}
	var status StatusInfo
	plain, err := decryptCBC(key, iv, enc)
	if err != nil {
		status = StatusInfo{Code: 435, Description: "Błąd odszyfrowania pliku", Details: []string{err.Error()}}
	} else {
		switch {
		case int64(len(plain)) != req.InvoiceSize:
			badRequest(w, "Rozmiar faktury jest niezgodny z przesłanym invoiceSize.")
			return
		case hashB64(plain) != req.InvoiceHash:
			badRequest(w, "Skrót faktury jest niezgodny z przesłanym invoiceHash.")
			return
		}
	}
	var doc fakeFA
	if status.Code == 0 {
		status, doc = f.verify(plain)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	if s.closed {
		badRequest(w, "Sesja jest zamknięta.")
		return
	}
	now := f.now()
	inv := &fakeInvoice{session: s.ref, ref: f.reference("EE"), ordinal: len(s.invoices) + 1, hash: req.InvoiceHash,
		number: doc.Fa.P2, issued: doc.Fa.P1, received: now, offline: req.OfflineMode, polls: f.ProcessingPolls, xml: plain}
	switch {
	case len(f.rejects) > 0:
		status = StatusInfo{Code: f.rejects[0].Code, Description: f.rejects[0].Description}
		f.rejects = f.rejects[1:]
	case f.stuck > 0:
		f.stuck--
		inv.polls = -1
	}
	if status.Code == 0 {
		if orig := f.duplicate(doc); orig != nil {
			status = StatusInfo{Code: 440, Description: "Duplikat faktury"}
			inv.extensions = map[string]string{"originalSessionReferenceNumber": orig.session, "originalKsefNumber": orig.ksefNumber}
		}
	}
	if status.Code == 0 {
		status = StatusInfo{Code: 200, Description: "Sukces"}
		inv.ksefNumber = f.ksefNumber(now)
		inv.upo = f.upoXML(s, inv, now)
		f.accepted = append(f.accepted, inv)
	}
	inv.status = status
	s.invoices = append(s.invoices, inv)
	s.updated = now
	f.invoices[inv.ref] = inv
	writeJSON(w, http.StatusAccepted, map[string]string{"referenceNumber": inv.ref})
}

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

// duplicate is the accepted invoice with doc's seller, kind and number.
// Called with f.mu held.
func (f *Fake) duplicate(doc fakeFA) *fakeInvoice {
	for _, inv := range f.accepted {
		var other fakeFA
		if xml.Unmarshal(inv.xml, &other) == nil && other.Podmiot1.NIP == doc.Podmiot1.NIP &&
			other.Fa.RodzajFaktury == doc.Fa.RodzajFaktury && other.Fa.P2 == doc.Fa.P2 {
			return inv
		}
	}
	return nil
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

// mode is the invoice's invoicingMode.
func (inv *fakeInvoice) mode() string {
	if inv.offline {
		return "Offline"
	}
	return "Online"
}

func (f *Fake) invoiceOf(w http.ResponseWriter, r *http.Request) *fakeInvoice {
	inv := f.invoices[r.PathValue("invoiceReferenceNumber")]
	if inv == nil || inv.session != r.PathValue("referenceNumber") {
		badRequest(w, "Faktura o podanym numerze referencyjnym nie istnieje w sesji.")
		return nil
	}
	return inv
}

func (f *Fake) invoiceStatus(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := f.invoiceOf(w, r)
	if inv == nil {
		return
	}
	out := map[string]any{"ordinalNumber": inv.ordinal, "referenceNumber": inv.ref, "invoiceHash": inv.hash,
		"invoicingDate": inv.received.UTC(), "invoicingMode": inv.mode()}
	if inv.number != "" {
		out["invoiceNumber"] = inv.number
	}
	if inv.polls != 0 {
		if inv.polls > 0 {
			inv.polls--
		}
		out["status"] = StatusInfo{Code: 150, Description: "Trwa przetwarzanie"}
		writeJSON(w, http.StatusOK, out)
		return
	}
	st := map[string]any{"code": inv.status.Code, "description": inv.status.Description}
	if len(inv.status.Details) > 0 {
		st["details"] = inv.status.Details
	}
	if inv.extensions != nil {
		st["extensions"] = inv.extensions
	}
	out["status"] = st
	if inv.ksefNumber != "" {
		out["ksefNumber"] = inv.ksefNumber
		out["acquisitionDate"] = inv.received.Add(time.Millisecond).UTC()
		out["upoDownloadUrl"] = "/sessions/" + inv.session + "/invoices/" + inv.ref + "/upo"
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *Fake) upo(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inv := f.invoiceOf(w, r)
	if inv == nil {
		return
	}
	if inv.upo == nil || inv.polls != 0 {
		badRequest(w, "UPO faktury nie jest dostępne: faktura nie została przyjęta.")
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("x-ms-meta-hash", hashB64(inv.upo))
	_, _ = w.Write(inv.upo)
}

func (f *Fake) closeSession(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.openSessionOf(w, r)
	if s == nil {
		return
	}
	s.closed, s.updated = true, f.now()
	w.WriteHeader(http.StatusNoContent)
}

func (f *Fake) sessionStatus(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.sessions[r.PathValue("referenceNumber")]
	if s == nil {
		badRequest(w, "Sesja o podanym numerze referencyjnym nie istnieje.")
		return
	}
	ok, failed := 0, 0
	for _, inv := range s.invoices {
		switch {
		case inv.polls != 0:
		case inv.status.Code == 200:
			ok++
		default:
			failed++
		}
	}
	status := StatusInfo{Code: 100, Description: "Sesja interaktywna otwarta"}
	switch {
	case !s.closed:
	case len(s.invoices) == 0:
		status = StatusInfo{Code: 440, Description: "Sesja anulowana", Details: []string{"Nie przesłano faktur"}}
	case ok+failed < len(s.invoices):
		status = StatusInfo{Code: 170, Description: "Sesja interaktywna zamknięta"}
	case ok == 0:
		status = StatusInfo{Code: 445, Description: "Błąd weryfikacji, brak poprawnych faktur"}
	default:
		status = StatusInfo{Code: 200, Description: "Sesja interaktywna przetworzona pomyślnie"}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": status, "dateCreated": s.created.UTC(), "dateUpdated": s.updated.UTC(),
		"validUntil": s.created.Add(sessionTTL).UTC(), "invoiceCount": len(s.invoices),
		"successfulInvoiceCount": ok, "failedInvoiceCount": failed})
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
