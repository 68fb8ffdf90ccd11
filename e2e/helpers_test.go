package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
)

var seq atomic.Int64

// newOrder is a valid order body with a fresh id and domain.
func newOrder(t *testing.T) map[string]any {
	n := seq.Add(1)
	id := fmt.Sprintf("%s-%d-%d", strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")), time.Now().UnixNano()%1e6, n)
	if len(id) > 60 {
		id = id[len(id)-60:]
		id = strings.TrimLeft(id, "-_.")
	}
	return map[string]any{
		"order_id": id,
		"customer": map[string]any{
			"company": "Acme sp. z o.o.", "email": fmt.Sprintf("it-%d@acme.pl", n), "first_name": "Jan", "last_name": "Kowalski",
			"tax_id": "5260250995", "country": "PL", "city": "Warszawa", "postal_code": "00-001", "address_line1": "ul. Prosta 1",
		},
		"plan": "business-standard", "seats": 5, "domain_prefix": fmt.Sprintf("acme%d%d", time.Now().UnixNano()%1e6, n),
		"billing_cycle": "monthly", "language": "pl",
	}
}

type answer struct {
	Status int
	Body   map[string]any
	Raw    []byte
	Header http.Header
}

func (a answer) errField() string {
	e, _ := a.Body["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

func call(t *testing.T, method, path, key string, body any, header ...string) answer {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		r = bytes.NewReader(b)
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, "http://"+st.HTTPAddr+path, r)
	require.NoError(t, err)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{Status: resp.StatusCode, Raw: raw, Header: resp.Header}
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &a.Body), "answer is JSON: %s", raw)
	}
	return a
}

// emailOf is the customer's address of an order body.
func emailOf(o map[string]any) string { return o["customer"].(map[string]any)["email"].(string) }

// placeAndPay places the order, waits until its pro-forma is out, and sends
// a signed notification of the given status for the invoice's full amount.
func placeAndPay(t *testing.T, o map[string]any, status string) string {
	t.Helper()
	id := o["order_id"].(string)
	a := place(t, o)
	require.Equal(t, 202, a.Status, string(a.Raw))
	waitMail(t, emailOf(o), "billing_access")
	n := notify(t, intake.Notification{OrderID: id, PaymentID: status + "-" + id, Status: status, Amount: "332.10", Currency: "PLN"})
	require.Equal(t, 200, n.Status, string(n.Raw))
	return id
}

func place(t *testing.T, o map[string]any) answer {
	return call(t, "POST", "/v1/orders", shopKey, o)
}

func getOrder(t *testing.T, id string) answer {
	return call(t, "GET", "/v1/orders/"+id, shopKey, nil)
}

// notify sends a payment notification signed with the webhook secret.
func notify(t *testing.T, n intake.Notification) answer {
	raw, err := json.Marshal(n)
	require.NoError(t, err)
	return call(t, "POST", "/v1/payments/notifications", "", raw, "X-Signature", intake.Sign([]byte(secret), raw))
}

// waitStatus waits for the saga to report status through its query. The
// query is answered by the worker from workflow state, so this waits on the
// real thing without reading the database in a loop.
func waitStatus(t *testing.T, orderID, status string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for {
		v, err := st.Client.QueryWorkflow(ctx, workflows.WorkflowID(orderID), "", workflows.QueryStatus)
		if err == nil {
			var sv workflows.StatusView
			require.NoError(t, v.Get(&sv))
			if string(sv.Status) == status {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("order %s never reached %s (last error %v)", orderID, status, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// waitDone waits for the saga to finish and returns how it ended.
func waitDone(t *testing.T, orderID string) workflows.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var r workflows.Result
	require.NoError(t, st.Client.GetWorkflow(ctx, workflows.WorkflowID(orderID), "").Get(ctx, &r))
	return r
}

func waitMail(t *testing.T, to, kindWord string) mail.Received {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := st.Sink.WaitFor(ctx, func(m mail.Received) bool {
		return len(m.To) == 1 && m.To[0] == to && strings.Contains(m.MessageID, "."+kindWord+"@")
	})
	require.NoError(t, err, "no %s email to %s", kindWord, to)
	return m
}

func mailsTo(to string) int {
	n := 0
	for _, m := range st.Sink.Messages() {
		if len(m.To) == 1 && m.To[0] == to {
			n++
		}
	}
	return n
}

func workflowExists(t *testing.T, orderID string) bool {
	_, err := st.Client.DescribeWorkflowExecution(context.Background(), workflows.WorkflowID(orderID), "")
	var nf *serviceerror.NotFound
	if err != nil {
		require.ErrorAs(t, err, &nf)
		return false
	}
	return true
}

func dbCount(t *testing.T, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, st.Store.Pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func runsOf(t *testing.T, orderID string) int {
	waitListed(t, "WorkflowId = '"+workflows.WorkflowID(orderID)+"' AND ExecutionStatus = 'Completed'", 1)
	resp, err := st.Client.ListWorkflow(context.Background(), listQuery("WorkflowId = '"+workflows.WorkflowID(orderID)+"'"))
	require.NoError(t, err)
	return len(resp.Executions)
}

// waitListed waits until a visibility query finds n workflows: visibility
// is written after the history, so it may lag a moment behind.
func waitListed(t *testing.T, query string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		resp, err := st.Client.ListWorkflow(ctx, listQuery(query))
		if err == nil && len(resp.Executions) == n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("query %q never found %d workflows (last error %v)", query, n, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func listQuery(q string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: q}
}
