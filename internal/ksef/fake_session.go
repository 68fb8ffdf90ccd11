//go:build !production

package ksef

import (
	"crypto/aes"
	"crypto/rsa"
	"crypto/sha256"
	"net/http"
	"sort"
	"time"
	_ "time/tzdata" // KSeF numbers and UPOs carry Polish dates
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
		f.byNumber[docKey(doc)] = inv
	}
	inv.status = status
	s.invoices = append(s.invoices, inv)
	s.updated = now
	f.invoices[inv.ref] = inv
	writeJSON(w, http.StatusAccepted, map[string]string{"referenceNumber": inv.ref})
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

// sessionInvoices lists the invoices a session received, oldest first (one
// page: officeflow sends one invoice per session).
func (f *Fake) sessionInvoices(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ref := r.PathValue("referenceNumber")
	if f.sessions[ref] == nil {
		badRequest(w, "Sesja o podanym numerze referencyjnym nie istnieje.")
		return
	}
	list := []map[string]any{}
	for _, inv := range f.invoices {
		if inv.session == ref {
			list = append(list, map[string]any{"ordinalNumber": inv.ordinal, "referenceNumber": inv.ref, "invoiceHash": inv.hash,
				"invoicingDate": inv.received.UTC(), "invoicingMode": inv.mode(), "invoiceNumber": inv.number,
				"status": map[string]any{"code": 150, "description": "Trwa przetwarzanie"}})
		}
	}
	sort.Slice(list, func(i, j int) bool { return list[i]["ordinalNumber"].(int) < list[j]["ordinalNumber"].(int) })
	writeJSON(w, http.StatusOK, map[string]any{"invoices": list})
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
