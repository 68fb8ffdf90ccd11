package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
)

// fa3 is an FA(3) document as KSeF would get it; the BOM, CRLF and Polish
// letters are there to show that it is served byte for byte, not re-encoded.
const fa3 = "\xef\xbb\xbf<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n" +
	"<Faktura xmlns=\"http://crd.gov.pl/wzor/2025/06/25/13775/\"><Fa><P_2>FV/2026/000001</P_2><P_7>Microsoft 365 — zażółć</P_7></Fa></Faktura>\n"

const upo = `<?xml version="1.0" encoding="UTF-8"?><Potwierdzenie><NumerKSeFDokumentu>5260250995-20261126-0100A1B2C3D4-E5</NumerKSeFDokumentu></Potwierdzenie>`

// ksefOrder is an order of the "shop-key" shop with a paid pro-forma and
// its VAT invoice, on a server that also knows a second shop ("other-key"),
// and clients of both shops.
type ksefOrder struct {
	st               *store.Store
	url              string
	shop, other      *Client
	proforma, fv     string // document ids
	proformaID, fvID int64
}

func newKSeFOrder(t *testing.T) ksefOrder {
	t.Helper()
	ctx := context.Background()
	st, _ := newServer(t, &placingTemporal{})
	// The same store behind a server that also takes another shop's key.
	h := (&Server{Store: st, Temporal: &placingTemporal{st: st}, TaskQueue: "orders", Keys: []string{"shop-key", "other-key"},
		Deadline: 168 * time.Hour, Log: zap.NewNop()}).Handler()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	o := ksefOrder{st: st, url: srv.URL, shop: NewClient(srv.URL, "shop-key", srv.Client()), other: NewClient(srv.URL, "other-key", srv.Client())}
	_, err := o.shop.PlaceJSON(ctx, []byte(validOrder))
	require.NoError(t, err)
	b, err := st.OpenBilling(ctx, "shop-123", []byte("token-hash"), time.Now())
	require.NoError(t, err)
	_, err = st.RecordPayment(ctx, store.Payment{PaymentID: "p-1", OrderID: "shop-123", Status: "completed", Amount: b.Invoice.Gross, Currency: b.Invoice.Currency})
	require.NoError(t, err)
	fv, err := st.Settle(ctx, "shop-123", "p-1", time.Now())
	require.NoError(t, err)
	o.proformaID, o.fvID = b.Invoice.ID, fv.ID
	o.proforma, o.fv = strconv.FormatInt(b.Invoice.ID, 10), strconv.FormatInt(fv.ID, 10)
	return o
}

func (o ksefOrder) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	_, err := o.st.Pool.Exec(context.Background(), sql, args...)
	require.NoError(t, err)
}

// get is a raw GET with the shop's key, for the headers the client hides.
func (o ksefOrder) get(t *testing.T, path string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, o.url+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer shop-key")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// ksefOf is the "ksef" member of a document in the list as the JSON has
// it (nil when absent), and the document as the client decodes it.
func (o ksefOrder) ksefOf(t *testing.T, id string) (map[string]any, DocumentView) {
	t.Helper()
	_, body := o.get(t, "/v1/orders/shop-123/documents")
	var raw struct {
		Documents []map[string]any `json:"documents"`
	}
	require.NoError(t, json.Unmarshal(body, &raw), string(body))
	docs, err := o.shop.Documents(context.Background(), "shop-123")
	require.NoError(t, err)
	require.Len(t, docs, len(raw.Documents))
	for i, d := range raw.Documents {
		if d["id"] == id {
			k, _ := d["ksef"].(map[string]any)
			if _, present := d["ksef"]; present {
				require.NotNil(t, k, "ksef is an object or absent, never null")
			}
			return k, docs[i]
		}
	}
	t.Fatalf("no document %s in %s", id, body)
	return nil, DocumentView{}
}

func requireNotFound(t *testing.T, err error) {
	t.Helper()
	var ae *APIError
	require.True(t, errors.As(err, &ae), "%v", err)
	require.Equal(t, http.StatusNotFound, ae.Status)
	require.Equal(t, "not_found", ae.Code)
}

// TestKSeFStateInDocuments: a VAT invoice's KSeF state is in the document
// list as it moves (pending, offline with its deadline, rejected with its
// reason, accepted with its number), and a pro-forma has no "ksef" at all.
func TestKSeFStateInDocuments(t *testing.T) {
	o := newKSeFOrder(t)
	k, _ := o.ksefOf(t, o.fv)
	require.Nil(t, k, "no ksef_documents row (KSEF_MODE=off): no ksef")

	o.exec(t, `INSERT INTO ksef_documents (invoice_id, xml) VALUES ($1, $2)`, o.fvID, []byte(fa3))
	k, v := o.ksefOf(t, o.fv)
	require.Equal(t, map[string]any{"status": "pending", "xml": "/v1/documents/" + o.fv + ".xml", "upo": "/v1/documents/" + o.fv + "/upo.xml"}, k)
	require.Equal(t, &KSeFView{Status: "pending", XML: "/v1/documents/" + o.fv + ".xml", UPO: "/v1/documents/" + o.fv + "/upo.xml"}, v.KSeF)

	o.exec(t, `UPDATE ksef_documents SET status = 'offline', offline = true, deadline = '2026-11-27T23:59:59Z', reason = 'KSeF unreachable'
		WHERE invoice_id = $1`, o.fvID)
	k, v = o.ksefOf(t, o.fv)
	require.Equal(t, "offline", k["status"])
	require.Equal(t, "2026-11-27T23:59:59Z", k["deadline"])
	require.NotContains(t, k, "reason", "a waiting document's note is not a rejection")
	require.Equal(t, "2026-11-27T23:59:59Z", v.KSeF.Deadline)

	o.exec(t, `UPDATE ksef_documents SET status = 'rejected', reason = 'NIP nabywcy nieprawidłowy' WHERE invoice_id = $1`, o.fvID)
	k, _ = o.ksefOf(t, o.fv)
	require.Equal(t, "rejected", k["status"])
	require.Equal(t, "NIP nabywcy nieprawidłowy", k["reason"])
	require.NotContains(t, k, "deadline")
	require.NotContains(t, k, "number")

	o.exec(t, `UPDATE ksef_documents SET status = 'accepted', reason = '', ksef_number = '5260250995-20261126-0100A1B2C3D4-E5',
		upo = $2, accepted_at = now() WHERE invoice_id = $1`, o.fvID, []byte(upo))
	k, v = o.ksefOf(t, o.fv)
	require.Equal(t, map[string]any{"status": "accepted", "number": "5260250995-20261126-0100A1B2C3D4-E5",
		"xml": "/v1/documents/" + o.fv + ".xml", "upo": "/v1/documents/" + o.fv + "/upo.xml"}, k)
	require.Equal(t, "5260250995-20261126-0100A1B2C3D4-E5", v.KSeF.Number)

	k, v = o.ksefOf(t, o.proforma)
	require.Nil(t, k, "a pro-forma is never sent to KSeF")
	require.Nil(t, v.KSeF)
}

// TestKSeFXMLAndUPO: the XML is served exactly as stored, the UPO only once
// KSeF has confirmed receipt, both as no-store application/xml; another
// shop, a pro-forma and an unknown id get 404.
func TestKSeFXMLAndUPO(t *testing.T) {
	ctx := context.Background()
	o := newKSeFOrder(t)
	_, err := o.shop.DocumentXML(ctx, o.fv)
	requireNotFound(t, err) // no KSeF row yet
	o.exec(t, `INSERT INTO ksef_documents (invoice_id, xml) VALUES ($1, $2)`, o.fvID, []byte(fa3))

	resp, body := o.get(t, "/v1/documents/"+o.fv+".xml")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, fa3, string(body))
	require.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	require.Equal(t, "nosniff", resp.Header.Get("X-Content-Type-Options"))
	require.Equal(t, `inline; filename="`+o.fv+`.xml"`, resp.Header.Get("Content-Disposition"))
	xml, err := o.shop.DocumentXML(ctx, o.fv)
	require.NoError(t, err)
	require.Equal(t, fa3, string(xml))

	resp, body = o.get(t, "/v1/documents/"+o.fv+"/upo.xml")
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "pending: no UPO yet")
	require.Contains(t, string(body), `"not_found"`)
	_, err = o.shop.DocumentUPO(ctx, o.fv)
	requireNotFound(t, err)

	o.exec(t, `UPDATE ksef_documents SET status = 'accepted', ksef_number = '5260250995-20261126-0100A1B2C3D4-E5', upo = $2, accepted_at = now()
		WHERE invoice_id = $1`, o.fvID, []byte(upo))
	resp, body = o.get(t, "/v1/documents/"+o.fv+"/upo.xml")
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	require.Equal(t, upo, string(body))
	require.Equal(t, "application/xml", resp.Header.Get("Content-Type"))
	require.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
	got, err := o.shop.DocumentUPO(ctx, o.fv)
	require.NoError(t, err)
	require.Equal(t, upo, string(got))

	// Another shop cannot tell the document from one that does not exist.
	_, err = o.other.DocumentXML(ctx, o.fv)
	requireNotFound(t, err)
	_, err = o.other.DocumentUPO(ctx, o.fv)
	requireNotFound(t, err)
	_, err = o.other.PDF(ctx, o.fv)
	requireNotFound(t, err)

	for _, path := range []string{
		"/v1/documents/" + o.proforma + ".xml", "/v1/documents/" + o.proforma + "/upo.xml", // never sent to KSeF
		"/v1/documents/999999.xml", "/v1/documents/999999/upo.xml",
		"/v1/documents/0.xml", "/v1/documents/x.xml", "/v1/documents/x/upo.xml", "/v1/documents/" + o.fv + ".txt",
	} {
		resp, body := o.get(t, path)
		require.Equal(t, http.StatusNotFound, resp.StatusCode, "%s: %s", path, body)
		require.Contains(t, string(body), `"not_found"`, path)
	}
	// The PDF is still served on the route it now shares with the XML.
	pdf, err := o.shop.PDF(ctx, o.fv)
	require.NoError(t, err)
	require.Equal(t, "%PDF-", string(pdf[:5]))

	req, err := http.NewRequest(http.MethodGet, o.url+"/v1/documents/"+o.fv+"/upo.xml", nil)
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode, "behind the shop's key")
}

// TestKSeFStoreDownIs503: a store that does not answer is "retry later",
// not "no such document".
func TestKSeFStoreDownIs503(t *testing.T) {
	o := newKSeFOrder(t)
	o.exec(t, `INSERT INTO ksef_documents (invoice_id, xml) VALUES ($1, $2)`, o.fvID, []byte(fa3))
	o.st.Close()
	for _, path := range []string{"/v1/documents/" + o.fv + ".xml", "/v1/documents/" + o.fv + "/upo.xml", "/v1/orders/shop-123/documents"} {
		resp, body := o.get(t, path)
		require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "%s: %s", path, body)
	}
}

// TestClientRefusesAnOverlongDocument: a document longer than the client
// reads is an error, never handed on cut short.
func TestClientRefusesAnOverlongDocument(t *testing.T) {
	c := fakeAPI(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := maxAnswer
		if r.URL.Path == "/v1/documents/2.xml" {
			n++
		}
		_, _ = w.Write(bytes.Repeat([]byte("x"), n))
	}))
	b, err := c.DocumentXML(context.Background(), "1")
	require.NoError(t, err)
	require.Len(t, b, maxAnswer)
	_, err = c.DocumentXML(context.Background(), "2")
	require.ErrorContains(t, err, "larger than")
}
