package workflows

import (
	"errors"
	"fmt"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/telemetry"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// a is only used for its method values: they name the activities.
var a *activities.Activities

// saga is the state of one order's run, read by queries and updates.
type saga struct {
	in       OrderInput
	view     StatusView
	timeline []TimelineEntry
	cancel   *CancelRequest
	wake     workflow.Channel // an update for the payment wait arrived
	paid     bool
	attrs    []temporal.SearchAttributeUpdate // go out with the next status

	manual         *ManualPayment
	extension      *Extension
	provisioning   bool
	retryProvision *Decision
	stopProvision  workflow.CancelFunc

	// v tells runs started before the compensation stack (DefaultVersion)
	// from later ones, so that both replay.
	v workflow.Version
	// lv is the run's changeLean version (see lean); leanPlan and later
	// buy the plan and license the admin in one activity, leanTenant and
	// later check the domain as they create the tenant.
	lv workflow.Version
	// undo lists the undo steps of what the saga made, in the order they
	// were registered; compensation runs them from the end.
	undo      []string
	round     int       // compensation rounds, for the log's keys
	decision  *Decision // an operator's answer while needs_attention
	deciding  bool      // waiting for that answer
	reminders []pendingEmail

	att          *attention   // steps that failed for good (nil without the interceptor)
	compensating bool         // compensate has begun
	parkedFrom   order.Status // the status before a step failed for good
}

// OrderWorkflow runs one order from placement to installer_ready, or to
// cancellation when payment fails, never comes or the shop cancels.
func OrderWorkflow(ctx workflow.Context, in OrderInput) (Result, error) {
	lv := workflow.GetVersion(ctx, changeLean, workflow.DefaultVersion, leanTenant)
	lean := lv >= 1
	if lean || workflow.GetVersion(ctx, changeUpdateWithStart, workflow.DefaultVersion, 1) >= 1 {
		// The place handler first: the order is recorded before anything else.
		if ok, r, err := place(ctx, in, lean); !ok {
			return r, err
		}
	}
	s := &saga{in: in, view: StatusView{OrderID: in.OrderID, Status: order.Placed}, wake: workflow.NewBufferedChannel(ctx, 1), lv: lv}
	if s.att = attentionOf(ctx); s.att != nil {
		s.att.hook = s
	}
	r, err := s.run(ctx)
	if isType(err, ErrResolved) && !s.compensating {
		r, err = s.giveUp(ctx)
	}
	if isType(err, ErrResolved) {
		// Given up while compensating: the order ends where it stands, as
		// the operator decided.
		return Result{Status: s.view.Status, Reason: message(err)}, nil
	}
	return r, err
}

func (s *saga) run(ctx workflow.Context) (Result, error) {
	in := s.in
	s.v = 1
	if !s.lean() {
		s.v = workflow.GetVersion(ctx, changeCompensation, workflow.DefaultVersion, 1)
	}
	defer drainPayments(ctx)
	if err := s.register(ctx); err != nil {
		return Result{}, err
	}
	s.set(ctx, order.Placed, "order accepted")

	var inv activities.Invoice
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Open billing account and pro-forma"), a.OpenBilling, in.OrderID).Get(ctx, &inv); err != nil {
		return Result{}, err
	}
	s.view.Invoice = &inv
	s.attrs = append(s.attrs, InvoiceNumberKey.ValueSet(inv.Number))
	s.push(UndoReleaseReservation, UndoRevokeBilling, UndoVoidInvoice)
	s.set(ctx, order.BillingAccess, "pro-forma "+inv.Number)
	if err := s.email(ctx, activities.EmailBillingAccess); err != nil {
		return Result{}, err
	}
	if err := s.transition(ctx, order.AwaitingPayment, "waiting for payment of "+inv.Gross.String()+" "+inv.Currency); err != nil {
		return Result{}, err
	}

	payment, reason, why := s.awaitPayment(ctx)
	s.flushReminders(ctx)
	if payment == nil {
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"reason": why}).Counter(telemetry.MetricCompensations).Inc(1)
		if s.v == workflow.DefaultVersion {
			return s.legacyCancel(ctx, reason)
		}
		return s.compensate(ctx, order.Cancelled, reason, activities.EmailCancelled)
	}
	if s.manual != nil {
		m := s.manual
		if err := workflow.ExecuteLocalActivity(withDB(ctx, "Record the payment "+m.Reference+" seen by "+m.Actor), a.RecordManualPayment,
			in.OrderID, m.Reference, m.Actor, m.Reason).Get(ctx, &payment.PaymentID); err != nil {
			return Result{}, err
		}
	}
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Record payment "+payment.PaymentID), a.MarkPaid, in.OrderID, payment.PaymentID).Get(ctx, nil); err != nil {
		return Result{}, err
	}
	s.push(UndoRefundPayment)
	s.attrs = append(s.attrs, PaidAtKey.ValueSet(workflow.Now(ctx)))
	s.set(ctx, order.ProvisioningTenant, "payment "+payment.PaymentID+" received")
	// The payment confirmation does not wait for the tenant: an older run
	// sends it as an activity beside provisioning, a lean run as a local
	// activity in the payment's workflow task, before the first tenant call
	// is scheduled. Either way no workflow task is spent on it alone.
	confirmation := s.emailAsync(ctx, activities.EmailPaymentReceived)

	// Every provisioning error is final here: the activities retry for a
	// bounded time, and what they cannot fix is refunded.
	began := workflow.Now(ctx)
	err := s.provisionUntilDone(ctx)
	if cerr := confirmation.get(ctx); cerr != nil && !temporal.IsCanceledError(cerr) {
		return Result{}, cerr
	}
	workflow.GetMetricsHandler(ctx).Timer(telemetry.MetricProvisioning).Record(workflow.Now(ctx).Sub(began))
	if err != nil {
		workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"reason": "provisioning_failed"}).Counter(telemetry.MetricCompensations).Inc(1)
		if s.v == workflow.DefaultVersion {
			return s.legacyRefund(ctx, err)
		}
		return s.compensate(ctx, order.Refunded, refundReason(s.in, err), activities.EmailRefunded)
	}

	if err := s.transition(ctx, order.EmailingCredentials, "tenant "+s.view.TenantID+" ready"); err != nil {
		return Result{}, err
	}
	if err := s.email(ctx, activities.EmailCredentials); err != nil {
		return Result{}, err
	}
	if err := s.email(ctx, activities.EmailInstallerReady); err != nil {
		return Result{}, err
	}
	var url string
	if err := workflow.ExecuteLocalActivity(withDB(ctx, "Installer ready"), a.FinishInstaller, in.OrderID).Get(ctx, &url); err != nil {
		return Result{}, err
	}
	s.set(ctx, order.InstallerReady, url)
	return Result{Status: order.InstallerReady, Reason: url}, nil
}

// awaitPayment waits for a completed payment, a failed one, a cancellation or
// the deadline, whichever comes first; nil means the order must be cancelled
// for the reason given (why is its kind, for metrics). Reminders go out on
// the way (paymentWait: one timer at a time, for whatever comes next).
func (s *saga) awaitPayment(ctx workflow.Context) (p *Payment, reason, why string) {
	until := s.in.PaymentDeadline
	s.view.WaitingFor, s.view.Until = "payment", &until
	began := workflow.Now(ctx)
	defer func() {
		s.view.WaitingFor, s.view.Until = "", nil
		workflow.GetMetricsHandler(ctx).Timer(telemetry.MetricAwaitingPayment).Record(workflow.Now(ctx).Sub(began))
	}()
	w := &paymentWait{
		invoice: *s.view.Invoice, deadline: until, wake: s.wake, cancellable: s.v >= 1,
		remind: func(ctx workflow.Context, n int) {
			// A reminder that cannot go out does not stop the order (flushReminders).
			s.reminders = append(s.reminders, s.emailAsync(caught(ctx), activities.ReminderEmail(n)))
		},
		keepFailed: func() bool { return s.manual != nil }, // the transfer the operator saw outweighs it
		stop:       func() bool { return s.cancel != nil },
		turn:       s.paymentTurn,
	}
	if s.v >= 1 {
		w.reminders = s.in.Reminders
	}
	p, why = w.wait(ctx)
	switch why {
	case "":
		if !s.paid {
			// The gateway's own payment wins over one marked by hand at
			// the same moment: no second payment is recorded.
			s.paid, s.manual = true, nil
		}
		return p, "", ""
	case waitStopped:
		return nil, "cancelled by " + s.cancel.Actor + ": " + s.cancel.Reason, "cancelled"
	case waitFailed:
		return nil, "payment " + p.PaymentID + " failed", "payment_failed"
	case waitCancelled:
		return nil, "cancellation of the workflow requested", "cancelled"
	}
	return nil, "payment deadline passed", "deadline"
}

// paymentTurn answers an operator's update while the order waits: a
// payment seen by hand ends the wait, an extension moves its deadline.
func (s *saga) paymentTurn(ctx workflow.Context) (*Payment, *time.Time) {
	if m := s.manual; m != nil {
		s.paid = true
		return &Payment{PaymentID: "manual:" + m.Reference, Status: "completed", Amount: s.view.Invoice.Gross, Currency: s.view.Invoice.Currency}, nil
	}
	e := s.extension
	if e == nil {
		return nil, nil
	}
	// Cleared once the deadline moved: the update answers with the new one.
	defer func() { s.extension = nil }()
	if err := s.record(ctx, activities.Event{Key: "extend_deadline:" + e.Until.UTC().Format(time.RFC3339), Status: order.AwaitingPayment,
		Actor: e.Actor, Reason: "deadline extended to " + e.Until.UTC().Format(time.RFC3339) + ": " + e.Reason, Deadline: e.Until}); err != nil {
		workflow.GetLogger(ctx).Error("deadline extension not recorded", "Error", err)
		return nil, nil
	}
	until := e.Until
	s.view.Until = &until
	return nil, &until
}

// flushReminders waits for reminders still on their way; a reminder that
// could not go out does not change the order.
func (s *saga) flushReminders(ctx workflow.Context) {
	for _, r := range s.reminders {
		if err := r.get(ctx); err != nil {
			workflow.GetLogger(ctx).Warn("payment reminder not sent", "Kind", r.kind, "Error", err)
		}
	}
	s.reminders = nil
}

// provision makes the tenant: domain check, customer with admin, subscription.
func (s *saga) provision(ctx workflow.Context) error {
	domain := s.in.DomainPrefix + ".onmicrosoft.com"
	create := "Create customer tenant"
	if s.lv >= leanTenant {
		create = "Check domain " + domain + ", create customer tenant"
	} else {
		tctx := withTenant(ctx, "Check domain "+domain)
		if err := workflow.ExecuteActivity(tctx, a.CheckDomain, s.in.OrderID).Get(ctx, nil); err != nil {
			return err
		}
	}
	var t activities.Tenant
	if err := workflow.ExecuteActivity(withTenant(ctx, create), a.CreateTenant, s.in.OrderID).Get(ctx, &t); err != nil {
		return err
	}
	s.view.TenantID, s.view.Domain = t.TenantID, t.Domain
	// Registered before the order is placed: if its answer is lost, the
	// subscription exists at the tenant API all the same.
	s.push(UndoSuspendSubscriptions)
	summary := fmt.Sprintf("Order %s x%d", s.in.Plan, s.in.Seats)
	if s.lv >= leanPlan {
		// One activity, one trip through the task queue fewer on the way
		// from the payment to the credentials. The saga does not know
		// whether the order declined the admin's licence (BuyPlan reads
		// it), so the summary does not promise one.
		return workflow.ExecuteActivity(withTenant(ctx, summary+", then the admin's licence as ordered"), a.BuyPlan, s.in.OrderID).Get(ctx, nil)
	}
	if err := workflow.ExecuteActivity(withTenant(ctx, summary), a.OrderSubscription, s.in.OrderID).Get(ctx, nil); err != nil {
		return err
	}
	if !s.lean() && workflow.GetVersion(ctx, changeAdminLicence, workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return nil // started before: the admin got no licence
	}
	// The admin's licence goes with the subscription it is of: suspending
	// that (the undo above) takes it back, so it needs no undo of its own.
	return workflow.ExecuteActivity(withTenant(ctx, "Admin licence"), a.AssignAdminLicence, s.in.OrderID).Get(ctx, nil)
}

// changeAdminLicence marks runs whose provisioning gives the tenant's first
// admin one of the plan's licences (unless the order said not to); runs
// that got past the subscription before it keep their commands.
const changeAdminLicence = "admin-licence"

// transition records a status in the database, then in the saga.
func (s *saga) transition(ctx workflow.Context, st order.Status, reason string) error {
	err := workflow.ExecuteLocalActivity(withDB(ctx, "Status "+string(st)), a.Transition, s.in.OrderID, st, reason).Get(ctx, nil)
	if err == nil {
		s.set(ctx, st, reason)
	}
	return err
}

// email sends one of the order's emails. A mail server that refuses the
// address for good does not stop the order: the refusal goes on the timeline
// for an operator, and the saga goes on.
func (s *saga) email(ctx workflow.Context, kind string) error {
	return s.emailAsync(ctx, kind).get(ctx)
}

// pendingEmail is an email on its way; get waits for it.
type pendingEmail struct {
	s    *saga
	kind string
	f    workflow.Future
}

func (s *saga) emailAsync(ctx workflow.Context, kind string) pendingEmail {
	if s.lean() {
		return pendingEmail{s: s, kind: kind, f: workflow.ExecuteLocalActivity(withLocalMail(ctx, "Email "+kind), a.SendEmail, s.in.OrderID, kind)}
	}
	return pendingEmail{s: s, kind: kind, f: workflow.ExecuteActivity(withMail(ctx, "Email "+kind), a.SendEmail, s.in.OrderID, kind)}
}

func (p pendingEmail) get(ctx workflow.Context) error {
	s, kind := p.s, p.kind
	err := p.f.Get(ctx, nil)
	var appErr *temporal.ApplicationError
	if isRejected(err) && errors.As(err, &appErr) {
		s.timeline = append(s.timeline, TimelineEntry{Status: s.view.Status, At: workflow.Now(ctx), Reason: "email " + kind + " rejected: " + appErr.Message()})
		return nil
	}
	return err
}

// lean tells runs started after changeLean: one version marker for all
// the changes before it, emails as local activities, and no status
// attribute for a stage passed within one workflow task.
func (s *saga) lean() bool { return s.lv >= 1 }

// set moves the saga's own view and the search attribute; the database was
// moved by the activity that did the step.
func (s *saga) set(ctx workflow.Context, st order.Status, reason string) {
	s.view.Status, s.view.Reason = st, reason
	s.timeline = append(s.timeline, TimelineEntry{Status: st, At: workflow.Now(ctx), Reason: reason})
	workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"status": string(st)}).Counter(telemetry.MetricOrderTransitions).Inc(1)
	if cur, ok := workflow.GetTypedSearchAttributes(ctx).GetKeyword(OrderStatusKey); ok && cur == string(st) && len(s.attrs) == 0 {
		return // set at start by the intake: no event needed
	}
	if s.lean() && passing(st) {
		return // its attributes go out with the next stage's
	}
	// Other attributes ride along with the status: one event per stage.
	updates := append(s.attrs, OrderStatusKey.ValueSet(string(st)))
	s.attrs = nil
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Error("search attribute not updated", "Error", err)
	}
}

func (s *saga) register(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (StatusView, error) { return s.view, nil }); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, QueryTimeline, func() ([]TimelineEntry, error) { return s.timeline, nil }); err != nil {
		return err
	}
	if err := s.registerDecisions(ctx); err != nil {
		return err
	}
	if err := s.registerOperatorActions(ctx); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateCancel,
		func(ctx workflow.Context, req CancelRequest) (StatusView, error) {
			if s.cancel == nil {
				s.cancel = &req
				s.wake.SendAsync(true)
			}
			return s.view, nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, req CancelRequest) error {
			if s.paid || !s.view.Status.Cancellable() {
				// Typed, so that the intake answers 409 by the type, not the text.
				return temporal.NewApplicationError(fmt.Sprintf("order is %s and can no longer be cancelled", s.view.Status), ErrNotCancellable)
			}
			return nil
		}})
}

// Activity options per kind of I/O: the database and mail are ours and worth
// waiting for; the tenant API gets a bounded time before the order is refunded.
//
// A step that only writes our own database in one short transaction runs as
// a local activity: one marker event instead of three and no trip through
// the task queue. It is retried like any activity (past the workflow task
// timeout the SDK schedules the retries with timers), and a crash before its
// result is recorded runs it again, which its idempotency allows.
func withDB(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		Summary:             summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{ErrInvalidOrder},
		},
	})
}

// passing is a stage that a lean run leaves in the workflow task it
// entered it: billing_access and emailing_credentials are only local
// activities (the database, the mail server) away from the next stage. An
// operator could never see its attribute, so none is written; the database,
// the API and the timeline have the stage. While its email is retried the
// attribute keeps the stage before, and the workflow shows the retries.
func passing(st order.Status) bool {
	return st == order.BillingAccess || st == order.EmailingCredentials
}

// withLocalMail sends an email as a local activity (lean runs): the mail
// server is ours, a message goes out in milliseconds, and the saga waits for
// it anyway, so the trip through the task queue and its three events buy
// nothing. Retries are those of withMail; past the workflow task's timeout
// the SDK schedules them with timers.
func withLocalMail(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: time.Minute, Summary: summary, RetryPolicy: mailRetry(),
	})
}

func withMail(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute, Summary: summary, RetryPolicy: mailRetry(),
	})
}

// mailRetry is how an email is retried, as an activity or a local one.
func mailRetry() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
		NonRetryableErrorTypes: []string{ErrInvalidOrder},
	}
}

func withTenant(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 2 * time.Hour,
		Summary:                summary,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{ErrDomainTaken, ErrInvalidOrder, ErrTenantAPI},
		},
	})
}

// drainPayments reads the payment notifications still buffered when the
// order ends: a shop's repeats of a payment already taken, or one for an
// order that ended meanwhile (the intake records and refunds those). Read,
// they end the run without the SDK's warning about unhandled signals; the
// read adds no event to the history.
func drainPayments(ctx workflow.Context) {
	ch := workflow.GetSignalChannel(ctx, SignalPayment)
	var p Payment
	for ch.ReceiveAsync(&p) {
		workflow.GetLogger(ctx).Info("payment notification after the wait, left to the intake's record", "PaymentID", p.PaymentID, "Status", p.Status)
	}
}
