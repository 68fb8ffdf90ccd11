package tenant

// Failure paths: injected faults, lost answers, timeouts, auth, and what the
// client puts on and takes off the wire.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLostResponseThenRetryCreatesOneCustomer(t *testing.T) {
	for name, fault := range map[string]Fault{
		"connection aborted": {Method: http.MethodPost, PathPrefix: "/v1/customers", LoseResponse: true},
		"answer replaced":    {Method: http.MethodPost, PathPrefix: "/v1/customers", LoseResponse: true, Status: 500},
	} {
		t.Run(name, func(t *testing.T) {
			fake, c, _ := newEnv(t)
			ctx := context.Background()
			call := callFor("o1", "customer")
			fake.Inject(fault)

			_, err := c.CreateCustomer(ctx, testCustomer("contoso"), call)
			require.Error(t, err)
			var apiErr *APIError
			if fault.Status == 0 {
				require.False(t, errors.As(err, &apiErr), "a cut connection is a transport error")
			} else {
				require.True(t, requireAPIError(t, err, fault.Status).Temporary())
			}
			require.Len(t, fake.Customers(), 1, "the lost call took effect")

			got, err := c.CreateCustomer(ctx, testCustomer("contoso"), call)
			require.NoError(t, err)
			require.NotNil(t, got.UserCredentials)
			require.Equal(t, "admin@contoso.onmicrosoft.com", got.UserCredentials.UserName)
			requireStrongPassword(t, got.UserCredentials.Password)
			require.Equal(t, []string{got.ID}, customerIDs(fake.Customers()))
		})
	}
}

func TestTransientFaultsAreTemporaryAndCarryRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		status     int
		retryAfter time.Duration
		want       time.Duration
	}{
		{http.StatusInternalServerError, 0, 0},
		{http.StatusServiceUnavailable, 1500 * time.Millisecond, 2 * time.Second},
		{http.StatusTooManyRequests, 3 * time.Second, 3 * time.Second},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			fake, c, _ := newEnv(t)
			fake.Inject(Fault{PathPrefix: "/v1/domains/", Status: tc.status, RetryAfter: tc.retryAfter})
			call := callFor("o1", "domain")

			_, err := c.DomainAvailable(context.Background(), "contoso.onmicrosoft.com", call)
			apiErr := requireAPIError(t, err, tc.status)
			require.True(t, apiErr.Temporary())
			require.Equal(t, tc.want, apiErr.RetryAfter)

			free, err := c.DomainAvailable(context.Background(), "contoso.onmicrosoft.com", call)
			require.NoError(t, err, "the fault hits once")
			require.True(t, free)
			require.Equal(t, 2, fake.Requests())
		})
	}
}

func TestPostErrorBodyIsParsed(t *testing.T) {
	fake, c, _ := newEnv(t)
	fake.Inject(Fault{Method: http.MethodPost, Status: http.StatusServiceUnavailable, Code: "Maintenance", RetryAfter: time.Second})
	_, err := c.CreateCustomer(context.Background(), testCustomer("contoso"), callFor("o1", "customer"))
	apiErr := requireAPIError(t, err, http.StatusServiceUnavailable)
	require.Equal(t, "Maintenance", apiErr.Code)
	require.Equal(t, "injected fault", apiErr.Description)
	require.Equal(t, time.Second, apiErr.RetryAfter)
	require.Empty(t, fake.Customers())
}

func TestDelayBeyondClientTimeoutFails(t *testing.T) {
	fake, _, srv := newEnv(t)
	// Long enough that a fake ignoring the client's disconnect would make
	// srv.Close (and so this test) visibly slow.
	fake.Inject(Fault{Delay: 5 * time.Second})
	hc := srv.Client()
	hc.Timeout = 100 * time.Millisecond
	c := NewClient(srv.URL, testToken, hc)

	_, err := c.CreateCustomer(context.Background(), testCustomer("contoso"), callFor("o1", "customer"))
	require.Error(t, err)
	var netErr net.Error
	require.ErrorAs(t, err, &netErr)
	require.True(t, netErr.Timeout())
	var apiErr *APIError
	require.False(t, errors.As(err, &apiErr))
	require.Empty(t, fake.Customers())
}

func TestContextDeadlineIsReturnedAsIs(t *testing.T) {
	fake, c, _ := newEnv(t)
	fake.Inject(Fault{Delay: 5 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.GetCustomer(ctx, RequestID("x"), Call{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestAuthentication(t *testing.T) {
	fake, _, srv := newEnv(t)
	for name, token := range map[string]string{"wrong token": "not-it", "no token": ""} {
		t.Run(name, func(t *testing.T) {
			c := NewClient(srv.URL, token, srv.Client())
			_, err := c.CreateCustomer(context.Background(), testCustomer("contoso"), callFor("o1", "customer"))
			apiErr := requireAPIError(t, err, http.StatusUnauthorized)
			require.False(t, apiErr.Temporary())
			require.NotContains(t, err.Error(), testToken)
		})
	}
	require.Empty(t, fake.Customers())

	open := httptest.NewServer(NewFake(""))
	t.Cleanup(open.Close)
	_, err := NewClient(open.URL, "", open.Client()).CreateCustomer(context.Background(), testCustomer("contoso"), Call{})
	require.NoError(t, err, "an empty fake token disables the check")
}

func TestClientSendsPartnerCenterHeaders(t *testing.T) {
	var got http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"id":"c1"}`))
	}))
	t.Cleanup(srv.Close)
	call := Call{RequestID: "req-1", CorrelationID: "corr-1"}

	_, err := NewClient(srv.URL+"/", "tok", srv.Client()).CreateCustomer(context.Background(), testCustomer("contoso"), call)
	require.NoError(t, err)
	require.Equal(t, "Bearer tok", got.Get("Authorization"))
	require.Equal(t, "application/json", got.Get("Accept"))
	require.Equal(t, "application/json", got.Get("Content-Type"))
	require.Equal(t, "req-1", got.Get("MS-RequestId"))
	require.Equal(t, "corr-1", got.Get("MS-CorrelationId"))

	_, err = NewClient(srv.URL, "", srv.Client()).GetCustomer(context.Background(), "c1", call)
	require.NoError(t, err)
	require.Empty(t, got.Values("Authorization"), "no token, no header")
}

func TestMalformedSuccessBodyDoesNotLeakIt(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = w.Write([]byte(`{"userCredentials":{"password":"Hunter2!x"`))
	}))
	t.Cleanup(srv.Close)
	_, err := NewClient(srv.URL, "", srv.Client()).CreateCustomer(context.Background(), testCustomer("contoso"), Call{})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "Hunter2")
}

func TestReplayedSuspendCountsOnce(t *testing.T) {
	fake, c, _ := newEnv(t)
	ctx := context.Background()
	cust, subID := customerWithSubscription(t, c)
	call := callFor("o1", "suspend")

	first, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusSuspended}, call)
	require.NoError(t, err)
	// Reactivate under another id so a re-executed replay would count again.
	_, err = c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusActive}, callFor("o1", "resume"))
	require.NoError(t, err)

	again, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusSuspended}, call)
	require.NoError(t, err)
	require.Equal(t, first, again, "the first answer is replayed")
	require.Equal(t, 1, fake.Suspensions(), "a replay is not re-executed")
	require.Equal(t, StatusActive, fake.Subscriptions(cust)[0].Status)
}

func TestLostSuspendThenRetryCountsOnce(t *testing.T) {
	for name, fault := range map[string]Fault{
		"connection aborted": {Method: http.MethodPatch, PathPrefix: "/v1/customers/", LoseResponse: true},
		"answer replaced":    {Method: http.MethodPatch, PathPrefix: "/v1/customers/", LoseResponse: true, Status: 503},
	} {
		t.Run(name, func(t *testing.T) {
			fake, c, _ := newEnv(t)
			ctx := context.Background()
			cust, subID := customerWithSubscription(t, c)
			call := callFor("o1", "suspend")
			fake.Inject(fault)

			_, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusSuspended}, call)
			require.Error(t, err)
			require.Equal(t, 1, fake.Suspensions(), "the lost PATCH took effect")

			got, err := c.UpdateSubscription(ctx, cust, subID, Subscription{Status: StatusSuspended}, call)
			require.NoError(t, err)
			require.Equal(t, Subscription{ID: subID, OfferID: "x", Quantity: 10, Status: StatusSuspended}, got)
			require.Equal(t, 1, fake.Suspensions())
		})
	}
}

func TestListSubscriptionsGoesThroughFaultsAndAuth(t *testing.T) {
	fake, c, srv := newEnv(t)
	ctx := context.Background()
	cust, subID := customerWithSubscription(t, c)
	fake.Inject(Fault{Method: http.MethodGet, PathPrefix: "/v1/customers/" + cust + "/subscriptions", Status: http.StatusTooManyRequests, RetryAfter: time.Second})

	_, err := c.ListSubscriptions(ctx, cust, callFor("o1", "list"))
	require.Equal(t, time.Second, requireAPIError(t, err, http.StatusTooManyRequests).RetryAfter)
	got, err := c.ListSubscriptions(ctx, cust, callFor("o1", "list"))
	require.NoError(t, err, "the fault hits once")
	require.Equal(t, []string{subID}, subscriptionIDs(got))

	_, err = NewClient(srv.URL, "not-it", srv.Client()).ListSubscriptions(ctx, cust, Call{})
	requireAPIError(t, err, http.StatusUnauthorized)
}

func TestConcurrentSuspendsCountOnce(t *testing.T) {
	fake, c, _ := newEnv(t)
	cust, subID := customerWithSubscription(t, c)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			// Distinct request ids: each PATCH really runs, only one finds it active.
			_, errs[i] = c.UpdateSubscription(context.Background(), cust, subID,
				Subscription{Status: StatusSuspended}, callFor("o1", "suspend-"+strconv.Itoa(i)))
			_ = fake.Suspensions() // the accessor races with PATCHes under -race
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, 1, fake.Suspensions())
}
