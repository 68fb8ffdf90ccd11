package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// flakyTemporal fails every start with startErr and answers a describe
// with describeErr (nil: the workflow exists).
type flakyTemporal struct {
	client.Client
	startErr, describeErr error
	starts                int
}

func (f *flakyTemporal) ExecuteWorkflow(context.Context, client.StartWorkflowOptions, any, ...any) (client.WorkflowRun, error) {
	f.starts++
	return nil, f.startErr
}

func (f *flakyTemporal) DescribeWorkflowExecution(context.Context, string, string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	return &workflowservice.DescribeWorkflowExecutionResponse{}, f.describeErr
}

// newServer is a real Server on a fresh PostgreSQL database and tc.
func newServer(t *testing.T, tc *flakyTemporal) (*store.Store, http.Handler) {
	t.Helper()
	url, drop, err := pgtest.NewDatabase("officeflow_intake")
	require.NoError(t, err)
	t.Cleanup(drop)
	st, err := store.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(st.Close)
	return st, (&Server{
		Store: st, Temporal: tc, TaskQueue: "orders", Keys: []string{"shop-key"},
		Deadline: 168 * time.Hour, Log: zap.NewNop(),
	}).Handler()
}

func startServer(t *testing.T, tc *flakyTemporal) (*store.Store, func() *http.Response) {
	t.Helper()
	st, h := newServer(t, tc)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	body := []byte(validOrder)
	post := func() *http.Response {
		req, err := http.NewRequest("POST", srv.URL+"/v1/orders", bytes.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer shop-key")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	return st, post
}

var lostAnswer = context.DeadlineExceeded

const validOrder = `{"order_id":"shop-123","customer":{"company":"Acme sp. z o.o.","email":"it@acme.pl","first_name":"Jan","last_name":"Kowalski","tax_id":"5260250995","country":"PL","city":"Warszawa","postal_code":"00-001","address_line1":"ul. Prosta 1"},"plan":"business-standard","seats":5,"domain_prefix":"acme","billing_cycle":"monthly","language":"pl"}`

func TestStartWhoseAnswerWasLostIsAccepted(t *testing.T) {
	tc := &flakyTemporal{startErr: lostAnswer}
	st, post := startServer(t, tc)
	require.Equal(t, http.StatusAccepted, post().StatusCode, "the workflow exists: the order is accepted")
	_, err := st.GetOrder(context.Background(), sampleRequest().OrderID)
	require.NoError(t, err, "the order of a running workflow is kept")
}

func TestStartThatCertainlyFailedForgetsTheOrder(t *testing.T) {
	tc := &flakyTemporal{startErr: errors.New("namespace unavailable"), describeErr: serviceerror.NewNotFound("workflow not found")}
	st, post := startServer(t, tc)
	resp := post()
	require.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	require.Equal(t, "5", resp.Header.Get("Retry-After"))
	_, err := st.GetOrder(context.Background(), sampleRequest().OrderID)
	require.ErrorIs(t, err, store.ErrNotFound, "no workflow, no half-made order")
}

func TestStartOfUnknownOutcomeKeepsTheOrderForTheRetry(t *testing.T) {
	tc := &flakyTemporal{startErr: lostAnswer, describeErr: errors.New("connection refused")}
	st, post := startServer(t, tc)
	require.Equal(t, http.StatusServiceUnavailable, post().StatusCode)
	_, err := st.GetOrder(context.Background(), sampleRequest().OrderID)
	require.NoError(t, err, "the workflow may exist: its order must not be forgotten")

	// Temporal is back: the shop's retry starts the saga of the same order.
	tc.startErr, tc.describeErr = nil, nil
	resp := post()
	require.Equal(t, http.StatusAccepted, resp.StatusCode)
	require.Equal(t, "true", resp.Header.Get("Idempotent-Replayed"))
	require.Equal(t, 2, tc.starts, "one failed start, one on the retry")
}

// A field the API does not know is refused by name, even one that looks
// harmless, and nothing is recorded or started.
func TestUnknownFieldIsRefusedByName(t *testing.T) {
	tc := &flakyTemporal{}
	st, h := newServer(t, tc)
	for field, body := range map[string]string{
		"status":            strings.Replace(validOrder, `"plan":`, `"status":"installer_ready","plan":`, 1),
		"customer.is_admin": strings.Replace(validOrder, `"company":`, `"is_admin":true,"company":`, 1),
	} {
		req := httptest.NewRequest("POST", "/v1/orders", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer shop-key")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		require.Equal(t, http.StatusBadRequest, w.Code, w.Body.String())
		var eb ErrorBody
		require.NoError(t, json.Unmarshal(w.Body.Bytes(), &eb))
		require.Equal(t, "unknown_field", eb.Error.Code)
		require.Contains(t, eb.Error.Field, field[strings.LastIndexByte(field, '.')+1:], w.Body.String())
	}
	_, err := st.GetOrder(context.Background(), "shop-123")
	require.ErrorIs(t, err, store.ErrNotFound)
	require.Zero(t, tc.starts)
}
