package intake

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// The requests after the first order, as the shop's JSON API and the
// customer's billing panel both make them: each is checked and recorded,
// then run by a workflow of its own whose id comes from the request, so a
// repeat, from either side, never starts a second one.
//
// A refusal is typed: *order.FieldError (Code CodeInvalid, CodeNotActive or
// CodeDomainTaken, naming the field), store.ErrConflict, store.ErrNotActive
// or *store.SeatsError. Any other error means the database or Temporal did
// not answer, and the same request may be made again.

// Codes of the refusals that are *order.FieldError.
const (
	CodeInvalid     = "invalid"
	CodeNotActive   = "not_active"
	CodeDomainTaken = "domain_taken"
	CodeBusy        = "busy"
	CodeAdminUser   = "admin_user"
	// CodeCancelWindow: seats can be given back only within 168 hours of
	// their purchase or renewal (Microsoft's new-commerce rule).
	CodeCancelWindow = "cancel_window"
)

var (
	requestIDRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	userLocalRe = regexp.MustCompile(`^[a-z0-9]([a-z0-9._-]{0,62}[a-z0-9])?$`)
	domainRe    = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)
)

func refusal(field, code, msg string) *order.FieldError {
	return &order.FieldError{Field: field, Code: code, Message: msg}
}

// CancelAtPeriodEnd asks the order's subscription to end when its paid
// period ends (nothing is refunded for the period paid); actor is who asks
// ("shop", "customer"). Asked again, it answers the same. An order with no
// running subscription is refused with CodeNotActive.
func (s *Server) CancelAtPeriodEnd(ctx context.Context, o store.Order, actor, reason string) error {
	_, _, err := s.cancelAtPeriodEnd(ctx, o, actor, reason)
	return err
}

// cancelAtPeriodEnd is CancelAtPeriodEnd with the subscription as it was
// and the workflow's answer, for the shop's API.
func (s *Server) cancelAtPeriodEnd(ctx context.Context, o store.Order, actor, reason string) (store.Service, workflows.AfterResult, error) {
	notActive := refusal("order_id", CodeNotActive, "order "+o.ID+" has no running subscription")
	sv, err := s.Store.GetService(ctx, o.ID)
	if errors.Is(err, store.ErrNotFound) || err == nil && sv.Status == store.ServiceTerminated {
		return sv, workflows.AfterResult{}, notActive
	}
	if err != nil {
		return sv, workflows.AfterResult{}, err
	}
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.SubscriptionWorkflowID(o.ID), UpdateName: workflows.UpdateCancelAtPeriodEnd,
		Args: []any{workflows.PeriodCancel{Actor: actor, Reason: reason}}, WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	var res workflows.AfterResult
	if err == nil {
		err = h.Get(ctx, &res)
	}
	var notFound *serviceerror.NotFound
	if errors.As(err, &notFound) {
		return sv, res, notActive
	}
	return sv, res, err
}

// AddSeats records n more seats (fewer when negative) for a provisioned
// order and starts the LicencesWorkflow that bills them (or lowers the
// seats at once), under an id from requestID.
func (s *Server) AddSeats(ctx context.Context, o store.Order, requestID string, n int) (store.Charge, error) {
	switch {
	case !requestIDRe.MatchString(requestID):
		return store.Charge{}, refusal("request_id", CodeInvalid, "request_id must be 1-64 letters, digits, '.', '_' or '-'")
	case n == 0 || n < -order.MaxSeats || n > order.MaxSeats:
		return store.Charge{}, refusal("add_seats", CodeInvalid,
			fmt.Sprintf("add_seats must be a non-zero number of seats from %d to %d", -order.MaxSeats, order.MaxSeats))
	}
	now := time.Now()
	wid := workflows.LicencesWorkflowID(o.ID, requestID)
	req := store.ChargeRequest{
		ID: o.ID + ":licences:" + requestID, OrderID: o.ID, WorkflowID: wid, Hash: hashOf(requestID, n),
		Change: n, Deadline: now.Add(s.Deadline).Truncate(time.Second), Today: now.In(warsaw()),
	}
	if n < 0 {
		if err := s.admitReduction(ctx, req); err != nil {
			return store.Charge{}, err
		}
	}
	c, err := s.Store.OpenLicenceCharge(ctx, req)
	if err != nil {
		return c, err
	}
	in := workflows.LicencesInput{OrderID: o.ID, ChargeID: c.ID, Change: c.Seats, Deadline: c.Deadline,
		Reminders: order.ReminderTimes(now, c.Deadline, s.Reminders)}
	stage := workflows.StageAwaitingPayment
	if c.Seats < 0 {
		stage = workflows.StageApplying
	}
	return c, s.startAfter(wid, o, workflows.LicencesWorkflowName, fmt.Sprintf("Licences %+d for order %s", c.Seats, o.ID), stage, in)
}

// admitReduction has the order's subscription record a reduction of seats
// while one of its cancellation windows is open; a repeat of a recorded
// request is answered from the record, window or not.
func (s *Server) admitReduction(ctx context.Context, r store.ChargeRequest) error {
	if _, err := s.Store.GetCharge(ctx, r.ID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	h, err := s.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.SubscriptionWorkflowID(r.OrderID), UpdateName: workflows.UpdateReduceSeats,
		Args: []any{activities.Reduction{OrderID: r.OrderID, ChargeID: r.ID, WorkflowID: r.WorkflowID, Hash: r.Hash,
			Change: r.Change, Deadline: r.Deadline, Today: r.Today}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var notFound *serviceerror.NotFound
	var appErr *temporal.ApplicationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notFound):
		return store.ErrNotActive
	case !errors.As(err, &appErr):
		return err
	}
	switch appErr.Type() {
	case fail.CancelWindow:
		return refusal("add_seats", CodeCancelWindow, appErr.Message())
	case fail.SeatsRefused:
		se := &store.SeatsError{Message: appErr.Message()}
		if appErr.HasDetails() {
			_ = appErr.Details(&se.InUse, &se.Seats)
		}
		return se
	case fail.OrderConflict:
		return store.ErrConflict
	case fail.InvalidOrder:
		return store.ErrNotActive
	}
	return err
}

// SeatWindow asks the order's subscription until when seats can be given
// back, and how many (0: any); a zero time when no window is open.
func (s *Server) SeatWindow(ctx context.Context, o store.Order) (time.Time, int, error) {
	v, err := s.Temporal.QueryWorkflow(ctx, workflows.SubscriptionWorkflowID(o.ID), "", workflows.QueryWindow)
	if err != nil {
		return time.Time{}, 0, err
	}
	var w workflows.SeatWindow
	err = v.Get(&w)
	return w.Ends, w.Seats, err
}

// AddUser records a user of the order's tenant (with a licence, while a
// seat is free) and starts the UserWorkflow that makes it, under an id
// from its name. userName is a mailbox name in the tenant's domain or a
// full address in one of its verified domains.
func (s *Server) AddUser(ctx context.Context, o store.Order, userName, displayName string, licence bool) (store.User, error) {
	name := strings.ToLower(strings.TrimSpace(userName))
	local, domain, hasDomain := strings.Cut(name, "@")
	if !hasDomain {
		domain = o.Domain
	}
	display := strings.Join(strings.Fields(displayName), " ")
	switch {
	case !userLocalRe.MatchString(local) || strings.Contains(local, ".."):
		return store.User{}, refusal("user_name", CodeInvalid, "user_name must be a mailbox name (letters, digits, '.', '_', '-') or a full address in one of the tenant's domains")
	case display == "" || len(display) > 256:
		return store.User{}, refusal("display_name", CodeInvalid, "display_name is required, at most 256 characters")
	case o.Domain == "":
		return store.User{}, refusal("order_id", CodeNotActive, "order "+o.ID+" has no tenant yet")
	}
	if domain != o.Domain {
		d, err := s.Store.GetDomain(ctx, domain)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.User{}, fmt.Errorf("read domain: %w", err)
		}
		if err != nil || d.OrderID != o.ID || !store.DomainIsVerified(d.Status) {
			return store.User{}, refusal("user_name", CodeInvalid, "the domain "+domain+" is not a verified domain of the tenant")
		}
	}
	upn := local + "@" + domain
	u, err := s.Store.AddUser(ctx, store.UserRequest{OrderID: o.ID, UserName: upn, DisplayName: display, Licensed: licence,
		Hash: hashOf(upn, display, licence)})
	if err != nil {
		return u, err
	}
	in := workflows.UserInput{OrderID: o.ID, UserName: upn, Licensed: u.Licensed}
	// A user asked for again after a failed attempt runs anew under its id.
	reuse := enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY
	if u.Created && u.Attempt > 1 {
		reuse = enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE
	}
	return u, s.startAfter(workflows.UserWorkflowID(o.ID, upn), o, workflows.UserWorkflowName, "User "+upn, workflows.StageCreating, in, reuse)
}

// RemoveUser removes a user of the order's tenant: recorded as removing
// (it keeps its seat meanwhile), then deleted by the UserRemoval workflow,
// under an id from its name and attempt, so a repeat starts nothing more.
// A user still being made is refused (CodeBusy), the tenant's first admin
// too (CodeAdminUser: removing it would lock the customer out); an unknown one is
// store.ErrNotFound.
func (s *Server) RemoveUser(ctx context.Context, o store.Order, userName string) (store.User, error) {
	name := strings.ToLower(strings.TrimSpace(userName))
	u, err := s.Store.RemoveUser(ctx, o.ID, name)
	if errors.Is(err, store.ErrUserBusy) {
		return u, refusal("user_name", CodeBusy, "user "+name+" is still being created; remove it once it is ready")
	}
	if errors.Is(err, store.ErrAdminUser) {
		return u, refusal("user_name", CodeAdminUser, "user "+name+" is the tenant's administrator, made with the tenant: it is not removed here")
	}
	if err != nil || u.Status == store.UserRemoved {
		return u, err
	}
	in := workflows.UserInput{OrderID: o.ID, UserName: name, Licensed: u.Licensed}
	return u, s.startAfter(workflows.UserRemovalWorkflowID(o.ID, name, u.Attempt), o, workflows.UserRemovalWorkflowName,
		"Remove user "+name, workflows.StageRemoving, in)
}

// AddDomain records the customer's own domain for the order's tenant and
// starts the DomainWorkflow that adds and verifies it, under an id from the
// domain and its attempt.
func (s *Server) AddDomain(ctx context.Context, o store.Order, domain string, makeDefault bool) (store.Domain, error) {
	domain = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if len(domain) > 253 || !domainRe.MatchString(domain) || strings.HasSuffix(domain, ".onmicrosoft.com") {
		return store.Domain{}, refusal("domain", CodeInvalid, "domain must be a registered domain name such as acme.pl (not .onmicrosoft.com)")
	}
	sched := s.DomainSchedule
	if sched.First == 0 {
		sched = workflows.DefaultDomainSchedule
	}
	d, err := s.Store.AddDomain(ctx, o.ID, domain, makeDefault, time.Now().Add(sched.GiveUpAfter).Truncate(time.Second))
	if errors.Is(err, store.ErrDomainTaken) {
		return d, refusal("domain", CodeDomainTaken, "the domain "+domain+" is being added to another tenant")
	}
	if err != nil || d.Status != store.DomainPending {
		return d, err
	}
	in := workflows.DomainInput{OrderID: o.ID, Domain: domain, Attempt: d.Attempt, MakeDefault: d.MakeDefault, Schedule: sched}
	return d, s.startAfter(workflows.DomainWorkflowID(domain, d.Attempt), o, workflows.DomainWorkflowName, "Domain "+domain, workflows.StageCheckingDNS, in)
}

// MailPanelLinks starts the run that mails billing panel sign-in links to
// the customer at email, one per order. The panel recorded the links; the
// run carries their nonces, never a token.
func (s *Server) MailPanelLinks(ctx context.Context, email string, links []store.PanelLink) error {
	if len(links) == 0 {
		return nil
	}
	in := workflows.PanelLinkInput{Links: make([]activities.PanelLink, len(links))}
	for i, l := range links {
		in.Links[i] = activities.PanelLink{OrderID: l.OrderID, Nonce: l.Nonce}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	_, err := s.Temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: order.PanelLinkWorkflowID(email, links[0].Hash), TaskQueue: s.TaskQueue, StaticSummary: "Billing panel sign-in link",
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.PanelLinkWorkflowName, in)
	if err != nil {
		return fmt.Errorf("start workflow: %w", err)
	}
	return nil
}

// startAfter starts a post-purchase workflow; one that runs or ran under
// the id counts as started. A request whose start failed was recorded: the
// same request again starts it. The start outlives the caller's request,
// so a client that gives up does not cut it off halfway.
func (s *Server) startAfter(id string, o store.Order, name, summary, stage string, in any,
	reuse ...enumspb.WorkflowIdReusePolicy) error {
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
		return fmt.Errorf("start workflow: %w", err)
	}
	return nil
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
