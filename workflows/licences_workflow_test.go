package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

var (
	licencesDeadline = afterStart.Add(7 * 24 * time.Hour)
	licencesIn       = LicencesInput{OrderID: afterOrder, ChargeID: chargeID, Change: 3, Deadline: licencesDeadline}
	licencePaid      = Payment{PaymentID: "p-9", Status: "completed", Amount: pln("123.00"), Currency: "PLN", ChargeID: chargeID}
	// What every purchase of more seats does before it waits.
	licencesBilled = []string{"IssueCharge(" + chargeID + ")", "SendNotice(licences_invoice:" + chargeID + ")"}
)

func TestLicencesPaidAddsTheSeats(t *testing.T) {
	h := newAfterHarness(t, StageAwaitingPayment)
	h.pay(2*time.Hour, licencePaid)
	h.env.RegisterDelayedCallback(func() { require.Equal(t, StageAwaitingPayment, h.stage()) }, time.Hour)
	r := h.run(LicencesWorkflow, licencesIn)
	require.Equal(t, AfterResult{Stage: StageDone, Seats: 8}, r)
	require.Equal(t, join(licencesBilled, []string{
		"SettleCharge(" + chargeID + ",p-9)", "ApplySeats(" + chargeID + ")", "SetQuantity(shop-1," + chargeID + ")",
		"SendNotice(licences_added:" + chargeID + ")"}), h.names())
	for _, n := range h.emails() {
		require.Equal(t, chargeID, n.ChargeID, "the email reads the charge")
	}
	require.Equal(t, []time.Time{afterStart.Add(2 * time.Hour)}, h.times("SettleCharge"), "recorded when paid")
	require.Equal(t, []string{StageApplying, StageDone}, h.stages)
	require.Equal(t, []int64{8}, h.seats, "Seats shows the new count")
	require.Equal(t, StageDone, h.stage())
	require.Equal(t, []string{"subscription-shop-1 " + SignalSeatsBought}, h.signalled, "the seats bought open a window of their own")
}

func TestLicencesFailedPaymentCancelsThePurchase(t *testing.T) {
	h := newAfterHarness(t, StageAwaitingPayment)
	h.pay(time.Hour, Payment{PaymentID: "p-9", Status: "failed", Amount: pln("123.00"), Currency: "PLN", ChargeID: chargeID})
	r := h.run(LicencesWorkflow, licencesIn)
	require.Equal(t, AfterResult{Stage: StageCancelled, Reason: "payment failed"}, r)
	require.Equal(t, join(licencesBilled, []string{
		"VoidCharge(" + chargeID + ",payment failed)", "SendNotice(licences_cancelled:" + chargeID + ")"}), h.names())
	require.Equal(t, "payment failed", h.email(activities.EmailLicencesCancelled).Notice.Reason)
	require.Equal(t, []time.Time{afterStart.Add(time.Hour)}, h.times("VoidCharge"), "at once, not at the deadline")
	require.Equal(t, []string{StageCancelled}, h.stages)
}

func TestLicencesDeadlineCancelsAfterTheReminders(t *testing.T) {
	h := newAfterHarness(t, StageAwaitingPayment)
	in := licencesIn
	in.Reminders = []time.Time{
		afterStart.Add(-time.Hour), // already due when the run began: not sent late
		afterStart.Add(24 * time.Hour), licencesDeadline.Add(-24 * time.Hour),
		licencesDeadline.Add(time.Hour), // after the deadline: never
	}
	r := h.run(LicencesWorkflow, in)
	require.Equal(t, AfterResult{Stage: StageCancelled, Reason: "payment deadline passed"}, r)
	require.Equal(t, join(licencesBilled, []string{
		// A reminder keeps the number of its slot, as in the order saga.
		"SendNotice(payment_reminder#2:" + chargeID + ")", "SendNotice(payment_reminder#3:" + chargeID + ")",
		"VoidCharge(" + chargeID + ",payment deadline passed)", "SendNotice(licences_cancelled:" + chargeID + ")"}), h.names())
	var at []time.Time
	for _, c := range h.calls {
		if c.Name == "SendNotice" && c.Notice.Kind == activities.EmailPaymentReminder {
			require.Equal(t, chargeID, c.Notice.ChargeID)
			at = append(at, c.At)
		}
	}
	require.Equal(t, []time.Time{afterStart.Add(24 * time.Hour), licencesDeadline.Add(-24 * time.Hour)}, at)
	require.Equal(t, []time.Time{licencesDeadline}, h.times("VoidCharge"), "exactly at the deadline")
	require.Equal(t, licencesDeadline, h.env.Now().UTC())
}

// Payments the charge cannot take are logged and left; the wait goes on
// to the one that matches the pro-forma.
func TestLicencesIgnoresPaymentsThatAreNotThisCharge(t *testing.T) {
	h := newAfterHarness(t, StageAwaitingPayment)
	other := licencePaid
	other.PaymentID, other.ChargeID = "p-1", "shop-1:licences:r-0"
	otherFailed := other
	otherFailed.PaymentID, otherFailed.Status = "p-2", "failed"
	short := licencePaid
	short.PaymentID, short.Amount = "p-3", pln("12.30")
	euro := licencePaid
	euro.PaymentID, euro.Currency = "p-4", "EUR"
	h.pay(time.Hour, other)
	h.pay(2*time.Hour, otherFailed)
	h.pay(3*time.Hour, short)
	h.pay(4*time.Hour, euro)
	h.pay(5*time.Hour, licencePaid)
	r := h.run(LicencesWorkflow, licencesIn)
	require.Equal(t, StageDone, r.Stage)
	require.Equal(t, []string{"SettleCharge(" + chargeID + ",p-9)"}, filter(h.names(), "SettleCharge("))
	require.Equal(t, []time.Time{afterStart.Add(5 * time.Hour)}, h.times("SettleCharge"))
	require.Empty(t, h.times("VoidCharge"), "another charge's failed payment does not cancel this one")
}

func TestLicencesReductionNeedsNoPayment(t *testing.T) {
	h := newAfterHarness(t, StageApplying, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.ApplySeats, mock.Anything, chargeID).Return(3, nil)
	})
	in := LicencesInput{OrderID: afterOrder, ChargeID: chargeID, Change: -2, Deadline: licencesDeadline}
	r := h.run(LicencesWorkflow, in)
	require.Equal(t, AfterResult{Stage: StageDone, Seats: 3}, r)
	require.Equal(t, []string{"ApplySeats(" + chargeID + ")", "SetQuantity(shop-1," + chargeID + ")",
		"SendNotice(licences_reduced:" + chargeID + ")"}, h.names())
	require.Equal(t, afterStart, h.env.Now().UTC(), "applied at once")
	require.Equal(t, []string{StageDone}, h.stages)
	require.Equal(t, []int64{3}, h.seats)
	require.Empty(t, h.signalled, "a reduction opens no window")
}

// Licences assigned meanwhile can make a paid change impossible: the
// purchase is voided (its payment owed back), nothing reaches the tenant.
func TestLicencesRefusedSeatsVoidThePaidCharge(t *testing.T) {
	refusal := "8 seats, 8 holding a licence: cannot change by -3"
	h := newAfterHarness(t, StageAwaitingPayment, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.ApplySeats, mock.Anything, chargeID).Return(0, final(refusal, ErrSeats))
	})
	h.pay(time.Hour, licencePaid)
	r := h.run(LicencesWorkflow, licencesIn)
	reason := "the change of seats is no longer possible: " + refusal
	require.Equal(t, AfterResult{Stage: StageCancelled, Reason: reason}, r)
	require.Equal(t, join(licencesBilled, []string{"SettleCharge(" + chargeID + ",p-9)", "ApplySeats(" + chargeID + ")",
		"VoidCharge(" + chargeID + "," + reason + ")", "SendNotice(licences_cancelled:" + chargeID + ")"}), h.names())
	require.Equal(t, []string{StageApplying, StageCancelled}, h.stages)
	require.Empty(t, h.seats)
}

// A reduction refused the same way has nothing to void but its record, and
// nothing was billed, so there is no cancellation email.
func TestLicencesRefusedReductionIsVoidedQuietly(t *testing.T) {
	h := newAfterHarness(t, StageApplying, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.ApplySeats, mock.Anything, chargeID).Return(0, final("licences in use", ErrSeats))
	})
	r := h.run(LicencesWorkflow, LicencesInput{OrderID: afterOrder, ChargeID: chargeID, Change: -2})
	require.Equal(t, StageCancelled, r.Stage)
	require.Equal(t, []string{"ApplySeats(" + chargeID + ")", "VoidCharge(" + chargeID + "," + r.Reason + ")"}, h.names())
}

func TestLicencesQuantityRefusedByTheTenantVoidsTheCharge(t *testing.T) {
	h := newAfterHarness(t, StageAwaitingPayment, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.SetQuantity, mock.Anything, afterOrder, chargeID).Return(final("409 Conflict: LicencesInUse", ErrTenantAPI))
	})
	h.pay(time.Hour, licencePaid)
	r := h.run(LicencesWorkflow, licencesIn)
	reason := "the tenant API refused the new quantity: 409 Conflict: LicencesInUse"
	require.Equal(t, AfterResult{Stage: StageCancelled, Reason: reason}, r)
	require.Equal(t, join(licencesBilled, []string{"SettleCharge(" + chargeID + ",p-9)", "ApplySeats(" + chargeID + ")",
		"SetQuantity(shop-1," + chargeID + ")", "VoidCharge(" + chargeID + "," + reason + ")",
		"SendNotice(licences_cancelled:" + chargeID + ")"}), h.names())
	require.Equal(t, reason, h.email(activities.EmailLicencesCancelled).Notice.Reason)
}

// A tenant API that stays away is retried (10 attempts in the test
// environment, 2 h on a server), then the purchase is voided, not left paid.
func TestLicencesQuantityThatNeverGoesThroughVoidsTheCharge(t *testing.T) {
	h := newAfterHarness(t, StageAwaitingPayment, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.SetQuantity, mock.Anything, afterOrder, chargeID).Return(errors.New("503 Service Unavailable"))
	})
	h.pay(time.Hour, licencePaid)
	r := h.run(LicencesWorkflow, licencesIn)
	require.Equal(t, StageCancelled, r.Stage)
	require.Len(t, h.times("SetQuantity"), 10)
	require.Equal(t, "VoidCharge("+chargeID+","+r.Reason+")", h.names()[len(h.names())-2])
}

// An operator's cancel in the Web UI ends the wait like a failed payment:
// the charge is voided and the customer told, not left awaiting payment.
func TestLicencesWorkflowCancellationVoidsTheCharge(t *testing.T) {
	h := newAfterHarness(t, StageAwaitingPayment)
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, time.Hour)
	r := h.run(LicencesWorkflow, licencesIn)
	reason := "cancellation of the workflow requested"
	require.Equal(t, AfterResult{Stage: StageCancelled, Reason: reason}, r)
	require.Equal(t, join(licencesBilled, []string{
		"VoidCharge(" + chargeID + "," + reason + ")", "SendNotice(licences_cancelled:" + chargeID + ")"}), h.names())
	require.Equal(t, []time.Time{afterStart.Add(time.Hour)}, h.times("VoidCharge"))
}

// filter keeps the names that begin with prefix.
func filter(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if len(n) >= len(prefix) && n[:len(prefix)] == prefix {
			out = append(out, n)
		}
	}
	return out
}
