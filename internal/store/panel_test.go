package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

func TestPanelGrantsFindTheBillingTokenAndMailedLinks(t *testing.T) {
	ctx := context.Background()
	id, _ := placeBilled(t, "panel-grant", newYear())
	billingHash := []byte("token-hash-" + id)

	g, err := st.PanelGrants(ctx, billingHash)
	require.NoError(t, err)
	require.Len(t, g, 1)
	require.Equal(t, id, g[0].OrderID)
	require.True(t, g[0].Billing)
	require.True(t, g[0].Active)
	require.Equal(t, billingHash, g[0].Hash)
	require.WithinDuration(t, time.Now(), g[0].CreatedAt, time.Minute)

	link := store.PanelLink{Hash: []byte("link-" + id), OrderID: id, Nonce: "n-" + id, ExpiresAt: time.Now().Add(time.Hour).Truncate(time.Microsecond)}
	require.NoError(t, st.AddPanelLink(ctx, link))
	g, err = st.PanelGrants(ctx, link.Hash)
	require.NoError(t, err)
	require.Len(t, g, 1)
	require.False(t, g[0].Billing)
	require.True(t, g[0].ExpiresAt.Equal(link.ExpiresAt))
	got, err := st.PanelLinkOf(ctx, link.Hash)
	require.NoError(t, err)
	require.Equal(t, link.Nonce, got.Nonce)
	require.Equal(t, id, got.OrderID)

	g, err = st.PanelGrants(ctx, []byte("no such hash"))
	require.NoError(t, err)
	require.Empty(t, g)
	_, err = st.PanelLinkOf(ctx, []byte("no such hash"))
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, st.RevokeBilling(ctx, id))
	for _, h := range [][]byte{billingHash, link.Hash} {
		g, err = st.PanelGrants(ctx, h)
		require.NoError(t, err)
		require.Len(t, g, 1)
		require.False(t, g[0].Active, "revoked billing shows on every grant of the order")
	}
}

func TestPanelLinkWritesSweepExpiredOnes(t *testing.T) {
	ctx := context.Background()
	id, _ := placeBilled(t, "panel-sweep", newYear())
	old := store.PanelLink{Hash: []byte("old-" + id), OrderID: id, Nonce: "old-" + id, ExpiresAt: time.Now().Add(-25 * time.Hour)}
	require.NoError(t, st.AddPanelLink(ctx, old))
	require.NoError(t, st.AddPanelLink(ctx, store.PanelLink{Hash: []byte("new-" + id), OrderID: id, Nonce: "new-" + id, ExpiresAt: time.Now().Add(time.Hour)}))
	require.Equal(t, 0, count(t, `SELECT count(*) FROM panel_links WHERE token_hash = $1`, old.Hash))
}

func TestPanelOrdersByEmailMostRecentFirstOnlyActive(t *testing.T) {
	ctx := context.Background()
	email := strings.ToLower(newID("panel-mail")) + "@acme.pl"
	var ids []string
	for range 3 {
		id := newID("panel-mail")
		r := request(id)
		r.Customer.Email = email
		place(t, r)
		ids = append(ids, id)
	}
	// Placed one after the other; billing opened for the first two only.
	for _, id := range ids[:2] {
		bill(t, id, issuedIn(newYear()))
	}
	got, err := st.PanelOrders(ctx, strings.ToUpper(email), 5)
	require.NoError(t, err)
	require.Equal(t, []string{ids[1], ids[0]}, got, "billed orders, most recent first, the address in any case")

	got, err = st.PanelOrders(ctx, email, 1)
	require.NoError(t, err)
	require.Equal(t, []string{ids[1]}, got)

	require.NoError(t, st.RevokeBilling(ctx, ids[1]))
	got, err = st.PanelOrders(ctx, email, 5)
	require.NoError(t, err)
	require.Equal(t, []string{ids[0]}, got, "a revoked order is not offered")

	got, err = st.PanelOrders(ctx, "nobody-"+email, 5)
	require.NoError(t, err)
	require.Empty(t, got)
}

func TestPanelSessionExpiresAndEndsWithBillingAccess(t *testing.T) {
	ctx := context.Background()
	id, _ := placeBilled(t, "panel-session", newYear())
	now := time.Now()
	sid := []byte("session-" + id)
	require.NoError(t, st.OpenPanelSession(ctx, sid, id, now.Add(time.Hour)))

	got, err := st.PanelSession(ctx, sid, now)
	require.NoError(t, err)
	require.Equal(t, id, got)
	_, err = st.PanelSession(ctx, sid, now.Add(2*time.Hour))
	require.ErrorIs(t, err, store.ErrNotFound, "expired")
	_, err = st.PanelSession(ctx, []byte("unknown"), now)
	require.ErrorIs(t, err, store.ErrNotFound)

	require.NoError(t, st.ClosePanelSession(ctx, sid))
	_, err = st.PanelSession(ctx, sid, now)
	require.ErrorIs(t, err, store.ErrNotFound, "signed out")

	other := []byte("other-" + id)
	require.NoError(t, st.OpenPanelSession(ctx, other, id, now.Add(time.Hour)))
	require.NoError(t, st.RevokeBilling(ctx, id))
	_, err = st.PanelSession(ctx, other, now)
	require.ErrorIs(t, err, store.ErrNotFound, "revoked billing access ends the session")
}
