package intake

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
)

// The shop's JSON requests after the first order: more or fewer licences,
// users, own domains and the subscription's cancellation. The first three
// are the Server's methods in actions.go, which the billing panel calls
// too; these handlers read the body and write the answer.

// LicencesRequest is the body of POST /v1/orders/{id}/licences.
type LicencesRequest struct {
	RequestID string `json:"request_id"`
	AddSeats  int    `json:"add_seats"`
}

// ChargeView answers a licence request.
type ChargeView struct {
	OrderID         string    `json:"order_id"`
	ChargeID        string    `json:"charge_id"`
	WorkflowID      string    `json:"workflow_id"`
	Kind            string    `json:"kind"`
	Status          string    `json:"status"`
	SeatsChange     int       `json:"seats_change"`
	PeriodEnd       string    `json:"period_end"`
	Net             string    `json:"net"`
	VAT             string    `json:"vat"`
	Gross           string    `json:"gross"`
	Currency        string    `json:"currency"`
	PaymentDeadline time.Time `json:"payment_deadline"`
}

func (s *Server) changeLicences(w http.ResponseWriter, r *http.Request) {
	var req LicencesRequest
	if fe := decodeStrict(w, r, &req); fe != nil {
		writeFieldError(w, fe)
		return
	}
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	c, err := s.AddSeats(r.Context(), o, req.RequestID, req.AddSeats)
	if s.refused(w, err, "add_seats") {
		return
	}
	vat := money.VAT(c.Net)
	writeJSON(w, http.StatusAccepted, ChargeView{
		OrderID: o.ID, ChargeID: c.ID, WorkflowID: c.WorkflowID, Kind: c.Kind, Status: c.Status, SeatsChange: c.Seats,
		PeriodEnd: c.PeriodEnd.AddDate(0, 0, -1).Format(time.DateOnly),
		Net:       c.Net.String(), VAT: vat.String(), Gross: (c.Net + vat).String(), Currency: "PLN", PaymentDeadline: c.Deadline.UTC(),
	})
}

// UserRequest is the body of POST /v1/orders/{id}/users.
type UserRequest struct {
	UserName      string `json:"user_name"`
	DisplayName   string `json:"display_name"`
	AssignLicence bool   `json:"assign_licence"`
}

// UserView answers a user request.
type UserView struct {
	OrderID    string `json:"order_id"`
	UserName   string `json:"user_name"`
	WorkflowID string `json:"workflow_id"`
	Licensed   bool   `json:"licensed"`
	Status     string `json:"status"`
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	var req UserRequest
	if fe := decodeStrict(w, r, &req); fe != nil {
		writeFieldError(w, fe)
		return
	}
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	u, err := s.AddUser(r.Context(), o, req.UserName, req.DisplayName, req.AssignLicence)
	if s.refused(w, err, "assign_licence") {
		return
	}
	writeJSON(w, http.StatusAccepted, UserView{OrderID: o.ID, UserName: u.UserName, WorkflowID: workflows.UserWorkflowID(o.ID, u.UserName),
		Licensed: u.Licensed, Status: u.Status})
}

// removeUser removes a user of the order's tenant: 202 while it is being
// removed (again: the same answer), 404 for a user the order does not have.
func (s *Server) removeUser(w http.ResponseWriter, r *http.Request) {
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	u, err := s.RemoveUser(r.Context(), o, r.PathValue("user_name"))
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "user_name", "order "+o.ID+" has no user "+r.PathValue("user_name"))
		return
	}
	if s.refused(w, err, "user_name") {
		return
	}
	writeJSON(w, http.StatusAccepted, UserView{OrderID: o.ID, UserName: u.UserName,
		WorkflowID: workflows.UserRemovalWorkflowID(o.ID, u.UserName, u.Attempt), Licensed: u.Licensed, Status: u.Status})
}

// DomainRequest is the body of POST /v1/orders/{id}/domains.
type DomainRequest struct {
	Domain      string `json:"domain"`
	MakeDefault bool   `json:"make_default"`
}

// DomainView answers a domain request.
type DomainView struct {
	OrderID    string    `json:"order_id"`
	Domain     string    `json:"domain"`
	WorkflowID string    `json:"workflow_id"`
	Status     string    `json:"status"`
	CheckUntil time.Time `json:"check_until"`
	// Records are the mail records to publish once the domain is verified.
	Records        []DomainRecordView `json:"records,omitempty"`
	RecordsMissing string             `json:"records_missing,omitempty"`
}

func (s *Server) addDomain(w http.ResponseWriter, r *http.Request) {
	var req DomainRequest
	if fe := decodeStrict(w, r, &req); fe != nil {
		writeFieldError(w, fe)
		return
	}
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	d, err := s.AddDomain(r.Context(), o, req.Domain, req.MakeDefault)
	if s.refused(w, err, "domain") {
		return
	}
	v, err := s.domainView(r.Context(), o, d)
	if err != nil {
		s.unavailable(w, "read domain records", err)
		return
	}
	writeJSON(w, http.StatusAccepted, v)
}

// cancelSubscription asks the subscription to end when its paid period
// ends; nothing is refunded for the period already paid.
func (s *Server) cancelSubscription(w http.ResponseWriter, r *http.Request) {
	var body cancelBody
	if r.ContentLength != 0 {
		if fe := decodeStrict(w, r, &body); fe != nil {
			writeFieldError(w, fe)
			return
		}
	}
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	reason := strings.TrimSpace(body.Reason)
	if reason == "" {
		reason = "requested by the shop"
	}
	sv, res, err := s.cancelAtPeriodEnd(r.Context(), o, "shop", reason)
	if s.refused(w, err, "order_id") {
		return
	}
	writeJSON(w, http.StatusAccepted, SubscriptionView{Status: res.Stage, PeriodStart: sv.PeriodStart.Format(time.DateOnly),
		PeriodEnd: sv.PeriodEnd.AddDate(0, 0, -1).Format(time.DateOnly), Seats: sv.Seats, CancelAtPeriodEnd: true,
		TermEnd: sv.TermEnd().AddDate(0, 0, -1).Format(time.DateOnly)})
}

// SubscriptionView is the subscription of a provisioned order.
type SubscriptionView struct {
	Status            string `json:"status"`
	Period            int    `json:"period,omitempty"`
	PeriodStart       string `json:"period_start"`
	PeriodEnd         string `json:"period_end"` // the last day paid for
	Seats             int    `json:"seats"`
	CancelAtPeriodEnd bool   `json:"cancel_at_period_end"`
	// TermEnd is the last day of the term at Microsoft: a cancellation
	// ends the subscription then (for a yearly term billed monthly, after
	// the term's twelfth period).
	TermEnd string `json:"term_end,omitempty"`
}

// refused answers the refusals of a post-purchase request (see
// actions.go); it says whether it answered.
func (s *Server) refused(w http.ResponseWriter, err error, field string) bool {
	var fe *order.FieldError
	var se *store.SeatsError
	switch {
	case err == nil:
		return false
	case errors.As(err, &fe):
		status := http.StatusBadRequest
		if fe.Code == CodeNotActive || fe.Code == CodeDomainTaken || fe.Code == CodeBusy || fe.Code == CodeAdminUser || fe.Code == CodeCancelWindow {
			status = http.StatusConflict
		}
		writeError(w, status, fe.Code, fe.Field, fe.Message)
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "request_conflict", field, "this request was made before with different content")
	case errors.Is(err, store.ErrNotActive):
		writeError(w, http.StatusConflict, CodeNotActive, "order_id", "the order has no active subscription (not yet provisioned, suspended or ended)")
	case errors.As(err, &se):
		free := max(se.Seats-se.InUse, 0)
		writeJSON(w, http.StatusConflict, ErrorBody{Error: ErrorDetail{Code: "seats", Field: field, Message: se.Message, Free: &free}})
	default:
		s.unavailable(w, "post-purchase request", err)
	}
	return true
}
