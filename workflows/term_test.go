package workflows

import (
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// cancelAt asks cancel_at_period_end at d and keeps the answer.
func (h *afterHarness) cancelAt(d time.Duration, out *AfterResult) {
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateCancelAtPeriodEnd, "cancel", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { h.t.Errorf("rejected: %v", err) },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				require.NoError(h.t, err)
				*out = v.(AfterResult)
			},
		}, PeriodCancel{Actor: "shop", Reason: "closing"})
	}, d)
}

// A yearly term billed monthly commits the customer for twelve periods: a
// cancellation in the first one does not stop its renewal; it goes with
// the next run and takes effect when the twelfth period ends.
func TestSubscriptionCancelledMidTermRenewsUntilTheTermEnds(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	in := subIn
	in.TermPeriods = 12
	var answer AfterResult
	h.cancelAt(24*time.Hour, &answer)
	h.pay(after(noticeAt)+24*time.Hour, renewalPaid)
	var next SubscriptionInput
	h.continued(SubscriptionWorkflow, in, &next)
	require.Equal(t, "ends with the term, after period 12", answer.Reason)
	require.Equal(t, renewalOpened[0], h.names()[2], "the renewal pro-forma goes out: %v", h.names())
	require.Empty(t, h.times("VoidCharge"), "the renewal is not voided")
	require.Empty(t, h.times("SetTenantStatus"))
	require.Equal(t, 2, next.Period)
	require.Equal(t, 12, next.TermPeriods)
	require.NotNil(t, next.Cancel, "the cancellation goes with the next run")
}

// In the term's last period the cancellation ends the subscription with
// the period, as for a monthly term.
func TestSubscriptionCancelledInTheTermsLastPeriodEndsWithIt(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	in := subIn
	in.Period, in.TermPeriods = 12, 12
	var answer AfterResult
	h.cancelAt(24*time.Hour, &answer)
	r := h.run(SubscriptionWorkflow, in)
	require.Equal(t, activities.ServiceTerminated, r.Stage)
	require.Equal(t, "ends 2027-01-31", answer.Reason)
	require.Empty(t, h.times("OpenRenewal"))
	require.Equal(t, []time.Time{periodEnd.UTC()}, h.times("SetTenantStatus"))
}

// Mid-term renewals of a yearly term billed monthly open no cancellation
// window; the renewal that begins the next term does.
func TestSubscriptionWindowOpensWithEachTermNotEachBillingPeriod(t *testing.T) {
	for period, open := range map[int]bool{2: false, 12: false, 13: true} {
		h := newAfterHarness(t, activities.ServiceActive)
		in := subIn
		in.Period, in.TermPeriods = period, 12
		o := h.reduceAt(time.Hour, reduction("r-1", 1))
		h.runUntil(2*time.Hour, in)
		if open {
			require.NoError(t, o.err, "period %d", period)
			require.True(t, o.accepted, "period %d", period)
			continue
		}
		require.Contains(t, windowRefusal(t, o.err), "no such window is open", "period %d", period)
	}
}
