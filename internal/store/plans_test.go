package store_test

import (
	"context"
	"testing"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
)

// The plans table's desktop_apps and mailbox columns say what the plan
// facts in package order say.
func TestPlansTableAgreesWithPlanFacts(t *testing.T) {
	for _, p := range order.Plans {
		var desktop, mailbox bool
		require.NoError(t, st.Pool.QueryRow(context.Background(),
			`SELECT desktop_apps, mailbox FROM plans WHERE code = $1`, p.Code).Scan(&desktop, &mailbox), p.Code)
		require.Equal(t, p.DesktopApps(), desktop, p.Code)
		require.Equal(t, p.Mailbox(), mailbox, p.Code)
	}
}
