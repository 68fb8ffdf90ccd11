package p24_test

import (
	"bytes"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"log/slog"
	"testing"

	"github.com/officeflow/officeflow/internal/p24"
	"github.com/stretchr/testify/require"
)

func sha384(s string) string {
	sum := sha512.Sum384([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The sign is the digest of compact JSON as PHP's json_encode writes it with
// JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES: fields in Przelewy24's
// order, "/" and Polish letters as they are, and no HTML escaping of < > &.
func TestSignIsDigestOfUnescapedJSON(t *testing.T) {
	n := p24.Notification{MerchantID: 11, PosID: 12, SessionID: "zamówienie/1", Amount: 12345, OriginAmount: 12345,
		Currency: "PLN", OrderID: 300000001, MethodID: 25, Statement: "p24-A<B>&C/ż"}
	want := sha384(`{"merchantId":11,"posId":12,"sessionId":"zamówienie/1","amount":12345,"originAmount":12345,` +
		`"currency":"PLN","orderId":300000001,"methodId":25,"statement":"p24-A<B>&C/ż","crc":"k/ł"}`)
	require.Equal(t, want, n.Signed("k/ł").Sign)

	r := p24.RefundNotification{OrderID: 5, SessionID: "s/ą", MerchantID: 11, RequestID: "not signed",
		RefundsUUID: "u", Amount: 100, Currency: "PLN", Timestamp: 1700000000, Status: 0}
	want = sha384(`{"orderId":5,"sessionId":"s/ą","refundsUuid":"u","merchantId":11,"amount":100,"currency":"PLN","status":0,"crc":"k"}`)
	require.Equal(t, want, r.Signed("k").Sign)
}

// A sign in upper-case hex is the same sign.
func TestSignCaseDoesNotMatter(t *testing.T) {
	n := p24.Notification{MerchantID: 1, PosID: 1, SessionID: "s", Amount: 1, OriginAmount: 1, Currency: "PLN", OrderID: 2}.Signed("k")
	n.Sign = string(bytes.ToUpper([]byte(n.Sign)))
	body := fmt.Sprintf(`{"merchantId":1,"posId":1,"sessionId":"s","amount":1,"originAmount":1,"currency":"PLN","orderId":2,"methodId":0,"statement":"","sign":%q}`, n.Sign)
	_, err := p24.ParseNotification([]byte(body), "k")
	require.NoError(t, err)
}

func TestKeysAreNeverPrinted(t *testing.T) {
	c := &p24.Client{BaseURL: p24.Sandbox, MerchantID: 1, APIKey: "the-api-key", CRC: "the-crc-key"}
	var logged bytes.Buffer
	slog.New(slog.NewJSONHandler(&logged, nil)).Info("p24", "client", c, "value", *c)
	f := p24.NewFake(1, 1, "the-api-key", "the-crc-key")
	defer f.Close()
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v", *c, *c, *c), fmt.Sprintf("%+v", struct{ C p24.Client }{*c}),
		logged.String(), fmt.Sprintf("%v %+v", f, f),
	} {
		require.NotContains(t, s, "the-api-key")
		require.NotContains(t, s, "the-crc-key")
	}
	require.Contains(t, fmt.Sprint(c), p24.Sandbox)
}
