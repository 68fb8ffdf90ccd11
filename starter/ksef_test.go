package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/stretchr/testify/require"
)

// ksefAPI answers the document list of shop-1 with a document in each KSeF
// state (and a pro-forma, which has none) and 404 for any other order.
func ksefAPI(t *testing.T) {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/orders/{order_id}/documents", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer shop-key" || r.PathValue("order_id") != "shop-1" {
			w.WriteHeader(http.StatusNotFound)
			_ = json.NewEncoder(w).Encode(intake.ErrorBody{Error: intake.ErrorDetail{Code: "not_found", Field: "order_id", Message: "no order"}})
			return
		}
		ks := func(id string, k intake.KSeFView) *intake.KSeFView {
			k.XML, k.UPO = "/v1/documents/"+id+".xml", "/v1/documents/"+id+"/upo.xml"
			return &k
		}
		_ = json.NewEncoder(w).Encode(intake.Documents{Documents: []intake.DocumentView{
			{ID: "7", Kind: "proforma", Number: "PF/2026/000001", Status: "paid"},
			{ID: "9", Kind: "invoice", Number: "FV/2026/000001", Status: "paid",
				KSeF: ks("9", intake.KSeFView{Status: "accepted", Number: "5260250995-20261126-0100A1B2C3D4-E5"})},
			{ID: "12", Kind: "correction", Number: "KOR/2026/000001", Status: "paid",
				KSeF: ks("12", intake.KSeFView{Status: "rejected", Reason: "NIP nabywcy\tnieprawidłowy\n(kod 450)"})},
			{ID: "14", Kind: "invoice", Number: "FV/2026/000002", Status: "paid",
				KSeF: ks("14", intake.KSeFView{Status: "offline", Deadline: "2026-11-27T23:59:59Z"})},
			{ID: "15", Kind: "invoice", Number: "FV/2026/000003", Status: "paid", KSeF: ks("15", intake.KSeFView{Status: "pending"})},
		}})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	t.Setenv("INTAKE_URL", srv.URL)
	t.Setenv("INTAKE_API_KEY", "shop-key")
}

func TestKSeFShowsEachDocumentsState(t *testing.T) {
	ksefAPI(t)
	r := cli(t, "", "ksef", "shop-1")
	require.Equal(t, 0, r.code, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	require.Len(t, lines, 6, r.stdout)
	require.Regexp(t, `^NUMBER\s+KIND\s+KSEF\s+KSEF_NUMBER\s+NOTE$`, lines[0])
	require.Regexp(t, `^PF/2026/000001\s+proforma\s+-\s*$`, lines[1])
	require.Regexp(t, `^FV/2026/000001\s+invoice\s+accepted\s+5260250995-20261126-0100A1B2C3D4-E5\s*$`, lines[2])
	// The reason's tab and newline stay inside its cell.
	require.Regexp(t, `^KOR/2026/000001\s+correction\s+rejected\s+NIP nabywcy nieprawidłowy \(kod 450\)$`, lines[3])
	require.Regexp(t, `^FV/2026/000002\s+invoice\s+offline\s+send by 2026-11-27T23:59:59Z$`, lines[4])
	require.Regexp(t, `^FV/2026/000003\s+invoice\s+pending\s*$`, lines[5])
}

func TestKSeFFailuresAreOneLine(t *testing.T) {
	ksefAPI(t)
	requireOneLine(t, cli(t, "", "ksef", "nope"), 1)
	requireOneLine(t, cli(t, "", "ksef"), 2)
	requireOneLine(t, cli(t, "", "ksef", "a", "b"), 2)
	r := cli(t, "", "ksef", "-h")
	require.Equal(t, 0, r.code)
	require.Contains(t, r.stdout, "ksef ORDER_ID")
}
