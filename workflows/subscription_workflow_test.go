package workflows

import (
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// A monthly period ending at a Polish midnight; the renewal is the next one.
var (
	warsaw    = time.FixedZone("CET", 3600)
	periodEnd = time.Date(2027, 2, 1, 0, 0, 0, 0, warsaw)
	renewal   = activities.Renewal{ChargeID: "shop-1:renewal:2", Period: 2, PeriodEnd: time.Date(2027, 3, 1, 0, 0, 0, 0, warsaw),
		Invoice: activities.Invoice{Number: "PF/2027/000010", Net: pln("1000.00"), VAT: pln("230.00"), Gross: pln("1230.00"), Currency: "PLN", DueDate: "2027-02-07"}}
	renewalPaid = Payment{PaymentID: "p-20", Status: "completed", Amount: pln("1230.00"), Currency: "PLN", ChargeID: renewal.ChargeID}
	subIn       = SubscriptionInput{OrderID: afterOrder, Period: 1, PeriodEnd: periodEnd, Timing: DefaultTiming}

	noticeAt    = periodEnd.Add(-7 * 24 * time.Hour).UTC() // the renewal pro-forma
	graceEnd    = periodEnd.Add(7 * 24 * time.Hour).UTC()  // suspended if still unpaid
	terminateAt = graceEnd.Add(30 * 24 * time.Hour)        // terminated if still unpaid

	rc = renewal.ChargeID
	// What every renewal does at the notice.
	renewalOpened = []string{"OpenRenewal(shop-1," + graceEnd.Format(time.RFC3339) + ")", "SendNotice(renewal_invoice:" + rc + ")"}
	// The suspension of an unpaid renewal, reminders before it.
	renewalSuspended = []string{"SendNotice(payment_reminder#1:" + rc + ")", "SendNotice(payment_reminder#2:" + rc + ")",
		"SetTenantStatus(shop-1,suspended)", "SetService(shop-1,suspended:1,suspended,renewal PF/2027/000010 unpaid)",
		"SendNotice(subscription_suspended:" + rc + ")"}
)

// after is how long after the start of the test t is.
func after(t time.Time) time.Duration { return t.Sub(afterStart) }

// terminated is how a subscription ends.
func terminated(reason string) []string {
	return []string{"SetTenantStatus(shop-1,deleted)", "SetService(shop-1,terminated,terminated," + reason + ")",
		"SendNotice(subscription_terminated)"}
}

// requireNext checks the input of the next period's run.
func requireNext(t *testing.T, next SubscriptionInput) {
	t.Helper()
	require.Equal(t, 2, next.Period)
	require.True(t, renewal.PeriodEnd.Equal(next.PeriodEnd), "next period ends %v, not %v", renewal.PeriodEnd, next.PeriodEnd)
	require.Equal(t, afterOrder, next.OrderID)
	require.Equal(t, DefaultTiming, next.Timing)
}

func TestSubscriptionPaidRenewalContinuesWithTheNextPeriod(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	h.env.RegisterDelayedCallback(func() { require.Equal(t, activities.ServiceActive, h.stage()) }, after(noticeAt)-time.Hour)
	h.env.RegisterDelayedCallback(func() { require.Equal(t, activities.ServiceRenewalDue, h.stage()) }, after(noticeAt)+time.Hour)
	h.pay(after(noticeAt)+24*time.Hour, renewalPaid)
	var next SubscriptionInput
	h.continued(SubscriptionWorkflow, subIn, &next)
	requireNext(t, next)
	require.Equal(t, join(renewalOpened, []string{"SettleCharge(" + rc + ",p-20)", "SendNotice(renewal_paid:" + rc + ")"}), h.names())
	require.Equal(t, []time.Time{noticeAt}, h.times("OpenRenewal"), "the pro-forma goes out 7 days before the period ends")
	require.Equal(t, []time.Time{noticeAt.Add(24 * time.Hour)}, h.times("SettleCharge"))
	require.Equal(t, rc, h.email(activities.EmailRenewalPaid).Notice.ChargeID, "the VAT invoice is attached")
	require.Equal(t, []string{activities.ServiceRenewalDue, activities.ServiceActive}, h.stages)
}

// A renewal may be paid at a second try: a failed payment (or one that
// does not match) keeps the renewal open, and reminders go on.
func TestSubscriptionFailedPaymentKeepsTheRenewalOpen(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	failed := renewalPaid
	failed.PaymentID, failed.Status = "p-19", "failed"
	short := renewalPaid
	short.PaymentID, short.Amount = "p-18", pln("123.00")
	h.pay(after(noticeAt)+24*time.Hour, failed)
	h.pay(after(noticeAt)+48*time.Hour, short)
	h.pay(after(periodEnd)+24*time.Hour, renewalPaid)
	var next SubscriptionInput
	h.continued(SubscriptionWorkflow, subIn, &next)
	requireNext(t, next)
	require.Equal(t, join(renewalOpened, []string{"SendNotice(payment_reminder#1:" + rc + ")",
		"SettleCharge(" + rc + ",p-20)", "SendNotice(renewal_paid:" + rc + ")"}), h.names())
	reminder := h.email(activities.EmailPaymentReminder)
	require.Equal(t, periodEnd.Add(-48*time.Hour).UTC(), reminder.At, "2 days before the period ends")
	require.Equal(t, rc, reminder.Notice.ChargeID)
}

func TestSubscriptionUnpaidIsSuspendedAndAPaymentReactivatesIt(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	h.env.RegisterDelayedCallback(func() { require.Equal(t, activities.ServiceSuspended, h.stage()) }, after(graceEnd)+time.Hour)
	h.pay(after(graceEnd)+3*24*time.Hour, renewalPaid)
	var next SubscriptionInput
	h.continued(SubscriptionWorkflow, subIn, &next)
	requireNext(t, next)
	require.Equal(t, join(renewalOpened, renewalSuspended, []string{"SettleCharge(" + rc + ",p-20)",
		"SetTenantStatus(shop-1,active)", "SendNotice(subscription_reactivated:" + rc + ")"}), h.names())
	var reminders []time.Time
	for _, c := range h.calls {
		if c.Name == "SendNotice" && c.Notice.Kind == activities.EmailPaymentReminder {
			reminders = append(reminders, c.At)
		}
	}
	require.Equal(t, []time.Time{periodEnd.Add(-48 * time.Hour).UTC(), periodEnd.Add(72 * time.Hour).UTC()}, reminders)
	require.Equal(t, []time.Time{graceEnd, graceEnd.Add(3 * 24 * time.Hour)}, h.times("SetTenantStatus"),
		"suspended when the grace period ends, active again when paid")
	require.True(t, terminateAt.Equal(h.email(activities.EmailSubscriptionSuspended).Notice.TerminateOn), "pay before the termination date")
	require.Equal(t, []string{activities.ServiceRenewalDue, activities.ServiceSuspended, activities.ServiceActive}, h.stages)
}

func TestSubscriptionUnpaidToTheEndIsTerminated(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	r := h.run(SubscriptionWorkflow, subIn)
	reason := "renewal PF/2027/000010 unpaid 30 days after suspension"
	require.Equal(t, AfterResult{Stage: activities.ServiceTerminated, Reason: reason}, r)
	require.Equal(t, join(renewalOpened, renewalSuspended, []string{"VoidCharge(" + rc + "," + reason + ")"}, terminated(reason)), h.names())
	require.Equal(t, []time.Time{terminateAt}, h.times("VoidCharge"), "30 days after the suspension")
	require.Equal(t, []time.Time{graceEnd, terminateAt}, h.times("SetTenantStatus"))
	n := h.email(activities.EmailSubscriptionTerminated).Notice
	require.Equal(t, rc, n.ChargeID, "the credit note of the renewal is attached")
	require.Equal(t, reason, n.Reason)
	require.Equal(t, []string{activities.ServiceRenewalDue, activities.ServiceSuspended, activities.ServiceTerminated}, h.stages)
}

func TestSubscriptionCancelledBeforeTheNoticeEndsWithThePeriod(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	cancel := PeriodCancel{Actor: "shop", Reason: "moving to another provider"}
	var noActor error
	var answers []AfterResult
	h.env.RegisterDelayedCallback(func() {
		h.update(UpdateCancelAtPeriodEnd, PeriodCancel{Actor: " ", Reason: "who?"}, func(err error) { noActor = err })
	}, 12*time.Hour)
	for _, at := range []time.Duration{24 * time.Hour, 48 * time.Hour} { // the shop's retry changes nothing
		h.env.RegisterDelayedCallback(func() {
			h.env.UpdateWorkflow(UpdateCancelAtPeriodEnd, "shop-cancel-"+at.String(), &testsuite.TestUpdateCallback{
				OnReject: func(err error) { t.Errorf("rejected: %v", err) },
				OnAccept: func() {},
				OnComplete: func(v any, err error) {
					require.NoError(t, err)
					answers = append(answers, v.(AfterResult))
				},
			}, cancel)
		}, at)
	}
	r := h.run(SubscriptionWorkflow, subIn)
	reason := "cancelled at the customer's request: moving to another provider"
	require.Equal(t, AfterResult{Stage: activities.ServiceTerminated, Reason: reason}, r)
	require.ErrorContains(t, noActor, "actor is required")
	require.Equal(t, join([]string{"CancelAtPeriodEnd(shop-1,shop,moving to another provider)", "SendNotice(subscription_ending)"},
		terminated(reason)), h.names(), "no renewal pro-forma, nothing to void")
	require.Equal(t, []time.Time{afterStart.Add(24 * time.Hour)}, h.times("CancelAtPeriodEnd"))
	require.Equal(t, []time.Time{periodEnd.UTC()}, h.times("SetTenantStatus"), "ended when the paid period ends, not earlier")
	require.Empty(t, h.email(activities.EmailSubscriptionTerminated).Notice.ChargeID)
	require.Len(t, answers, 2)
	require.Equal(t, AfterResult{Stage: activities.ServiceActive, Reason: "ends 2027-01-31"}, answers[0])
	require.Equal(t, []string{activities.ServiceTerminated}, h.stages)
}

func TestSubscriptionCancelledWhileRenewalDueVoidsTheRenewal(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	h.env.RegisterDelayedCallback(func() {
		h.update(UpdateCancelAtPeriodEnd, PeriodCancel{Actor: "shop", Reason: "too expensive"}, nil)
	}, after(periodEnd)-3*24*time.Hour)
	r := h.run(SubscriptionWorkflow, subIn)
	reason := "cancelled at the customer's request: too expensive"
	require.Equal(t, AfterResult{Stage: activities.ServiceTerminated, Reason: reason}, r)
	// The confirmation goes out beside the credit note: its place is not fixed.
	require.Equal(t, join(renewalOpened, []string{"CancelAtPeriodEnd(shop-1,shop,too expensive)",
		"VoidCharge(" + rc + ",not renewed: cancelled at the customer's request)"}, terminated(reason)),
		without(h.names(), "SendNotice(subscription_ending)"), "no reminder after the cancellation")
	cancelledAt := periodEnd.Add(-3 * 24 * time.Hour).UTC()
	require.Equal(t, []time.Time{cancelledAt}, h.times("VoidCharge"), "the pro-forma is void at once")
	require.Equal(t, cancelledAt, h.email(activities.EmailSubscriptionEnding).At)
	require.Equal(t, []time.Time{periodEnd.UTC()}, h.times("SetTenantStatus"), "the paid period runs to its end")
	require.Equal(t, rc, h.email(activities.EmailSubscriptionTerminated).Notice.ChargeID, "the credit note of the renewal is attached")
	require.Equal(t, []string{activities.ServiceRenewalDue, activities.ServiceTerminated}, h.stages)
}

// Suspended and then cancelled: nothing is left to wait for.
func TestSubscriptionCancelledWhileSuspendedEndsAtOnce(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	cancelAt := graceEnd.Add(24 * time.Hour)
	h.env.RegisterDelayedCallback(func() {
		h.update(UpdateCancelAtPeriodEnd, PeriodCancel{Actor: "shop", Reason: "closing the company"}, nil)
	}, after(cancelAt))
	r := h.run(SubscriptionWorkflow, subIn)
	reason := "cancelled while suspended: closing the company"
	require.Equal(t, AfterResult{Stage: activities.ServiceTerminated, Reason: reason}, r)
	require.Equal(t, join(renewalOpened, renewalSuspended, []string{"CancelAtPeriodEnd(shop-1,shop,closing the company)",
		"VoidCharge(" + rc + "," + reason + ")"}, terminated(reason)), without(h.names(), "SendNotice(subscription_ending)"))
	require.Equal(t, []time.Time{graceEnd, cancelAt}, h.times("SetTenantStatus"))
}

// A cancellation accepted while a paid renewal is being recorded is not
// lost when the run continues as new: the next period is the last.
func TestSubscriptionCancelDuringTheRenewalCarriesOver(t *testing.T) {
	paidAt := noticeAt.Add(24 * time.Hour)
	h := newAfterHarness(t, activities.ServiceActive, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.SettleCharge, mock.Anything, rc, "p-20").After(time.Minute).Return(activities.Invoice{Number: "FV/2027/000011"}, nil)
	})
	h.pay(after(paidAt), renewalPaid)
	h.env.RegisterDelayedCallback(func() {
		h.update(UpdateCancelAtPeriodEnd, PeriodCancel{Actor: "shop", Reason: "last month"}, nil)
	}, after(paidAt)+30*time.Second)
	var next SubscriptionInput
	h.continued(SubscriptionWorkflow, subIn, &next)
	requireNext(t, next)
	require.Equal(t, &PeriodCancel{Actor: "shop", Reason: "last month"}, next.Cancel)
	require.Contains(t, h.names(), "CancelAtPeriodEnd(shop-1,shop,last month)")
	require.Contains(t, h.names(), "SendNotice(subscription_ending)", "confirmed before the run ended")

	h2 := newAfterHarness(t, activities.ServiceActive)
	h2.env.SetStartTime(h.env.Now())
	r := h2.run(SubscriptionWorkflow, next)
	reason := "cancelled at the customer's request: last month"
	require.Equal(t, AfterResult{Stage: activities.ServiceTerminated, Reason: reason}, r)
	require.Equal(t, terminated(reason), h2.names(), "no second renewal, no second confirmation")
	require.Equal(t, []time.Time{renewal.PeriodEnd.UTC()}, h2.times("SetTenantStatus"), "at the end of the period paid for")
}

// An operator's cancel in the Web UI stops the automation where it is:
// nothing is suspended or terminated for it.
func TestSubscriptionWorkflowCancellationStopsTheWait(t *testing.T) {
	for name, at := range map[string]time.Duration{
		"before the notice": 24 * time.Hour,
		"while renewal due": after(noticeAt) + time.Hour,
		"while suspended":   after(graceEnd) + time.Hour,
	} {
		t.Run(name, func(t *testing.T) {
			h := newAfterHarness(t, activities.ServiceActive)
			h.env.RegisterDelayedCallback(h.env.CancelWorkflow, at)
			h.env.ExecuteWorkflow(SubscriptionWorkflow, subIn)
			require.True(t, h.env.IsWorkflowCompleted())
			require.True(t, temporal.IsCanceledError(h.env.GetWorkflowError()), "%v", h.env.GetWorkflowError())
			require.Equal(t, afterStart.Add(at), h.env.Now().UTC())
			require.NotContains(t, h.names(), "SetTenantStatus(shop-1,deleted)")
			require.Empty(t, h.times("VoidCharge"))
		})
	}
}

// without leaves out every name equal to drop.
func without(names []string, drop string) []string {
	var out []string
	for _, n := range names {
		if n != drop {
			out = append(out, n)
		}
	}
	return out
}
