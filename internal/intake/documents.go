package intake

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

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
	out := Documents{Documents: make([]DocumentView, 0, len(docs))}
	for _, d := range docs {
		id := strconv.FormatInt(d.ID, 10)
		out.Documents = append(out.Documents, DocumentView{
			ID: id, Kind: d.Kind, Number: d.Number, IssuedAt: d.IssuedAt.Format("2006-01-02"), Status: d.Status,
			Net: d.Net.String(), VAT: d.VAT.String(), Gross: d.Gross.String(), Currency: d.Currency,
			PDF: "/v1/documents/" + id + ".pdf", ChargeID: d.ChargeID,
		})
	}
	documentHeaders(w)
	writeJSON(w, http.StatusOK, out)
}

// documentHeaders keep a customer's invoices out of shared and browser
// caches (no-store: a proxy or the back button must not show them to the
// next user), and stop a browser from sniffing a document as something it
// would run (nosniff).
func documentHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

func (s *Server) documentPDF(w http.ResponseWriter, r *http.Request) {
	name, isPDF := strings.CutSuffix(r.PathValue("file"), ".pdf")
	id, err := strconv.ParseInt(name, 10, 64)
	if !isPDF || err != nil || id < 1 {
		writeError(w, http.StatusNotFound, "not_found", "id", "no document "+r.PathValue("file"))
		return
	}
	of, pdf, err := s.Store.DocumentPDF(r.Context(), id)
	if err == nil && of.Shop != shopOf(r) {
		err = store.ErrNotFound // another shop's document does not exist for this one
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "id", "no document "+r.PathValue("file"))
		return
	}
	if err != nil {
		s.unavailable(w, "read document", err)
		return
	}
	documentHeaders(w)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+name+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	_, _ = w.Write(pdf)
}
