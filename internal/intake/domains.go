package intake

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
)

// DomainRecordView is one DNS record a verified domain needs for mail, with
// what the last check saw.
type DomainRecordView struct {
	Type       string     `json:"type"` // MX, CNAME or TXT
	Name       string     `json:"name"`
	Value      string     `json:"value"`
	Preference *int       `json:"preference,omitempty"` // MX only
	Published  bool       `json:"published"`
	CheckedAt  *time.Time `json:"checked_at,omitempty"`
}

// domainView answers for a domain with its mail records, once it has them.
// Status is pending, verified, failed, ready (ready for mail) or
// records_missing (records_missing names them).
func (s *Server) domainView(ctx context.Context, o store.Order, d store.Domain) (DomainView, error) {
	v := DomainView{OrderID: o.ID, Domain: d.Domain, WorkflowID: workflows.DomainWorkflowID(d.Domain, d.Attempt),
		Status: d.Status, CheckUntil: d.CheckUntil.UTC(), RecordsMissing: d.RecordsNote}
	recs, err := s.Store.DomainRecords(ctx, d.Domain)
	if err != nil {
		return v, err
	}
	for _, r := range recs {
		rv := DomainRecordView{Type: r.Type, Name: r.Name, Value: r.Value, Published: r.Published, CheckedAt: r.CheckedAt}
		if r.Type == "MX" {
			rv.Preference = &r.Preference
		}
		if rv.CheckedAt != nil {
			at := rv.CheckedAt.UTC()
			rv.CheckedAt = &at
		}
		v.Records = append(v.Records, rv)
	}
	return v, nil
}

// getDomain answers GET /v1/orders/{order_id}/domains/{domain}: where the
// order's own domain is, with the mail records to publish and their state.
func (s *Server) getDomain(w http.ResponseWriter, r *http.Request) {
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	name := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(r.PathValue("domain"))), ".")
	d, err := s.Store.GetDomain(r.Context(), name)
	if errors.Is(err, store.ErrNotFound) || err == nil && d.OrderID != o.ID {
		writeError(w, http.StatusNotFound, "not_found", "domain", "no domain "+name+" for order "+o.ID)
		return
	}
	if err != nil {
		s.unavailable(w, "read domain", err)
		return
	}
	v, err := s.domainView(r.Context(), o, d)
	if err != nil {
		s.unavailable(w, "read domain records", err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
