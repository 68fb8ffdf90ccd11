package activities

import (
	"context"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
)

// The billing email of a German business's order shows the pro-forma's
// rate, np, and its VAT 0; a Polish buyer's shows 23%.
func TestBillingEmailShowsTheProformasVATRate(t *testing.T) {
	ctx := context.Background()
	a, sink := mailEnv(t)
	st := a.Store
	var err error
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)

	for i, c := range []struct{ id, country, postal, taxID, want, vat string }{
		{"vat-de", "DE", "10115", "DE123456789", "VAT (np):", "0.00 PLN"},
		{"vat-pl", "PL", "00-001", "5260250995", "VAT (23%):", "62.10 PLN"},
	} {
		r := order.Request{OrderID: c.id, Customer: order.Customer{Company: "Beispiel GmbH", Email: c.id + "@example.de", FirstName: "Anna", LastName: "Schmidt",
			TaxID: c.taxID, Country: c.country, City: "Berlin", PostalCode: c.postal, AddressLine1: "Friedrichstraße 10"},
			Plan: "business-standard", Seats: 5, DomainPrefix: "vatmail" + c.country, BillingCycle: "monthly", Language: "en"}
		r.Normalize()
		_, err = st.PlaceOrder(ctx, r, time.Now().Add(time.Hour))
		require.NoError(t, err)
		_, err = a.OpenBilling(ctx, r.OrderID)
		require.NoError(t, err)
		_, err = env.ExecuteActivity(a.SendEmail, r.OrderID, EmailBillingAccess)
		require.NoError(t, err)
		msgs := sink.Messages()
		require.Len(t, msgs, i+1)
		m := msgs[i]
		require.Contains(t, m.Text, c.want, m.Text)
		require.Contains(t, m.Text, c.vat, m.Text)
		require.Contains(t, m.HTML, "VAT ("+c.want[5:len(c.want)-1], m.HTML)
	}
}
