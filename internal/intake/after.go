package intake

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
)

// The billing and admin panels' requests after the first order: more or
// fewer licences, users, own domains and the subscription's cancellation.
// Each is checked and recorded here, then run by a workflow of its own whose
// id comes from the request, so a repeat never starts a second one.

var (
	requestIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	userLocalRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$`)
	domainRe    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

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
	switch {
	case !requestIDRe.MatchString(req.RequestID):
		writeError(w, http.StatusBadRequest, "invalid", "request_id", "request_id must be 1-64 letters, digits, '.', '_' or '-'")
		return
	case req.AddSeats == 0 || req.AddSeats < -order.MaxSeats || req.AddSeats > order.MaxSeats:
		writeError(w, http.StatusBadRequest, "invalid", "add_seats", fmt.Sprintf("add_seats must be a non-zero number of seats from %d to %d", -order.MaxSeats, order.MaxSeats))
		return
	}
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	now := time.Now()
	wid := workflows.LicencesWorkflowID(o.ID, req.RequestID)
	c, err := s.Store.OpenLicenceCharge(ctx, store.ChargeRequest{
		ID: o.ID + ":licences:" + req.RequestID, OrderID: o.ID, WorkflowID: wid, Hash: hashOf(req.RequestID, req.AddSeats),
		Change: req.AddSeats, Deadline: now.Add(s.Deadline).Truncate(time.Second), Today: now.In(warsaw()),
	})
	if s.refused(w, err, "add_seats") {
		return
	}
	in := workflows.LicencesInput{OrderID: o.ID, ChargeID: c.ID, Change: c.Seats, Deadline: c.Deadline,
		Reminders: order.ReminderTimes(now, c.Deadline, s.Reminders)}
	stage := workflows.StageAwaitingPayment
	if c.Seats < 0 {
		stage = workflows.StageApplying
	}
	if !s.startAfter(w, wid, o, workflows.LicencesWorkflowName, fmt.Sprintf("Licences %+d for order %s", c.Seats, o.ID), stage, in) {
		return
	}
	vat := money.VAT(c.Net)
	writeJSON(w, http.StatusAccepted, ChargeView{
		OrderID: o.ID, ChargeID: c.ID, WorkflowID: wid, Kind: c.Kind, Status: c.Status, SeatsChange: c.Seats,
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
	name := strings.ToLower(strings.TrimSpace(req.UserName))
	local, domain, hasDomain := strings.Cut(name, "@")
	if !hasDomain {
		domain = o.Domain
	}
	display := strings.Join(strings.Fields(req.DisplayName), " ")
	switch {
	case !userLocalRe.MatchString(local) || strings.Contains(local, ".."):
		writeError(w, http.StatusBadRequest, "invalid", "user_name", "user_name must be a mailbox name (letters, digits, '.', '_', '-') or a full address in one of the tenant's domains")
		return
	case display == "" || len(display) > 256:
		writeError(w, http.StatusBadRequest, "invalid", "display_name", "display_name is required, at most 256 characters")
		return
	}
	ctx := r.Context()
	if o.Domain == "" {
		writeError(w, http.StatusConflict, "not_active", "order_id", "order "+o.ID+" has no tenant yet")
		return
	}
	if domain != o.Domain {
		d, err := s.Store.GetDomain(ctx, domain)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.unavailable(w, "read domain", err)
			return
		}
		if err != nil || d.OrderID != o.ID || d.Status != store.DomainVerified {
			writeError(w, http.StatusBadRequest, "invalid", "user_name", "the domain "+domain+" is not a verified domain of the tenant")
			return
		}
	}
	upn := local + "@" + domain
	u, err := s.Store.AddUser(ctx, store.UserRequest{OrderID: o.ID, UserName: upn, DisplayName: display, Licensed: req.AssignLicence,
		Hash: hashOf(upn, display, req.AssignLicence)})
	if s.refused(w, err, "assign_licence") {
		return
	}
	wid := workflows.UserWorkflowID(o.ID, upn)
	in := workflows.UserInput{OrderID: o.ID, UserName: upn, Licensed: u.Licensed}
	// A user asked for again after a failed attempt runs anew under its id.
	reuse := enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	if u.Created && u.Attempt > 1 {
		reuse = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	}
	if !s.startAfter(w, wid, o, workflows.UserWorkflowName, "User "+upn, workflows.StageCreating, in, reuse) {
		return
	}
	writeJSON(w, http.StatusAccepted, UserView{OrderID: o.ID, UserName: upn, WorkflowID: wid, Licensed: u.Licensed, Status: u.Status})
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
}

func (s *Server) addDomain(w http.ResponseWriter, r *http.Request) {
	var req DomainRequest
	if fe := decodeStrict(w, r, &req); fe != nil {
		writeFieldError(w, fe)
		return
	}
	domain := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(req.Domain)), ".")
	if len(domain) > 253 || !domainRe.MatchString(domain) || strings.HasSuffix(domain, ".onmicrosoft.com") {
		writeError(w, http.StatusBadRequest, "invalid", "domain", "domain must be a registered domain name such as acme.pl (not .onmicrosoft.com)")
		return
	}
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	sched := s.DomainSchedule
	if sched.First == 0 {
		sched = workflows.DefaultDomainSchedule
	}
	d, err := s.Store.AddDomain(r.Context(), o.ID, domain, req.MakeDefault, time.Now().Add(sched.GiveUpAfter).Truncate(time.Second))
	if errors.Is(err, store.ErrDomainTaken) {
		writeError(w, http.StatusConflict, "domain_taken", "domain", "the domain "+domain+" is being added to another tenant")
		return
	}
	if s.refused(w, err, "domain") {
		return
	}
	wid := workflows.DomainWorkflowID(domain, d.Attempt)
	in := workflows.DomainInput{OrderID: o.ID, Domain: domain, Attempt: d.Attempt, MakeDefault: d.MakeDefault, Schedule: sched}
	if d.Status == store.DomainPending && !s.startAfter(w, wid, o, workflows.DomainWorkflowName, "Domain "+domain, workflows.StageCheckingDNS, in) {
		return
	}
	writeJSON(w, http.StatusAccepted, DomainView{OrderID: o.ID, Domain: domain, WorkflowID: wid, Status: d.Status, CheckUntil: d.CheckUntil.UTC()})
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
	ctx := r.Context()
	sv, err := s.Store.GetService(ctx, o.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && sv.Status == store.ServiceTerminated {
		writeError(w, http.StatusConflict, "not_active", "order_id", "order "+o.ID+" has no running subscription")
		return
	}
	if err != nil {
		s.unavailable(w, "read subscription", err)
		return
	}
	reason := strings.TrimSpace(body.Reason)
	if reason == "" {
		reason = "requested by the shop"
	}
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.SubscriptionWorkflowID(o.ID), UpdateName: workflows.UpdateCancelAtPeriodEnd,
		Args: []any{workflows.PeriodCancel{Actor: "shop", Reason: reason}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.AfterResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		writeError(w, http.StatusConflict, "not_active", "order_id", "order "+o.ID+" has no running subscription")
		return
	}
	if err != nil {
		s.unavailable(w, "cancel subscription", err)
		return
	}
	writeJSON(w, http.StatusAccepted, SubscriptionView{Status: res.Stage, PeriodStart: sv.PeriodStart.Format(time.DateOnly),
		PeriodEnd: sv.PeriodEnd.AddDate(0, 0, -1).Format(time.DateOnly), Seats: sv.Seats, CancelAtPeriodEnd: true})
}

// SubscriptionView is the subscription of a provisioned order.
type SubscriptionView struct {
	Status            string `json:"status"`
	Period            int    `json:"period,omitempty"`
	PeriodStart       string `json:"period_start"`
	PeriodEnd         string `json:"period_end"` // the last day paid for
	Seats             int    `json:"seats"`
	CancelAtPeriodEnd bool   `json:"cancel_at_period_end"`
}

// refused answers the store's refusals of a post-purchase request; it
// says whether it answered.
func (s *Server) refused(w http.ResponseWriter, err error, field string) bool {
	var se *store.SeatsError
	switch {
	case err == nil:
		return false
	case errors.Is(err, store.ErrConflict):
		writeError(w, http.StatusConflict, "request_conflict", field, "this request was made before with different content")
	case errors.Is(err, store.ErrNotActive):
		writeError(w, http.StatusConflict, "not_active", "order_id", "the order has no active subscription (not yet provisioned, suspended or ended)")
	case errors.As(err, &se):
		free := max(se.Seats-se.InUse, 0)
		writeJSON(w, http.StatusConflict, ErrorBody{Error: ErrorDetail{Code: "seats", Field: field, Message: se.Message, Free: &free}})
	default:
		s.unavailable(w, "record request", err)
	}
	return true
}

// startAfter starts a post-purchase workflow; one that runs or ran under
// the id counts as started. It says whether the request may be answered.
func (s *Server) startAfter(w http.ResponseWriter, id string, o store.Order, name, summary, stage string, in any,
	reuse ...enumspb.WorkflowIdReusePolicy) bool {
	policy := enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	if len(reuse) > 0 {
		policy = reuse[0]
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(context.Background()), 30*time.Second)
	defer cancel()
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: id, TaskQueue: s.TaskQueue, StaticSummary: summary,
		WorkflowIDReusePolicy:    policy,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		TypedSearchAttributes:    workflows.AfterAttributes(o.ID, o.Plan, o.Domain, o.Seats, stage),
	}, name, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &started) {
		// Recorded, not started: the same request again starts it.
		s.unavailable(w, "start workflow", err)
		return false
	}
	return true
}

func hashOf(parts ...any) []byte {
	h := sha256.Sum256([]byte(fmt.Sprintf("%q", parts)))
	return h[:]
}

// warsaw is where billing dates are counted; loaded once, not per request.
var warsaw = sync.OnceValue(func() *time.Location {
	if loc, err := time.LoadLocation("Europe/Warsaw"); err == nil {
		return loc
	}
	return time.UTC
})
