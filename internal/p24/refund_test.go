package p24_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/officeflow/officeflow/internal/p24"
	"github.com/stretchr/testify/require"
)

func TestRefund(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	n := e.paidAndVerified(t, "order-10", 10000)
	req := func(id string, amount int64) p24.RefundRequest {
		return p24.RefundRequest{
			RequestID: id, RefundsUUID: "u-" + id, URLStatus: e.m.URL + "/refund",
			Refunds: []p24.Refund{{OrderID: n.OrderID, SessionID: n.SessionID, Amount: amount, Description: "tenant not created"}},
		}
	}

	require.NoError(t, e.client.Refund(ctx, req("r1", 4000)))
	rn, err := p24.ParseRefundNotification(next(t, e.m.refunds), crc)
	require.NoError(t, err)
	require.True(t, rn.Completed())
	require.Equal(t, int64(4000), rn.Amount)
	require.Equal(t, n.OrderID, rn.OrderID)
	require.Equal(t, "order-10", rn.SessionID)
	require.Equal(t, "r1", rn.RequestID)
	require.Equal(t, "u-r1", rn.RefundsUUID)

	// The same request again: the same answer, no second refund.
	require.NoError(t, e.client.Refund(ctx, req("r1", 4000)))
	require.Len(t, e.fake.Refunds(), 1)

	// More than what is left: refused for good.
	err = e.client.Refund(ctx, req("r2", 6001))
	var refused *p24.Refused
	require.ErrorAs(t, err, &refused)
	require.Equal(t, http.StatusConflict, refused.Code)
	require.Contains(t, refused.Message, "exceeds")

	e.fake.RefuseRefunds(1)
	err = e.client.Refund(ctx, req("r3", 6000))
	require.ErrorAs(t, err, &refused)
	require.Equal(t, http.StatusBadRequest, refused.Code)
	require.False(t, p24.Retryable(err))

	// The refusal was not remembered: the request goes through now.
	require.NoError(t, e.client.Refund(ctx, req("r3", 6000)))
	rn, err = p24.ParseRefundNotification(next(t, e.m.refunds), crc)
	require.NoError(t, err)
	require.Equal(t, int64(6000), rn.Amount)
	st, err := e.client.Transaction(ctx, "order-10")
	require.NoError(t, err)
	require.Equal(t, p24.Returned, st.State)
	require.Len(t, e.fake.Refunds(), 2)

	e.fake.Close()
	none(t, e.m.refunds)
}

func TestRefundNeedsAVerifiedPayment(t *testing.T) {
	e := setup(t)
	require.NoError(t, e.fake.Pay(e.register(t, "order-11", 500), p24.Paid))
	n, err := p24.ParseNotification(next(t, e.m.statuses), crc)
	require.NoError(t, err)
	err = e.client.Refund(context.Background(), p24.RefundRequest{RequestID: "r", RefundsUUID: "u",
		Refunds: []p24.Refund{{OrderID: n.OrderID, SessionID: n.SessionID, Amount: 500}}})
	var refused *p24.Refused
	require.ErrorAs(t, err, &refused)
	require.Contains(t, refused.Message, "not verified")
	require.Empty(t, e.fake.Refunds())
}

func TestRefundNotificationSign(t *testing.T) {
	body, _ := json.Marshal(p24.RefundNotification{OrderID: 7, SessionID: "s", MerchantID: merchantID,
		RequestID: "r", RefundsUUID: "u", Amount: 100, Currency: "PLN", Status: p24.RefundRejected}.Signed(crc))
	rn, err := p24.ParseRefundNotification(body, crc)
	require.NoError(t, err)
	require.False(t, rn.Completed())
	_, err = p24.ParseRefundNotification(body, "another-crc")
	require.ErrorIs(t, err, p24.ErrBadSign)
}
