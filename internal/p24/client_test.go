package p24_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/officeflow/officeflow/internal/p24"
	"github.com/stretchr/testify/require"
)

func TestCredentials(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	require.NoError(t, e.client.TestAccess(ctx))

	wrongKey := *e.client
	wrongKey.APIKey = "guess"
	var refused *p24.Refused
	require.ErrorAs(t, wrongKey.TestAccess(ctx), &refused)
	require.Equal(t, http.StatusUnauthorized, refused.Code)
	_, err := wrongKey.Register(ctx, p24.Transaction{SessionID: "x", Amount: 1, Description: "d", Email: "a@b.pl", URLReturn: "http://x"})
	require.ErrorAs(t, err, &refused)
	require.Equal(t, http.StatusUnauthorized, refused.Code)
	require.NotContains(t, err.Error(), "guess")

	wrongCRC := *e.client
	wrongCRC.CRC = "guess"
	_, err = wrongCRC.Register(ctx, p24.Transaction{SessionID: "x", Amount: 1, Description: "d", Email: "a@b.pl", URLReturn: "http://x"})
	require.ErrorAs(t, err, &refused)
	require.Equal(t, http.StatusBadRequest, refused.Code)
	require.Equal(t, "Incorrect CRC value", refused.Message)
	require.Empty(t, e.fake.Transactions())
}

func TestRegisterTwice(t *testing.T) {
	e := setup(t)
	token := e.register(t, "order-12", 700)
	require.Equal(t, token, e.register(t, "order-12", 700), "a repeated register gets the same token")
	_, err := e.client.Register(context.Background(), p24.Transaction{SessionID: "order-12", Amount: 800,
		Description: "d", Email: "a@b.pl", URLReturn: "http://x"})
	var refused *p24.Refused
	require.ErrorAs(t, err, &refused)
	require.Len(t, e.fake.Transactions(), 1)
}

func TestGatewayDownIsRetryable(t *testing.T) {
	ctx := context.Background()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "<html>maintenance</html>", http.StatusServiceUnavailable)
	}))
	c := &p24.Client{BaseURL: down.URL, MerchantID: merchantID, APIKey: apiKey, CRC: crc}
	err := c.Verify(ctx, p24.Verification{SessionID: "s", OrderID: 1, Amount: 1})
	var u *p24.Unavailable
	require.ErrorAs(t, err, &u)
	require.Equal(t, http.StatusServiceUnavailable, u.Status)
	require.NotContains(t, err.Error(), "maintenance", "a body that is not the gateway's JSON is not quoted")

	down.Close()
	_, err = c.Transaction(ctx, "s")
	require.True(t, p24.Retryable(err))

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	_, err = c.Register(cancelled, p24.Transaction{SessionID: "s", Amount: 1})
	require.True(t, p24.Retryable(err))
	require.True(t, errors.Is(err, context.Canceled))
}
