package workflows

import (
	"errors"
	"testing"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

func TestMarkPaidCompletesTheOrder(t *testing.T) {
	h := newHarness(t)
	var noRef error
	h.env.RegisterDelayedCallback(func() {
		h.updateOr(UpdateMarkPaid, ManualPayment{Actor: "ops@example.com"}, func(err error) { noRef = err })
		h.update(t, UpdateMarkPaid, ManualPayment{Actor: "ops@example.com", Reason: "transfer on the statement", Reference: "BANK-1"})
	}, 3*time.Hour)
	r := h.run(t)
	require.Equal(t, order.InstallerReady, r.Status)
	require.ErrorContains(t, noRef, "reference is required")
	h.env.AssertActivityCalled(t, "RecordManualPayment", mock.Anything, "shop-1", "BANK-1", "ops@example.com", "transfer on the statement")
	h.env.AssertActivityCalled(t, "MarkPaid", mock.Anything, "shop-1", "manual:shop-1:BANK-1")
	require.Equal(t, join(billed, []string{"RecordManualPayment", "MarkPaid"}), h.sequential()[:5])
}

// A bad action is refused by its validator and leaves no trace.
func TestMarkPaidOnAPaidOrderIsRejected(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CreateTenant, mock.Anything, "shop-1").After(2*time.Hour).Return(
			activities.Tenant{TenantID: "t-1", Domain: "acme.onmicrosoft.com"}, nil)
	})
	h.payAfter(time.Hour, paid)
	var rejected, extend error
	h.env.RegisterDelayedCallback(func() {
		h.updateOr(UpdateMarkPaid, ManualPayment{Actor: "ops", Reference: "BANK-2"}, func(err error) { rejected = err })
		h.updateOr(UpdateExtendDeadline, Extension{Actor: "ops", Until: deadline.Add(time.Hour)}, func(err error) { extend = err })
	}, 2*time.Hour)
	require.Equal(t, order.InstallerReady, h.run(t).Status)
	require.ErrorContains(t, rejected, "not waiting for payment")
	require.ErrorContains(t, extend, "not waiting for payment")
	require.NotContains(t, h.calls, "RecordManualPayment")
}

func TestExtendDeadlineMovesTheCancellation(t *testing.T) {
	h := newHarness(t)
	later := deadline.Add(48 * time.Hour)
	var earlier error
	h.env.RegisterDelayedCallback(func() {
		h.updateOr(UpdateExtendDeadline, Extension{Actor: "ops", Until: deadline.Add(-time.Hour)}, func(err error) { earlier = err })
		h.update(t, UpdateExtendDeadline, Extension{Actor: "ops@example.com", Reason: "customer asked", Until: later})
	}, 100*time.Hour)
	r := h.run(t)
	require.ErrorContains(t, earlier, "after the current deadline")
	require.Equal(t, order.Cancelled, r.Status)
	require.Equal(t, later, h.env.Now().UTC(), "cancelled at the new deadline, not the old")
	h.env.AssertActivityCalled(t, "Record", mock.Anything, "shop-1", activities.Event{
		Key: "extend_deadline:" + later.Format(time.RFC3339), Status: order.AwaitingPayment, Actor: "ops@example.com",
		Reason: "deadline extended to " + later.Format(time.RFC3339) + ": customer asked", Deadline: later})
}

func TestRetryProvisioningSkipsTheBackoff(t *testing.T) {
	h := newHarness(t, func(env *testsuite.TestWorkflowEnvironment, a *activities.Activities) {
		env.OnActivity(a.CreateTenant, mock.Anything, "shop-1").Return(activities.Tenant{}, errors.New("503 Service Unavailable")).Times(3)
	})
	h.payAfter(time.Hour, paid)
	var early error
	h.env.RegisterDelayedCallback(func() {
		h.updateOr(UpdateRetryProvisioning, Decision{Actor: "ops"}, func(err error) { early = err })
	}, 30*time.Minute)
	var at time.Duration
	h.env.RegisterDelayedCallback(func() {
		require.Equal(t, order.ProvisioningTenant, h.status(t).Status)
		at = h.env.Now().Sub(start)
		h.update(t, UpdateRetryProvisioning, Decision{Actor: "ops@example.com", Reason: "Partner Center is back"})
	}, time.Hour+7*time.Second)
	require.Equal(t, order.InstallerReady, h.run(t).Status)
	require.ErrorContains(t, early, "only a tenant being provisioned")
	require.Equal(t, 4, count(h.calls, "CreateTenant"), "3 failures (2 s, 4 s backoff), then the retry ran at once")
	require.Less(t, h.env.Now().Sub(start)-at, time.Second, "no backoff left to wait")
	require.Contains(t, h.calls, "Record:retry_provisioning#1")
	require.Equal(t, 1, count(h.calls, "BuyPlan"), "provisioning started over at the tenant, and went on once")
}
