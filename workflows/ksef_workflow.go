package workflows

import (
	"errors"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// KSeFWorkflowName is the public name of KSeFWorkflow.
const KSeFWorkflowName = "KSeF"

// KSeFWorkflowID names the workflow that sends document id to KSeF.
func KSeFWorkflowID(id int64) string { return order.KSeFWorkflowID(id) }

// The KSeF workflow's Stage, its query and the operator's resend.
const (
	StageKSeFSending  = "sending"
	StageKSeFOffline  = "offline"
	StageKSeFAccepted = "accepted"
	QueryKSeF         = "ksef"
	// UpdateResend sends a rejected document again, its XML built anew
	// from the document as it now stands (after the operator's fix).
	UpdateResend = "resend"
)

// KSeFInput names the document and how long to try.
type KSeFInput struct {
	DocumentID int64
	OrderID    string
	// OnlineFor is how long KSeF may stay unreachable before the document
	// is issued in offline mode (0: 15 minutes).
	OnlineFor time.Duration
	// AlertBefore is how long before an offline document's legal deadline
	// an operator is alerted that it is still not in KSeF (0: 12 hours).
	AlertBefore time.Duration
}

// KSeFState is what the ksef query answers.
type KSeFState struct {
	Status     string // store.KSeFPending, KSeFOffline, KSeFAccepted, KSeFRejected
	KSeFNumber string `json:",omitempty"`
	Reason     string `json:",omitempty"`
	Deadline   time.Time
	Emailed    bool
	Alerted    bool // an operator was alerted of the offline deadline
}

// KSeFWorkflow issues one VAT invoice or correction through KSeF: its FA(3)
// XML is built and kept (a correction first waits for the KSeF number of
// the invoice it corrects), sent, and its KSeF number and UPO kept; then
// the customer gets it by email with the PDF that prints the number and
// KOD I. When KSeF stays unreachable for OnlineFor the document is issued
// offline: the customer gets it at once with its offline QR codes, it is
// sent as soon as KSeF answers, and an operator is alerted (Stage
// needs_attention) AlertBefore its legal deadline if it is not in by then.
// A rejection waits in needs_attention, with KSeF's reason, for the
// operator's resend. The customer's email goes out once either way.
func KSeFWorkflow(ctx workflow.Context, in KSeFInput) (KSeFState, error) {
	var a *activities.Activities
	st := &KSeFState{Status: store.KSeFPending}
	resend := false
	if err := workflow.SetQueryHandler(ctx, QueryKSeF, func() (KSeFState, error) { return *st, nil }); err != nil {
		return *st, err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateResend, func(ctx workflow.Context, d Decision) error {
		workflow.GetLogger(ctx).Info("operator resends the document to KSeF", "Document", in.DocumentID, "Actor", d.Actor, "Reason", d.Reason)
		resend = true
		return nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d Decision) error {
		if st.Status != store.KSeFRejected || resend {
			return temporal.NewApplicationError("only a rejected document is resent; this one is "+st.Status, fail.InvalidOrder)
		}
		if d.Actor == "" {
			return temporal.NewApplicationError("a resend names its operator (Actor)", fail.InvalidOrder)
		}
		return nil
	}}); err != nil {
		return *st, err
	}
	onlineFor, alertBefore := orDefault(in.OnlineFor, 15*time.Minute), orDefault(in.AlertBefore, 12*time.Hour)

	// The XML, once a correction's invoice has its number; a document that
	// cannot be built waits for an operator (the attention interceptor).
	prep := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		Summary:             "Build the FA(3) XML",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute,
			NonRetryableErrorTypes: []string{fail.InvalidOrder, fail.KSeFRejected}},
	})
	if err := workflow.ExecuteActivity(prep, a.PrepareKSeF, in.DocumentID).Get(ctx, nil); err != nil {
		return ended(ctx, st, err), nil
	}

	var res activities.KSeFResult
	err := workflow.ExecuteActivity(ksefSend(ctx, onlineFor), a.SendKSeF, in.DocumentID, false).Get(ctx, &res)
	for {
		var app *temporal.ApplicationError
		switch {
		case err == nil:
			st.Status, st.KSeFNumber, st.Reason = store.KSeFAccepted, res.KSeFNumber, ""
			upsertStage(ctx, StageKSeFAccepted)
			emailKSeF(ctx, in, st)
			return *st, nil
		case errors.As(err, &app) && app.Type() == fail.KSeFRejected:
			st.Status, st.Reason = store.KSeFRejected, app.Message()
			upsertStage(ctx, StageNeedsAttention)
			workflow.GetLogger(ctx).Error("KSeF rejected the document", "Document", in.DocumentID, "Reason", st.Reason)
			if err := workflow.Await(ctx, func() bool { return resend }); err != nil {
				return *st, nil
			}
			resend = false
			st.Status, st.Reason = store.KSeFPending, ""
			if !st.Deadline.IsZero() {
				st.Status = store.KSeFOffline
			}
			upsertStage(ctx, StageKSeFSending)
			err = workflow.ExecuteActivity(ksefSend(ctx, onlineFor), a.SendKSeF, in.DocumentID, !st.Deadline.IsZero()).Get(ctx, &res)
		case isType(err, ErrInvalidOrder):
			// No retry mends it (the document or KSeF's settings are
			// gone): an operator retries once mended, or gives it up.
			d := attentionOf(ctx).park(ctx, "SendKSeF (Send to KSeF)", err)
			if d.action == UpdateResolve {
				return ended(ctx, st, temporal.NewNonRetryableApplicationError("given up by "+d.Actor+": "+d.Reason, ErrResolved, err)), nil
			}
			err = workflow.ExecuteActivity(ksefSend(ctx, onlineFor), a.SendKSeF, in.DocumentID, !st.Deadline.IsZero()).Get(ctx, &res)
		default:
			// Unreachable for onlineFor (or since going offline: never
			// here again, the offline send retries until it succeeds).
			if st.Deadline.IsZero() {
				var off activities.KSeFResult
				if err := workflow.ExecuteActivity(prep, a.GoOffline, in.DocumentID).Get(ctx, &off); err != nil {
					return ended(ctx, st, err), nil
				}
				if off.Status == store.KSeFAccepted {
					err, res = nil, off
					continue
				}
				if off.Status == store.KSeFPending {
					// Sent online already: asked about until KSeF answers.
					err = workflow.ExecuteActivity(ksefSend(ctx, 0), a.SendKSeF, in.DocumentID, false).Get(ctx, &res)
					continue
				}
				st.Status, st.Deadline, st.Reason = store.KSeFOffline, off.Deadline, "KSeF unreachable: "+message(err)
				upsertStage(ctx, StageKSeFOffline)
				emailKSeF(ctx, in, st)
			}
			res, err = sendOffline(ctx, in, st, alertBefore)
		}
	}
}

// sendOffline sends an offline document until KSeF answers, alerting an
// operator alertBefore its deadline if it is still not in.
func sendOffline(ctx workflow.Context, in KSeFInput, st *KSeFState, alertBefore time.Duration) (activities.KSeFResult, error) {
	var a *activities.Activities
	sendCtx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	f := workflow.ExecuteActivity(ksefSend(ctx, 0), a.SendKSeF, in.DocumentID, true)
	alert := workflow.NewTimer(sendCtx, max(st.Deadline.Sub(workflow.Now(ctx))-alertBefore, time.Second))
	var res activities.KSeFResult
	var err error
	done := false
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(f, func(f workflow.Future) { err, done = f.Get(ctx, &res), true })
	sel.AddFuture(alert, func(workflow.Future) {
		if st.Alerted {
			return // once per document, also after a resend
		}
		st.Alerted = true
		st.Reason = "offline since KSeF was unreachable; not yet sent, deadline " + st.Deadline.Format(time.RFC3339)
		upsertStage(ctx, StageNeedsAttention)
		workflow.GetLogger(ctx).Error("offline document near its KSeF deadline", "Document", in.DocumentID, "Deadline", st.Deadline)
		note := workflow.WithLocalActivityOptions(caught(ctx), workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5}})
		_ = workflow.ExecuteLocalActivity(note, a.NoteKSeF, in.DocumentID, st.Reason).Get(ctx, nil)
	})
	for !done {
		sel.Select(ctx)
	}
	return res, err
}

// ksefSend is how SendKSeF runs: retried after KSeF's Retry-After while it
// is unreachable, for up to within (0: until it answers), its failure
// answered by the workflow itself (never parked).
func ksefSend(ctx workflow.Context, within time.Duration) workflow.Context {
	return workflow.WithActivityOptions(caught(ctx), workflow.ActivityOptions{
		StartToCloseTimeout:    2 * time.Minute,
		ScheduleToCloseTimeout: within,
		Summary:                "Send to KSeF",
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute,
			NonRetryableErrorTypes: []string{fail.InvalidOrder, fail.KSeFRejected}},
	})
}

// emailKSeF sends the customer the document with the PDF KSeF's state
// gives it, once.
func emailKSeF(ctx workflow.Context, in KSeFInput, st *KSeFState) {
	var a *activities.Activities
	if st.Emailed {
		return
	}
	if err := workflow.ExecuteActivity(withMail(ctx, "Email the e-invoice"), a.SendKSeFEmail, in.DocumentID).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Error("e-invoice email not sent", "Document", in.DocumentID, "Error", err)
		return
	}
	st.Emailed = true
}

// ended is the state of a run that ends before its document is accepted:
// an operator gave a step up (Stage resolved), or the run was cancelled.
func ended(ctx workflow.Context, st *KSeFState, err error) KSeFState {
	st.Reason = message(err)
	if isType(err, ErrResolved) {
		upsertStage(ctx, StageResolved)
	}
	return *st
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
