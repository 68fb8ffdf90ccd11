package activities

import (
	"context"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/tenant"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"
)

// createTenantRetried runs CreateTenant as the saga does, retried after a
// failure: the activity environment runs one attempt only, and CreateTenant
// judges a taken domain by its attempt's number.
func createTenantRetried(ctx workflow.Context, orderID string) (Tenant, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumAttempts: 3},
	})
	var t Tenant
	err := workflow.ExecuteActivity(ctx, "CreateTenant", orderID).Get(ctx, &t)
	return t, err
}

// placeForTenant places an order whose domain is prefix.onmicrosoft.com,
// as the intake would, with no tenant made yet.
func placeForTenant(t *testing.T, a *Activities, id, prefix string) {
	t.Helper()
	r := order.Request{OrderID: id, Customer: order.Customer{Company: "Acme sp. z o.o.", Email: id + "@acme.pl",
		FirstName: "Jan", LastName: "Kowalski", TaxID: "5260250995", Country: "PL", City: "Warszawa", PostalCode: "00-001", AddressLine1: "ul. Prosta 1"},
		Plan: "business-standard", Seats: 2, DomainPrefix: prefix, BillingCycle: "monthly", Language: "pl"}
	placeAt(t, a, r, time.Now().UTC().Truncate(time.Second))
}

// CreateTenant checks the domain before it creates (runs since leanTenant
// schedule no CheckDomain): a domain someone else holds is refused for
// good, as DomainTaken, and no customer is made.
func TestCreateTenantRefusesATakenDomainWithoutCreating(t *testing.T) {
	a, fake, env := commerceEnv(t)
	placeForTenant(t, a, "taken-1", "acmetaken")
	fake.TakeDomain("acmetaken.onmicrosoft.com")

	_, err := env.ExecuteActivity(a.CreateTenant, "taken-1")
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	require.Equal(t, fail.DomainTaken, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Empty(t, fake.Customers(), "nothing made at the tenant API")
}

// tenantRetryEnv places an order whose domain is prefix.onmicrosoft.com
// and returns a workflow environment that runs createTenantRetried on it,
// with the tenant API fake behind the activities.
func tenantRetryEnv(t *testing.T, id, prefix string) (*Activities, *tenant.Fake, *testsuite.TestWorkflowEnvironment) {
	a, fake, _ := commerceEnv(t)
	placeForTenant(t, a, id, prefix)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(createTenantRetried)
	env.RegisterActivity(a)
	return a, fake, env
}

// A create whose answer was lost made the tenant all the same: the next
// attempt finds the domain taken (by this very order), sends the create
// again under the same request id, and Partner Center answers it as a
// repeat. One customer, recorded with its admin's sealed password.
func TestCreateTenantRetryTakesTheTenantItsLostCreateMade(t *testing.T) {
	a, fake, env := tenantRetryEnv(t, "lost-1", "acmelost")
	fake.Inject(tenant.Fault{Method: "POST", PathPrefix: "/v1/customers", LoseResponse: true})
	var attempts []int32
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		attempts = append(attempts, info.Attempt)
	})

	env.ExecuteWorkflow(createTenantRetried, "lost-1")
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var got Tenant
	require.NoError(t, env.GetWorkflowResult(&got))

	require.Equal(t, []int32{1, 2}, attempts, "the first attempt lost the answer, the second took the tenant")
	made := fake.Customers()
	require.Len(t, made, 1, "the create was answered as a repeat, not made twice")
	require.Equal(t, made[0].CompanyProfile.TenantID, got.TenantID)
	require.Equal(t, "acmelost.onmicrosoft.com", got.Domain)
	tn, err := a.Store.Tenant(context.Background(), "lost-1")
	require.NoError(t, err)
	require.Equal(t, made[0].ID, tn.PartnerCustomer)
	require.NotEmpty(t, tn.PasswordSealed, "the repeat's answer carried the admin's password, sealed")
}

// A create that failed without making anything leaves the domain free for
// anyone: taken by someone else before the next attempt, the create sent
// again is refused (409 DomainTaken), for good, and nothing is made.
func TestCreateTenantRetryRefusesADomainSomeoneElseTook(t *testing.T) {
	_, fake, env := tenantRetryEnv(t, "raced-1", "acmeraced")
	fake.Inject(tenant.Fault{Method: "POST", PathPrefix: "/v1/customers", Status: 503})
	var attempts []int32
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		attempts = append(attempts, info.Attempt)
		if info.Attempt == 2 {
			fake.TakeDomain("acmeraced.onmicrosoft.com")
		}
	})

	env.ExecuteWorkflow(createTenantRetried, "raced-1")
	require.True(t, env.IsWorkflowCompleted())
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, env.GetWorkflowError(), &appErr)
	require.Equal(t, fail.DomainTaken, appErr.Type())
	require.True(t, appErr.NonRetryable())
	require.Equal(t, []int32{1, 2}, attempts, "refused for good on the second attempt, not tried a third time")
	require.Empty(t, fake.Customers(), "nothing made at the tenant API")
}
