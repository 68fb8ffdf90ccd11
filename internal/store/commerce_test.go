package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// TestOrderKeepsTermAndAgreement: the term and the Customer Agreement
// acceptance are stored with the order: the body's, or the contact at
// placement and the billing cycle's term; an order placed before
// migration 0016 (NULLs) reads the same way.
func TestOrderKeepsTermAndAgreement(t *testing.T) {
	ctx := context.Background()
	placedAt := time.Date(2026, 12, 2, 9, 30, 0, 0, time.UTC)

	plain := request(newID("nce"))
	_, err := st.PlaceOrderAt(ctx, plain, placedAt, deadline, "")
	require.NoError(t, err)
	o, err := st.GetOrder(ctx, plain.OrderID)
	require.NoError(t, err)
	require.Equal(t, order.TermMonth, o.Term)
	require.Equal(t, order.Agreement{FirstName: plain.Customer.FirstName, LastName: plain.Customer.LastName,
		Email: plain.Customer.Email, AcceptedAt: placedAt}, o.Agreement)

	given := request(newID("nce"))
	given.Term = order.TermYear
	given.MCAAcceptedBy = &order.Acceptance{FirstName: "Anna", LastName: "Nowak", Email: "anna@acme.pl", AcceptedAt: "2026-12-01T09:00:00Z"}
	given.Normalize()
	require.Nil(t, given.Validate())
	_, err = st.PlaceOrderAt(ctx, given, placedAt, deadline, "")
	require.NoError(t, err)
	o, err = st.GetOrder(ctx, given.OrderID)
	require.NoError(t, err)
	require.Equal(t, "monthly", o.BillingCycle)
	require.Equal(t, order.TermYear, o.Term, "an annual term billed monthly")
	require.Equal(t, order.Agreement{FirstName: "Anna", LastName: "Nowak", Email: "anna@acme.pl",
		AcceptedAt: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), FromOrder: true}, o.Agreement)
	// A repeat is the same order; a repeat without the acceptance is not.
	p, err := st.PlaceOrderAt(ctx, given, placedAt.Add(time.Hour), deadline, "")
	require.NoError(t, err)
	require.False(t, p.Created)
	bare := given
	bare.MCAAcceptedBy = nil
	_, err = st.Placement(ctx, bare)
	require.ErrorIs(t, err, store.ErrConflict)

	old := request(newID("nce"))
	old.BillingCycle = "annual"
	_, err = st.PlaceOrderAt(ctx, old, placedAt, deadline, "")
	require.NoError(t, err)
	_, err = st.Pool.Exec(ctx, `UPDATE orders SET term = NULL, mca_first_name = NULL, mca_last_name = NULL, mca_email = NULL,
		mca_accepted_at = NULL, mca_from_order = NULL WHERE order_id = $1`, old.OrderID)
	require.NoError(t, err)
	o, err = st.GetOrder(ctx, old.OrderID)
	require.NoError(t, err)
	require.Equal(t, order.TermYear, o.Term)
	require.Equal(t, old.Customer.Email, o.Agreement.Email)
	require.Equal(t, placedAt, o.Agreement.AcceptedAt)
	require.False(t, o.Agreement.FromOrder)

	_, err = st.Pool.Exec(ctx, `UPDATE orders SET term = 'P2Y' WHERE order_id = $1`, old.OrderID)
	require.Error(t, err, "the column takes P1M or P1Y only")
}
