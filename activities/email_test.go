package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

func TestPersistRetriesTheRecordThroughCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the message is out; the activity's cancellation must not lose its record
	calls := 0
	err := persist(ctx, time.Now().Add(time.Minute), func(ctx context.Context) error {
		calls++
		require.NoError(t, ctx.Err())
		if calls < 3 {
			return errors.New("connection refused")
		}
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, 3, calls)
}

func TestPersistGivesUpBeforeTheDeadline(t *testing.T) {
	deadline := time.Now().Add(1500 * time.Millisecond)
	calls := 0
	err := persist(context.Background(), deadline, func(ctx context.Context) error {
		calls++
		d, ok := ctx.Deadline()
		require.True(t, ok)
		require.False(t, d.After(deadline.Add(-time.Second)), "an attempt may not outlive the activity's deadline less a second")
		return errors.New("connection refused")
	})
	require.EqualError(t, err, "connection refused")
	require.Less(t, time.Now(), deadline, "gave up before the activity's deadline")
	require.GreaterOrEqual(t, calls, 2)
}

func TestPersistDoesNotRetryAMissingOrder(t *testing.T) {
	calls := 0
	err := persist(context.Background(), time.Now().Add(time.Minute), func(context.Context) error {
		calls++
		return store.ErrNotFound
	})
	require.Error(t, err)
	require.Equal(t, 1, calls)
}

// A send the mail server refuses for now leaves no claim: the credentials
// are sent on the retry, once, and only then is the password forgotten.
func TestRefusedEmailIsSentOnTheRetryOnce(t *testing.T) {
	a, sink, id := panelEnv(t) // a billed order of its own
	ctx := context.Background()
	sealed, err := a.Box.Seal("Temp-Pass-123", id)
	require.NoError(t, err)
	_, err = a.Store.SaveTenant(ctx, store.Tenant{OrderID: id, PartnerCustomer: "pc-1", TenantID: "t-1",
		Domain: "acmepanel.onmicrosoft.com", AdminUser: "admin@acmepanel.onmicrosoft.com", PasswordSealed: sealed})
	require.NoError(t, err)
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)

	sink.Refuse(451, 1)
	_, err = env.ExecuteActivity(a.SendEmail, id, EmailCredentials)
	require.Error(t, err)
	require.Empty(t, sink.Messages())
	_, sent, err := a.Store.OrderForEmail(ctx, id, EmailCredentials)
	require.NoError(t, err)
	require.False(t, sent, "no claim left by the refused send")
	tn, err := a.Store.Tenant(ctx, id)
	require.NoError(t, err)
	require.Equal(t, sealed, tn.PasswordSealed, "kept for the retry")

	for range 2 {
		_, err = env.ExecuteActivity(a.SendEmail, id, EmailCredentials)
		require.NoError(t, err)
	}
	require.Len(t, sink.Messages(), 1)
	require.Contains(t, sink.Messages()[0].Text, "Temp-Pass-123")
	tn, err = a.Store.Tenant(ctx, id)
	require.NoError(t, err)
	require.Nil(t, tn.PasswordSealed)
}
