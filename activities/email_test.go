package activities

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
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
