package ksef_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/stretchr/testify/require"
)

const (
	apiNIP   = "5265877635"
	apiToken = "20251010-EC-2A3F4B5C6D-7E8F9A0B1C-D2|nip-5265877635|0123456789abcdef"
)

// apiClock is a clock the test moves; the client and the Fake share it.
type apiClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *apiClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *apiClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// apiInvoice is a small FA(3)-namespaced invoice of the seller apiNIP,
// enough for the Fake's checks (not for the full schema).
func apiInvoice(number string) []byte {
	return fmt.Appendf(nil, `<?xml version="1.0" encoding="UTF-8"?>
<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/">
  <Naglowek>
    <KodFormularza kodSystemowy="FA (3)" wersjaSchemy="1-0E">FA</KodFormularza>
    <WariantFormularza>3</WariantFormularza>
    <DataWytworzeniaFa>2026-03-02T10:00:00Z</DataWytworzeniaFa>
  </Naglowek>
  <Podmiot1><DaneIdentyfikacyjne><NIP>%s</NIP><Nazwa>Officeflow sp. z o.o.</Nazwa></DaneIdentyfikacyjne></Podmiot1>
  <Fa><KodWaluty>PLN</KodWaluty><P_1>2026-03-02</P_1><P_2>%s</P_2><P_15>123.00</P_15><RodzajFaktury>VAT</RodzajFaktury></Fa>
</Faktura>
`, apiNIP, number)
}

// apiSetup is a Fake on an httptest server and a Client of it, both on clock
// (nil: the real one).
func apiSetup(t *testing.T, clock *apiClock) (*ksef.Fake, *ksef.Client) {
	t.Helper()
	fake := ksef.NewFake(apiNIP, apiToken)
	srv := httptest.NewServer(fake.Handler())
	t.Cleanup(srv.Close)
	c := &ksef.Client{BaseURL: srv.URL, NIP: apiNIP, Token: apiToken, HTTP: srv.Client(), PollInterval: time.Millisecond}
	if clock != nil {
		fake.Now, c.Now = clock.Now, clock.Now
	}
	return fake, c
}

func TestClientSendsAnInvoiceEndToEnd(t *testing.T) {
	ctx := context.Background()
	clock := &apiClock{t: time.Date(2026, 3, 2, 23, 30, 0, 0, time.UTC)} // 3 March in Warsaw
	fake, c := apiSetup(t, clock)
	fake.AuthPending, fake.ProcessingPolls = 1, 2

	s, err := c.OpenSession(ctx)
	require.NoError(t, err)
	require.Len(t, s.ReferenceNumber, 36)
	require.Len(t, s.Key, 32)
	require.NotContains(t, fmt.Sprintf("%v %+v %#v", s, s, s), string(s.Key))

	doc := apiInvoice("FV/2026/03/0001")
	sent, err := c.Send(ctx, s, doc)
	require.NoError(t, err)
	require.Len(t, sent.ReferenceNumber, 36)

	st, err := c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
	require.NoError(t, err)
	require.True(t, st.Accepted(), "%+v", st)
	require.Equal(t, 200, st.Code)
	require.Equal(t, "FV/2026/03/0001", st.InvoiceNumber)
	require.True(t, ksef.ValidKsefNumber(st.KsefNumber), st.KsefNumber)
	require.True(t, strings.HasPrefix(st.KsefNumber, apiNIP+"-20260303-"), "the seller's NIP and the Polish date: %s", st.KsefNumber)
	require.Equal(t, 3, fake.Calls("GET /sessions/{referenceNumber}/invoices/{invoiceReferenceNumber}"), "two answers of 150, then the verdict")
	require.Equal(t, 2, fake.Calls("GET /auth/{referenceNumber}"), "one answer of 100, then 200")

	acc := fake.Accepted()
	require.Len(t, acc, 1)
	require.Equal(t, doc, acc[0].XML, "the Fake decrypted what was sent")
	require.Equal(t, st.KsefNumber, acc[0].KsefNumber)
	require.Equal(t, s.ReferenceNumber, acc[0].SessionReferenceNumber)

	upo, err := c.UPO(ctx, s.ReferenceNumber, sent.ReferenceNumber)
	require.NoError(t, err)
	require.Contains(t, string(upo), "<NumerKSeFDokumentu>"+st.KsefNumber+"</NumerKSeFDokumentu>")
	require.Contains(t, string(upo), "<NumerReferencyjnySesji>"+s.ReferenceNumber+"</NumerReferencyjnySesji>")
	apiValidateUPO(t, upo)

	require.NoError(t, c.Close(ctx, s.ReferenceNumber))
	ss, err := c.SessionStatus(ctx, s.ReferenceNumber)
	require.NoError(t, err)
	require.Equal(t, ksef.SessionStatus{Code: 200, Description: "Sesja interaktywna przetworzona pomyślnie",
		InvoiceCount: 1, SuccessfulInvoiceCount: 1}, ss)
	_, err = c.Send(ctx, s, apiInvoice("FV/2026/03/0002"))
	var refused *ksef.Refused
	require.ErrorAs(t, err, &refused, "a closed session takes no invoice")
	require.Equal(t, ksef.CodeValidation, refused.Code())

	// One authentication served every call.
	require.Equal(t, 1, fake.Calls("POST /auth/challenge"))
	require.Equal(t, 1, fake.Calls("POST /auth/token/redeem"))
	require.Equal(t, 1, fake.Calls("GET /security/public-key-certificates"))
}

// apiValidateUPO validates an UPO against the Ministry's upo-v4-3 schema
// with xmllint, which .ci/run installs.
func apiValidateUPO(t *testing.T, upo []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	require.NoError(t, err, "xmllint (Debian's libxml2-utils) validates the UPO; .ci/run installs it")
	xsd := filepath.Join(apiShared(t), "faktury", "upo", "schemy", "upo-v4-3.xsd")
	cmd := exec.Command(xmllint, "--nonet", "--noout", "--schema", xsd, "-")
	cmd.Stdin = strings.NewReader(string(upo))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s\n%s", out, upo)
}

// apiShared is the Ministry's material, shared/ksef, in the test's directory
// or a parent (/work/shared beside /work/main); it fails, never skips.
func apiShared(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	require.NoError(t, err)
	for dir := wd; ; dir = filepath.Dir(dir) {
		shared := filepath.Join(dir, "shared", "ksef")
		if _, err := os.Stat(filepath.Join(shared, "catalog.xml")); err == nil {
			return shared
		}
		if filepath.Dir(dir) == dir {
			t.Fatalf("shared/ksef not found in %s or any parent", wd)
		}
	}
}

func TestClientRefreshesAnExpiredAccessToken(t *testing.T) {
	ctx := context.Background()
	clock := &apiClock{t: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)}
	fake, c := apiSetup(t, clock)
	fake.AccessTTL, fake.RefreshTTL = 10*time.Minute, time.Hour

	_, err := c.OpenSession(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, fake.Calls("POST /auth/token/redeem"))
	require.Zero(t, fake.Calls("POST /auth/token/refresh"))

	clock.Add(11 * time.Minute) // the access token has expired, the refresh token not
	_, err = c.OpenSession(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, fake.Calls("POST /auth/token/refresh"), "refreshed")
	require.Equal(t, 1, fake.Calls("POST /auth/challenge"), "not authenticated anew")

	// KSeF stops taking the token before the client thinks it expires: the
	// call fails retryably, and the next one refreshes.
	fake.ExpireAccessTokens()
	_, err = c.OpenSession(ctx)
	var u *ksef.Unavailable
	require.ErrorAs(t, err, &u)
	require.Equal(t, http.StatusUnauthorized, u.Status)
	_, err = c.OpenSession(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, fake.Calls("POST /auth/token/refresh"))

	clock.Add(2 * time.Hour) // both expired: authenticate anew
	_, err = c.OpenSession(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, fake.Calls("POST /auth/challenge"))
	require.Equal(t, 2, fake.Calls("POST /auth/token/redeem"))
}

func TestClientRedactsItsToken(t *testing.T) {
	_, c := apiSetup(t, nil)
	_, err := c.OpenSession(context.Background())
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s", c, c, c, c)} {
		require.NotContains(t, s, apiToken)
		require.NotContains(t, s, "eyJ", "no access or refresh token")
		require.Contains(t, s, apiNIP)
	}
}

func TestRetryableSortsTheErrors(t *testing.T) {
	require.True(t, ksef.Retryable(fmt.Errorf("wrapped: %w", &ksef.Unavailable{Op: "x", Err: errors.New("down")})))
	require.False(t, ksef.Retryable(&ksef.Refused{Op: "x", Status: 400}))
	require.False(t, ksef.Retryable(&ksef.Rejected{}))
	require.False(t, ksef.Retryable(errors.New("other")))
}

func TestClientSendsAnOfflineInvoice(t *testing.T) {
	ctx := context.Background()
	fake, c := apiSetup(t, nil)
	s, err := c.OpenSession(ctx)
	require.NoError(t, err)
	sent, err := c.SendOffline(ctx, s, apiInvoice("FV/O/1"))
	require.NoError(t, err)
	st, err := c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
	require.NoError(t, err)
	require.Equal(t, "Offline", st.InvoicingMode)
	require.True(t, fake.Accepted()[0].Offline)
	upo, err := c.UPO(ctx, s.ReferenceNumber, sent.ReferenceNumber)
	require.NoError(t, err)
	require.Contains(t, string(upo), "<TrybWysylki>Offline</TrybWysylki>")
	apiValidateUPO(t, upo)
}
