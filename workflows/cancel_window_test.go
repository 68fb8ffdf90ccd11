package workflows

import (
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
)

// reduction asks to lower the seats by n under request id.
func reduction(id string, n int) activities.Reduction {
	return activities.Reduction{OrderID: afterOrder, ChargeID: afterOrder + ":licences:" + id, Change: -n}
}

// reduceAt sends reduce_seats at d after the start and keeps its outcome.
type reduceOutcome struct {
	accepted bool
	err      error
	res      AfterResult
}

func (h *afterHarness) reduceAt(d time.Duration, r activities.Reduction) *reduceOutcome {
	out := &reduceOutcome{}
	h.env.RegisterDelayedCallback(func() {
		h.env.UpdateWorkflow(UpdateReduceSeats, r.ChargeID, &testsuite.TestUpdateCallback{
			OnReject: func(err error) { out.err = err },
			OnAccept: func() { out.accepted = true },
			OnComplete: func(v any, err error) {
				if err != nil {
					out.err = err
					return
				}
				out.res = v.(AfterResult)
			},
		}, r)
	}, d)
	return out
}

// runUntil runs the subscription from subIn until it is cancelled at d.
func (h *afterHarness) runUntil(d time.Duration, in SubscriptionInput) {
	h.t.Helper()
	h.env.RegisterDelayedCallback(h.env.CancelWorkflow, d)
	h.env.ExecuteWorkflow(SubscriptionWorkflow, in)
	require.True(h.t, h.env.IsWorkflowCompleted())
	require.True(h.t, temporal.IsCanceledError(h.env.GetWorkflowError()), "%v", h.env.GetWorkflowError())
}

// windowRefusal is the type and message of a refused reduction.
func windowRefusal(t *testing.T, err error) string {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, fail.CancelWindow, appErr.Type())
	return appErr.Message()
}

func TestSubscriptionSeatsLowerUntilHour168(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	at167 := h.reduceAt(167*time.Hour, reduction("r-167", 1))
	at169 := h.reduceAt(169*time.Hour, reduction("r-169", 1))
	h.runUntil(170*time.Hour, subIn)

	require.True(t, at167.accepted, "at hour 167: %v", at167.err)
	require.NoError(t, at167.err)
	require.Equal(t, -1, at167.res.Seats)
	closes := afterStart.Add(168 * time.Hour).Format(time.RFC3339)
	require.Contains(t, at167.res.Reason, closes)

	require.False(t, at169.accepted)
	require.Contains(t, windowRefusal(t, at169.err), "the window closed at "+closes)
	// Only the admitted reduction reached the database.
	require.Equal(t, []time.Time{afterStart.Add(167 * time.Hour)}, h.times("OpenReduction"))
}

func TestSubscriptionWindowReminderOnlyWithUnassignedSeats(t *testing.T) {
	for name, free := range map[string]int{"two unassigned": 2, "all assigned": 0} {
		t.Run(name, func(t *testing.T) {
			var a *activities.Activities
			h := newAfterHarness(t, activities.ServiceActive, func(env *testsuite.TestWorkflowEnvironment, _ *activities.Activities) {
				env.OnActivity(a.FreeSeats, mock.Anything, afterOrder).Return(free, nil)
			})
			h.runUntil(300*time.Hour, subIn)
			// Counted once, a day before the window closes.
			require.Equal(t, []time.Time{afterStart.Add(144 * time.Hour)}, h.times("FreeSeats"))
			var sent []activities.Notice
			for _, n := range h.emails() {
				if n.Kind == activities.EmailSeatsWindow {
					sent = append(sent, n)
				}
			}
			if free == 0 {
				require.Empty(t, sent)
				return
			}
			require.Len(t, sent, 1)
			require.True(t, sent[0].Until.Equal(afterStart.Add(168*time.Hour)), "until %v", sent[0].Until)
			require.Equal(t, afterStart.Add(144*time.Hour), h.email(activities.EmailSeatsWindow).At)
		})
	}
}

func TestSubscriptionSeatsBoughtMidTermHaveTheirOwnWindow(t *testing.T) {
	var a *activities.Activities
	h := newAfterHarness(t, activities.ServiceActive, func(env *testsuite.TestWorkflowEnvironment, _ *activities.Activities) {
		env.OnActivity(a.FreeSeats, mock.Anything, afterOrder).Return(3, nil)
	})
	bought := 200 * time.Hour
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalSeatsBought, SeatsBought{ChargeID: chargeID, Seats: 3})
	}, bought)
	tooMany := h.reduceAt(bought+time.Hour, reduction("r-4", 4))
	two := h.reduceAt(bought+2*time.Hour, reduction("r-2", 2))
	again := h.reduceAt(bought+3*time.Hour, reduction("r-2", 2)) // a repeat
	last := h.reduceAt(bought+4*time.Hour, reduction("r-1", 1))
	spent := h.reduceAt(bought+5*time.Hour, reduction("r-more", 1))
	h.runUntil(bought+CancelWindow+time.Hour, subIn)

	closes := afterStart.Add(bought + CancelWindow).Format(time.RFC3339)
	require.Contains(t, windowRefusal(t, tooMany.err), "only 3 seats bought in the last 168 hours can be given back, until "+closes)
	for _, o := range []*reduceOutcome{two, again, last} {
		require.True(t, o.accepted, "%v", o.err)
		require.NoError(t, o.err)
	}
	require.Contains(t, windowRefusal(t, spent.err), "the window closed at")
	require.Len(t, h.times("OpenReduction"), 2, "the repeat is answered from the run, the refusals record nothing")
	// The first window's reminder and the purchase's; the purchase's is
	// not sent, its window being spent before it.
	require.Equal(t, []time.Time{afterStart.Add(144 * time.Hour)}, h.times("FreeSeats"))
}

func TestSubscriptionWindowsCarryIntoTheNextPeriod(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	// Seats bought the day before the renewal is paid: their window runs
	// on into the next period's run.
	paidAt := after(noticeAt) + 24*time.Hour
	h.env.RegisterDelayedCallback(func() {
		h.env.SignalWorkflow(SignalSeatsBought, SeatsBought{ChargeID: chargeID, Seats: 2})
	}, paidAt-24*time.Hour)
	h.pay(paidAt, renewalPaid)
	var next SubscriptionInput
	h.continued(SubscriptionWorkflow, subIn, &next)
	require.True(t, next.PeriodStart.Equal(periodEnd), "the next period starts %v", next.PeriodStart)
	require.Len(t, next.Windows, 1)
	require.Equal(t, 2, next.Windows[0].Seats)
	require.True(t, next.Windows[0].Ends.Equal(afterStart.Add(paidAt-24*time.Hour+CancelWindow)))
}

func TestSubscriptionRenewedPeriodOpensItsWindowAtItsStart(t *testing.T) {
	h := newAfterHarness(t, activities.ServiceActive)
	in := subIn
	in.Period, in.PeriodStart, in.PeriodEnd = 2, afterStart.Add(72*time.Hour), afterStart.Add(72*time.Hour).AddDate(0, 1, 0)
	// Paid three days ahead, the renewal's window runs 168 hours from the
	// period's start: hour 72 + 167 is in, hour 72 + 169 is not.
	in167 := h.reduceAt(72*time.Hour+167*time.Hour, reduction("r-a", 1))
	in169 := h.reduceAt(72*time.Hour+169*time.Hour, reduction("r-b", 1))
	h.runUntil(300*time.Hour, in)
	require.NoError(t, in167.err)
	require.True(t, in167.accepted)
	require.Contains(t, windowRefusal(t, in169.err), afterStart.Add(240*time.Hour).Format(time.RFC3339))
}
