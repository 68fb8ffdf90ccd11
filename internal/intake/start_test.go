package intake

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
)

// placingTemporal answers the intake's Update-with-Start as OrderWorkflow
// does (placeInline, on the test's PostgreSQL), or fails every call with
// down; it keeps what it was asked.
type placingTemporal struct {
	client.Client // nil: a call the test does not expect panics (500)
	st            *store.Store
	down          error
	placements    int
	opts          []client.StartWorkflowOptions
	updates       []client.UpdateWorkflowOptions
}

func (f *placingTemporal) NewWithStartWorkflowOperation(o client.StartWorkflowOptions, wf any, args ...any) client.WithStartWorkflowOperation {
	return newStartOp(o, args)
}

func (f *placingTemporal) UpdateWithStartWorkflow(ctx context.Context, o client.UpdateWithStartWorkflowOptions) (client.WorkflowUpdateHandle, error) {
	f.placements++
	f.opts = append(f.opts, o.StartWorkflowOperation.(*startOp).opts)
	f.updates = append(f.updates, o.UpdateOptions)
	if f.down != nil {
		return nil, f.down
	}
	return placeInline(ctx, f.st, o)
}

// newServer is a real Server on a fresh PostgreSQL database and tc.
func newServer(t *testing.T, tc *placingTemporal) (*store.Store, http.Handler) {
	t.Helper()
	url, drop, err := pgtest.NewDatabase("officeflow_intake")
	require.NoError(t, err)
	t.Cleanup(drop)
	st, err := store.Open(context.Background(), url)
	require.NoError(t, err)
	t.Cleanup(st.Close)
	tc.st = st
	return st, (&Server{
		Store: st, Temporal: tc, TaskQueue: "orders", Keys: []string{"shop-key"},
		Deadline: 168 * time.Hour, Log: zap.NewNop(),
	}).Handler()
}

// answer is a response with its body read.
type reply struct {
	*http.Response
	body []byte
}

func (a reply) placed(t *testing.T) Placed {
	t.Helper()
	var p Placed
	require.NoError(t, json.Unmarshal(a.body, &p), string(a.body))
	return p
}

func (a reply) errorCode(t *testing.T) string {
	t.Helper()
	var eb ErrorBody
	require.NoError(t, json.Unmarshal(a.body, &eb), string(a.body))
	return eb.Error.Code
}

func startServer(t *testing.T, tc *placingTemporal) (*store.Store, func(body string) reply) {
	t.Helper()
	st, h := newServer(t, tc)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	post := func(body string) reply {
		req, err := http.NewRequest("POST", srv.URL+"/v1/orders", strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer shop-key")
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		resp.Body.Close()
		return reply{resp, b}
	}
	return st, post
}

const validOrder = `{"order_id":"shop-123","customer":{"company":"Acme sp. z o.o.","email":"it@acme.pl","first_name":"Jan","last_name":"Kowalski","tax_id":"5260250995","country":"PL","city":"Warszawa","postal_code":"00-001","address_line1":"ul. Prosta 1"},"plan":"business-standard","seats":5,"domain_prefix":"acme","billing_cycle":"monthly","language":"pl"}`

// otherOrder is validOrder under another order id (and so, the same domain).
func otherOrder(id string) string {
	return strings.Replace(validOrder, `"shop-123"`, `"`+id+`"`, 1)
}

func rows(t *testing.T, st *store.Store, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, st.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

// An order is placed by Update-with-Start: the workflow (here in process)
// records it and answers placed; the intake itself writes nothing.
func TestPlaceStartsTheWorkflowWithThePlacement(t *testing.T) {
	tc := &placingTemporal{}
	st, post := startServer(t, tc)
	a := post(validOrder)
	require.Equal(t, http.StatusAccepted, a.StatusCode, string(a.body))
	require.Empty(t, a.Header.Get("Idempotent-Replayed"))
	p := a.placed(t)
	require.Equal(t, "placed", p.Status)
	require.Equal(t, workflows.WorkflowID("shop-123"), p.WorkflowID)
	// The deadline counts from placement, truncated to the second as before.
	d := p.PaymentDeadline.Sub(p.PlacedAt)
	require.True(t, d > 168*time.Hour-time.Second && d <= 168*time.Hour, "the deadline counts from placement: %v", d)
	o, err := st.GetOrder(context.Background(), "shop-123")
	require.NoError(t, err)
	require.True(t, p.PlacedAt.Equal(o.PlacedAt), "the row keeps the placement time the intake computed: %v %v", p.PlacedAt, o.PlacedAt)

	require.Len(t, tc.opts, 1)
	o0 := tc.opts[0]
	require.Equal(t, workflows.WorkflowID("shop-123"), o0.ID)
	require.Equal(t, enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING, o0.WorkflowIDConflictPolicy)
	require.Equal(t, enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE, o0.WorkflowIDReusePolicy)
	require.Equal(t, workflows.UpdatePlace, tc.updates[0].UpdateName)
	require.Equal(t, client.WorkflowUpdateStageCompleted, tc.updates[0].WaitForStage)
}

// Temporal cannot be reached: 503 with Retry-After, and nothing is written
// (no order, no customer, no reservation); the retry places it.
func TestTemporalDownIs503AndNothingIsWritten(t *testing.T) {
	tc := &placingTemporal{down: serviceerror.NewUnavailable("connection refused")}
	st, post := startServer(t, tc)
	a := post(validOrder)
	require.Equal(t, http.StatusServiceUnavailable, a.StatusCode)
	require.Equal(t, "5", a.Header.Get("Retry-After"))
	require.Equal(t, "unavailable", a.errorCode(t))
	for _, table := range []string{"orders", "customers", "domain_reservations", "order_events"} {
		require.Zero(t, rows(t, st, `SELECT count(*) FROM `+table), "nothing in %s", table)
	}

	tc.down = nil
	a = post(validOrder)
	require.Equal(t, http.StatusAccepted, a.StatusCode, string(a.body))
	require.Empty(t, a.Header.Get("Idempotent-Replayed"), "the first placement that went through")
}

// A repeat of an order whose workflow recorded it is answered from the
// database, read only: the same body -> the same 202, Idempotent-Replayed;
// another body -> 409. Temporal is not asked (its workflow may be closed).
func TestRepeatOfARecordedOrderIsAnsweredFromTheDatabase(t *testing.T) {
	tc := &placingTemporal{}
	st, post := startServer(t, tc)
	first := post(validOrder)
	require.Equal(t, http.StatusAccepted, first.StatusCode)

	tc.down = errors.New("must not be called")
	again := post(validOrder)
	require.Equal(t, http.StatusAccepted, again.StatusCode, string(again.body))
	require.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))
	require.Equal(t, first.placed(t), again.placed(t), "the same answer")

	other := post(strings.Replace(validOrder, `"seats":5`, `"seats":6`, 1))
	require.Equal(t, http.StatusConflict, other.StatusCode)
	require.Equal(t, "order_id_conflict", other.errorCode(t))
	require.Equal(t, 1, tc.placements, "neither repeat reached Temporal")
	require.Equal(t, 1, rows(t, st, `SELECT count(*) FROM orders`))
	require.Equal(t, 1, rows(t, st, `SELECT count(*) FROM customers`))
}

// The workflow refuses a placement of an id placed with another request
// (a repeat that raced the first past the intake's read of the database):
// its typed refusal is 409 order_id_conflict.
func TestConflictAnsweredByTheWorkflowIs409(t *testing.T) {
	tc := &placingTemporal{down: temporal.NewApplicationError("order shop-123 was placed before with different content", fail.OrderConflict)}
	st, post := startServer(t, tc)
	a := post(validOrder)
	require.Equal(t, http.StatusConflict, a.StatusCode, string(a.body))
	require.Equal(t, "order_id_conflict", a.errorCode(t))
	require.Zero(t, rows(t, st, `SELECT count(*) FROM orders`))
}

// A domain another live order holds: 409 domain_taken, and nothing is
// recorded for the order; once the domain is free again the same id may be
// placed (its earlier run ended without an order; the reuse policy allows
// a new one).
func TestTakenDomainIs409AndTheIdMayBePlacedLater(t *testing.T) {
	tc := &placingTemporal{}
	st, post := startServer(t, tc)
	require.Equal(t, http.StatusAccepted, post(validOrder).StatusCode)

	a := post(otherOrder("shop-200"))
	require.Equal(t, http.StatusConflict, a.StatusCode, string(a.body))
	require.Equal(t, "domain_taken", a.errorCode(t))
	_, err := st.GetOrder(context.Background(), "shop-200")
	require.ErrorIs(t, err, store.ErrNotFound, "a rejected placement leaves no order")
	require.Equal(t, 1, rows(t, st, `SELECT count(*) FROM customers`), "nor a customer")

	require.NoError(t, st.ReleaseReservation(context.Background(), "shop-123"))
	a = post(otherOrder("shop-200"))
	require.Equal(t, http.StatusAccepted, a.StatusCode, string(a.body))
	require.Empty(t, a.Header.Get("Idempotent-Replayed"))
	require.Equal(t, 3, tc.placements)
}

// A field the API does not know is refused by name, even one that looks
// harmless, and nothing is recorded or started.
func TestUnknownFieldIsRefusedByName(t *testing.T) {
	tc := &placingTemporal{}
	st, h := newServer(t, tc)
	for field, body := range map[string]string{
		"status":            strings.Replace(validOrder, `"plan":`, `"status":"installer_ready","plan":`, 1),
		"customer.is_admin": strings.Replace(validOrder, `"company":`, `"is_admin":true,"company":`, 1),
	} {
		req := httptest.NewRequest("POST", "/v1/orders", bytes.NewReader([]byte(body)))
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
	require.Zero(t, tc.placements)
}
