package ksef_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/stretchr/testify/require"
)

// fakeTamper is a transport that rewrites one field of the JSON body of
// the requests to paths ending in suffix.
type fakeTamper struct {
	suffix, field string
	value         any
}

func (t fakeTamper) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil && strings.HasSuffix(r.URL.Path, t.suffix) {
		raw, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		var m map[string]any
		if err := json.Unmarshal(raw, &m); err != nil {
			return nil, err
		}
		m[t.field] = t.value
		raw, _ = json.Marshal(m)
		r = r.Clone(r.Context())
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(raw)), int64(len(raw))
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestFakeRefusesWrongHashesAndSizes(t *testing.T) {
	ctx := context.Background()
	other := ksef.KsefNumberChecksum("x") // anything but the right hash
	for _, tc := range []struct {
		field string
		value any
	}{
		{"invoiceHash", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		{"encryptedInvoiceHash", "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
		{"invoiceSize", 1},
		{"encryptedInvoiceSize", 16},
		{"invoiceHash", other},
	} {
		t.Run(tc.field, func(t *testing.T) {
			fake, c := apiSetup(t, nil)
			s, err := c.OpenSession(ctx)
			require.NoError(t, err)
			c.HTTP = &http.Client{Transport: fakeTamper{suffix: "/invoices", field: tc.field, value: tc.value}}
			_, err = c.Send(ctx, s, apiInvoice("FV/H/1"))
			var refused *ksef.Refused
			require.ErrorAs(t, err, &refused)
			require.Equal(t, http.StatusBadRequest, refused.Status)
			require.Equal(t, ksef.CodeValidation, refused.Code())
			require.False(t, ksef.Retryable(err))
			require.Empty(t, fake.Accepted())
		})
	}
}

func TestFakeChecksTheAuthentication(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		nip, token string
		code       int
		detail     string
	}{
		"wrong token": {apiNIP, "not-the-token", 450, "Nieprawidłowy token"},
		"other NIP":   {"7010020030", apiToken, 415, "Brak przypisanych uprawnień"},
	} {
		t.Run(name, func(t *testing.T) {
			fake, c := apiSetup(t, nil)
			c.NIP, c.Token = tc.nip, tc.token
			_, err := c.OpenSession(ctx)
			var refused *ksef.Refused
			require.ErrorAs(t, err, &refused)
			require.Equal(t, tc.code, refused.Code())
			require.Contains(t, refused.Error(), tc.detail)
			require.NotContains(t, refused.Error(), tc.token)
			require.Zero(t, fake.Calls("POST /auth/token/redeem"), "no tokens for a failed authentication")
			require.Zero(t, fake.Calls("POST /sessions/online"))
		})
	}
	t.Run("no bearer, no session", func(t *testing.T) {
		fake, c := apiSetup(t, nil)
		resp, err := http.Post(c.BaseURL+"/sessions/online", "application/json", strings.NewReader("{}"))
		require.NoError(t, err)
		resp.Body.Close()
		require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
		require.Equal(t, 1, fake.Calls("POST /sessions/online"))
	})
}

func TestFakeVerifiesTheInvoice(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		xml  []byte
		code int
	}{
		"not well formed": {[]byte(`<Faktura xmlns="http://crd.gov.pl/wzor/2025/06/25/13775/"><Fa>`), 430},
		"not FA(3)":       {bytes.ReplaceAll(apiInvoice("FV/X/1"), []byte("2025/06/25/13775"), []byte("2023/06/29/12648")), 430},
		"FA(2) form code": {bytes.ReplaceAll(apiInvoice("FV/X/2"), []byte(`"FA (3)"`), []byte(`"FA (2)"`)), 430},
		"with a BOM":      {append([]byte{0xEF, 0xBB, 0xBF}, apiInvoice("FV/X/3")...), 430},
		"another seller":  {bytes.ReplaceAll(apiInvoice("FV/X/4"), []byte(apiNIP), []byte("7010020030")), 410},
		"issued tomorrow": {bytes.ReplaceAll(apiInvoice("FV/X/5"), []byte("<P_1>2026-03-02</P_1>"), []byte("<P_1>2999-01-01</P_1>")), 450},
	} {
		t.Run(name, func(t *testing.T) {
			fake, c := apiSetup(t, nil)
			s, err := c.OpenSession(ctx)
			require.NoError(t, err)
			sent, err := c.Send(ctx, s, tc.xml)
			require.NoError(t, err)
			_, err = c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
			var rej *ksef.Rejected
			require.ErrorAs(t, err, &rej)
			require.Equal(t, tc.code, rej.Status.Code, "%+v", rej.Status)
			require.Empty(t, fake.Accepted())
		})
	}

	t.Run("a duplicate names the original", func(t *testing.T) {
		fake, c := apiSetup(t, nil)
		s, err := c.OpenSession(ctx)
		require.NoError(t, err)
		var first ksef.InvoiceStatus
		for i := range 2 {
			sent, err := c.Send(ctx, s, apiInvoice("FV/D/1"))
			require.NoError(t, err)
			st, err := c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
			if i == 0 {
				require.NoError(t, err)
				first = st
				continue
			}
			var rej *ksef.Rejected
			require.ErrorAs(t, err, &rej)
			require.Equal(t, 440, rej.Status.Code)
			require.Equal(t, first.KsefNumber, rej.Status.Extensions["originalKsefNumber"])
		}
		require.Len(t, fake.Accepted(), 1)
	})

	t.Run("against the schema with xmllint", func(t *testing.T) {
		_, err := exec.LookPath("xmllint")
		require.NoError(t, err, "xmllint (Debian's libxml2-utils); .ci/run installs it")
		fake, c := apiSetup(t, nil)
		shared := apiShared(t)
		fake.Schema = filepath.Join(shared, "faktury", "schemy", "FA", "schemat_FA(3)_v1-0E.xsd")
		fake.Catalog = filepath.Join(shared, "catalog.xml")
		s, err := c.OpenSession(ctx)
		require.NoError(t, err)
		sent, err := c.Send(ctx, s, apiInvoice("FV/S/1")) // namespaced, but far from complete
		require.NoError(t, err)
		_, err = c.AwaitInvoice(ctx, s.ReferenceNumber, sent.ReferenceNumber)
		var rej *ksef.Rejected
		require.ErrorAs(t, err, &rej)
		require.Equal(t, 430, rej.Status.Code)
		require.Contains(t, strings.Join(rej.Status.Details, " "), "Niezgodność ze schematem")
	})
}

// A sender that lost the answer to its send finds the invoice in its session.
func TestFakeListsSessionInvoices(t *testing.T) {
	ctx := context.Background()
	_, c := apiSetup(t, nil)
	s, err := c.OpenSession(ctx)
	require.NoError(t, err)
	xml := apiInvoice("FV/L/1")
	sent, err := c.Send(ctx, s, xml)
	require.NoError(t, err)
	list, err := c.SessionInvoices(ctx, s.ReferenceNumber)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, sent.ReferenceNumber, list[0].ReferenceNumber)
	require.Equal(t, ksef.HashOf(xml), list[0].InvoiceHash)
}
