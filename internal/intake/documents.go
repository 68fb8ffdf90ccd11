package intake

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/store"
)

// DocumentView is one billing document in GET /v1/orders/{id}/documents.
type DocumentView struct {
	ID       string `json:"id"`
	Kind     string `json:"kind"`
	Number   string `json:"number"`
	IssuedAt string `json:"issued_at"`
	Status   string `json:"status"`
	Net      string `json:"net"`
	VAT      string `json:"vat"`
	Gross    string `json:"gross"`
	Currency string `json:"currency"`
	PDF      string `json:"pdf"`
	// ChargeID names the later purchase (licences, a renewal) the document
	// bills; payments for it carry the same charge_id.
	ChargeID string `json:"charge_id,omitempty"`
	// KSeF is the document's state in KSeF; nil (no "ksef" at all) for a
	// document that is never sent there: a pro-forma, or one issued with
	// KSEF_MODE=off.
	KSeF *KSeFView `json:"ksef,omitempty"`
}

// KSeFView is a VAT invoice's or correction's state in KSeF.
type KSeFView struct {
	Status string `json:"status"`           // pending, offline, accepted or rejected
	Number string `json:"number,omitempty"` // KSeF's number, once accepted
	XML    string `json:"xml"`              // the FA(3) document, as sent or to be sent
	UPO    string `json:"upo"`              // KSeF's receipt: 404 until accepted
	// Reason is why KSeF rejected it, for the operator who fixes it.
	Reason string `json:"reason,omitempty"`
	// Deadline (RFC 3339) is when a document issued offline must be in KSeF
	// by law.
	Deadline string `json:"deadline,omitempty"`
}

// Documents is the answer to GET /v1/orders/{id}/documents.
type Documents struct {
	Documents []DocumentView `json:"documents"`
}

func (s *Server) listDocuments(w http.ResponseWriter, r *http.Request) {
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	docs, err := s.Store.Documents(r.Context(), o.ID)
	if err != nil {
		s.unavailable(w, "read documents", err)
		return
	}
	ksef, err := s.Store.KSeFDocuments(r.Context(), o.ID)
	if err != nil {
		s.unavailable(w, "read KSeF documents", err)
		return
	}
	out := Documents{Documents: make([]DocumentView, 0, len(docs))}
	for _, d := range docs {
		id := strconv.FormatInt(d.ID, 10)
		v := DocumentView{
			ID: id, Kind: d.Kind, Number: d.Number, IssuedAt: d.IssuedAt.Format("2006-01-02"), Status: d.Status,
			Net: d.Net.String(), VAT: d.VAT.String(), Gross: d.Gross.String(), Currency: d.Currency,
			PDF: "/v1/documents/" + id + ".pdf", ChargeID: d.ChargeID,
		}
		if k, ok := ksef[d.ID]; ok {
			v.KSeF = ksefView(id, k)
		}
		out.Documents = append(out.Documents, v)
	}
	documentHeaders(w)
	writeJSON(w, http.StatusOK, out)
}

func ksefView(id string, k store.KSeFDoc) *KSeFView {
	v := &KSeFView{Status: k.Status, Number: k.KSeFNumber, XML: "/v1/documents/" + id + ".xml", UPO: "/v1/documents/" + id + "/upo.xml"}
	// The store keeps a note on a waiting document too (KSeF unreachable);
	// the API promises a reason for a rejected one only.
	if k.Status == store.KSeFRejected {
		v.Reason = k.Reason
	}
	if k.Status == store.KSeFOffline && k.Deadline != nil {
		v.Deadline = k.Deadline.UTC().Format(time.RFC3339)
	}
	return v
}

// documentHeaders keep a customer's invoices out of shared and browser
// caches (no-store: a proxy or the back button must not show them to the
// next user), and stop a browser from sniffing a document as something it
// would run (nosniff).
func documentHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// documentFile serves GET /v1/documents/{id}.pdf and {id}.xml (the FA(3)
// sent to KSeF): one route, as a ServeMux pattern cannot split a segment
// at its dot.
func (s *Server) documentFile(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	if name, ok := strings.CutSuffix(file, ".pdf"); ok {
		s.serveDocument(w, r, name, ".pdf", "application/pdf", s.Store.DocumentPDF)
		return
	}
	if name, ok := strings.CutSuffix(file, ".xml"); ok {
		s.serveDocument(w, r, name, ".xml", "application/xml", s.Store.KSeFXML)
		return
	}
	writeError(w, http.StatusNotFound, "not_found", "id", "no document "+file)
}

// documentUPO serves GET /v1/documents/{id}/upo.xml, KSeF's receipt of the
// document: 404 until KSeF has confirmed it.
func (s *Server) documentUPO(w http.ResponseWriter, r *http.Request) {
	s.serveDocument(w, r, r.PathValue("id"), "-upo.xml", "application/xml", s.Store.KSeFUPO)
}

// serveDocument answers with the bytes read gives for the document whose id
// is name, when it is the asking shop's, as a file named id+suffix.
// Anything else is 404, so that a shop cannot tell another shop's documents
// from ones that do not exist.
func (s *Server) serveDocument(w http.ResponseWriter, r *http.Request, name, suffix, contentType string,
	read func(context.Context, int64) (store.DocumentOf, []byte, error)) {
	notFound := func() { writeError(w, http.StatusNotFound, "not_found", "id", "no document "+name+suffix) }
	id, err := strconv.ParseInt(name, 10, 64)
	if err != nil || id < 1 {
		notFound()
		return
	}
	of, b, err := read(r.Context(), id)
	if err == nil && of.Shop != shopOf(r) {
		err = store.ErrNotFound // another shop's document does not exist for this one
	}
	if errors.Is(err, store.ErrNotFound) {
		notFound()
		return
	}
	if err != nil {
		s.unavailable(w, "read document "+name+suffix, err)
		return
	}
	documentHeaders(w)
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Disposition", `inline; filename="`+strconv.FormatInt(id, 10)+suffix+`"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
}
