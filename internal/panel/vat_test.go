package panel_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/secret"
	"github.com/stretchr/testify/require"
)

// The amount due shows the pro-forma's VAT rate: "np" for a German
// business billed without Polish VAT, 23% for a Polish buyer.
func TestDueShowsTheDocumentsVATRate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, c := range []struct{ country, postal, taxID, rate string }{
		{"DE", "10115", "DE123456789", "VAT np"},
		{"PL", "00-001", "5260250995", "VAT 23%"},
	} {
		id := fmt.Sprintf("panel-vat-%d", seq.Add(1))
		r := order.Request{OrderID: id, Customer: order.Customer{Company: "Beispiel GmbH", Email: id + "@example.de", FirstName: "Anna", LastName: "Schmidt",
			TaxID: c.taxID, Country: c.country, City: "Berlin", PostalCode: c.postal, AddressLine1: "Friedrichstraße 10"},
			Plan: "business-standard", Seats: 5, DomainPrefix: strings.ReplaceAll(id, "-", ""), BillingCycle: "monthly", Language: "en"}
		r.Normalize()
		_, err := st.PlaceOrder(ctx, r, time.Now().Add(168*time.Hour))
		require.NoError(t, err)
		token := e.box.Token(secret.PurposeBilling, id)
		_, err = st.OpenBilling(ctx, id, secret.Hash(token), time.Now())
		require.NoError(t, err)
		require.NoError(t, st.Transition(ctx, id, order.AwaitingPayment, "billing email sent"))
		page := e.get("/panel/orders/"+id, e.login(token)).Body
		require.Contains(t, page, "<dt>"+c.rate+"</dt>", c.country)
	}
}
