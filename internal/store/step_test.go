package store_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// withTenant places an order and gives it a tenant whose sealed password
// the credentials email forgets.
func withTenant(t *testing.T, prefix string) string {
	t.Helper()
	id := newID(prefix)
	place(t, request(id))
	_, err := st.SaveTenant(context.Background(), store.Tenant{OrderID: id, PartnerCustomer: "pc-" + id, TenantID: "t-" + id,
		Domain: id + ".onmicrosoft.com", AdminUser: "admin@" + id + ".onmicrosoft.com", PasswordSealed: []byte("sealed")})
	require.NoError(t, err)
	return id
}

// sendCredentials is what an email step does in InTx: read, claim,
// send (sent), and say whether it sent.
func sendCredentials(ctx context.Context, id string, sent func(ctx context.Context) error) (bool, error) {
	did := false
	err := st.InTx(ctx, func(ctx context.Context) error {
		if _, done, err := st.OrderForEmail(ctx, id, "credentials"); err != nil || done {
			return err
		}
		if claimed, err := st.RecordEmail(ctx, id, "credentials", "x@acme.pl", "m-1", true); err != nil || !claimed {
			return err
		}
		did = true
		return sent(ctx)
	})
	return did, err
}

func TestInTxReadsAndClaimsInItsTransaction(t *testing.T) {
	ctx := context.Background()
	id := withTenant(t, "send-tx")
	did, err := sendCredentials(ctx, id, func(ctx context.Context) error {
		// Inside: the claim is seen by reads made with send's context, and
		// by nothing else until it commits.
		_, sent, err := st.OrderForEmail(ctx, id, "credentials")
		require.NoError(t, err)
		require.True(t, sent)
		_, sent, err = st.OrderForEmail(context.Background(), id, "credentials")
		require.NoError(t, err)
		require.False(t, sent, "uncommitted")
		tn, err := st.Tenant(context.Background(), id)
		require.NoError(t, err)
		require.Equal(t, []byte("sealed"), tn.PasswordSealed, "forgotten only with the commit")
		return nil
	})
	require.NoError(t, err)
	require.True(t, did)
	_, sent, err := st.OrderForEmail(ctx, id, "credentials")
	require.NoError(t, err)
	require.True(t, sent)
	tn, err := st.Tenant(ctx, id)
	require.NoError(t, err)
	require.Nil(t, tn.PasswordSealed)

	did, err = sendCredentials(ctx, id, func(context.Context) error { t.Fatal("sent twice"); return nil })
	require.NoError(t, err)
	require.False(t, did)
}

func TestInTxFailedSendLeavesNoClaim(t *testing.T) {
	ctx := context.Background()
	id := withTenant(t, "send-fail")
	smtp := errors.New("421 try later")
	did, err := sendCredentials(ctx, id, func(context.Context) error { return smtp })
	require.ErrorIs(t, err, smtp)
	require.True(t, did)
	require.Equal(t, 0, count(t, `SELECT count(*) FROM sent_emails WHERE order_id = $1`, id))
	tn, err := st.Tenant(ctx, id)
	require.NoError(t, err)
	require.Equal(t, []byte("sealed"), tn.PasswordSealed, "kept for the retry")

	did, err = sendCredentials(ctx, id, func(context.Context) error { return nil })
	require.NoError(t, err)
	require.True(t, did, "the retry sends")
}

// Two attempts of one step at once (a retry beside a stalled attempt):
// the second waits for the first's claim and finds it taken.
func TestInTxSerialisesAttemptsOfOneEmail(t *testing.T) {
	ctx := context.Background()
	id := withTenant(t, "send-race")
	var sends atomic.Int32
	inside, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		_, err := sendCredentials(ctx, id, func(context.Context) error {
			sends.Add(1)
			close(inside)
			<-release
			return nil
		})
		first <- err
	}()
	<-inside
	second := make(chan bool, 1)
	go func() {
		did, err := sendCredentials(ctx, id, func(context.Context) error { sends.Add(1); return nil })
		if err != nil {
			did = true // an error fails the assertion below as a send would
		}
		second <- did
	}()
	// The second attempt's claim waits on the first's row lock.
	require.Eventually(t, func() bool {
		return count(t, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO sent_emails%'`) > 0
	}, 10*time.Second, 10*time.Millisecond)
	close(release)
	require.NoError(t, <-first)
	require.False(t, <-second, "the second attempt did not send")
	require.EqualValues(t, 1, sends.Load())
}

func TestInTxSaysWhenItsCommitFailed(t *testing.T) {
	ctx := context.Background()
	id := withTenant(t, "send-commit")
	did, err := sendCredentials(ctx, id, func(ctx context.Context) error {
		// The connection dies after the message left, before the commit.
		_, err := st.Pool.Exec(context.Background(), `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'idle in transaction' AND backend_xid IS NOT NULL AND query LIKE '%INSERT INTO sent_emails%'`)
		return err
	})
	require.True(t, did)
	require.ErrorIs(t, err, store.ErrNotCommitted)
	require.Equal(t, 0, count(t, `SELECT count(*) FROM sent_emails WHERE order_id = $1`, id), "for the caller to record again")
}
