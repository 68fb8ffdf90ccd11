package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/proctest"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
)

// TestTwoWorkersOneKilledMidRun runs a second worker as its own process
// beside the in-process one, sends orders through both, kills the second
// with SIGKILL while orders are in flight, and checks that every order
// still ends installer_ready with one tenant, one subscription and one
// recorded email of each kind: nothing in a worker's memory matters.
func TestTwoWorkersOneKilledMidRun(t *testing.T) {
	w := startWorkerProcess(t)

	const n = 12
	ids := make([]string, n)
	emails := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		o := newOrder(t)
		ids[i], emails[i] = o["order_id"].(string), o["customer"].(map[string]any)["email"].(string)
		require.Equal(t, 202, place(t, o).Status)
		wg.Add(1)
		go func(id, email string) {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if _, err := st.Sink.WaitFor(ctx, func(m mail.Received) bool {
				return len(m.To) == 1 && m.To[0] == email && strings.Contains(m.MessageID, ".billing_access@")
			}); err != nil {
				t.Errorf("order %s: %v", id, err)
				return
			}
			if a := notify(t, intake.Notification{OrderID: id, PaymentID: "pay-" + id, Status: "completed", Amount: "332.10", Currency: "PLN"}); a.Status != 200 {
				t.Errorf("order %s: payment answered %d", id, a.Status)
			}
		}(ids[i], emails[i])
	}

	// Kill the second worker once some orders are done and others are not.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	done := make(chan string, n)
	for _, id := range ids {
		go func(id string) {
			_ = st.Client.GetWorkflow(ctx, workflows.WorkflowID(id), "").Get(ctx, nil)
			done <- id
		}(id)
	}
	for range 3 {
		<-done
	}
	w.Kill(t)
	for range n - 3 {
		select {
		case <-done:
		case <-ctx.Done():
			t.Fatal("orders did not finish after the worker was killed")
		}
	}
	wg.Wait()

	pidPrefix := identityPrefix(w)
	byKilled := 0
	for i, id := range ids {
		require.Equal(t, order.InstallerReady, waitDone(t, id).Status, id)
		require.Equal(t, "installer_ready", getOrder(t, id).Body["status"])
		require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM tenants WHERE order_id = $1`, id))
		require.Equal(t, 1, dbCount(t, `SELECT count(*) FROM subscriptions WHERE order_id = $1`, id))
		// The saga's four and the VAT invoice's from KSeF's workflow.
		ksefDone(t, documentsOf(t, id)[1]["id"].(string))
		require.Equal(t, 5, dbCount(t, `SELECT count(*) FROM sent_emails WHERE order_id = $1`, id))
		require.Equal(t, 5, distinctMessageIDs(emails[i]), "every email reached the customer, under one Message-ID per kind")
		byKilled += activitiesBy(t, id, pidPrefix)
	}
	require.Positive(t, byKilled, "the killed worker had done part of the work")
	t.Logf("activities run by the killed worker: %d", byKilled)
}

var (
	workerBuild    sync.Once
	workerBin      string
	workerBuildErr error
	workerCleanup  func() // removes the binary; called by TestMain
)

// workerBinary builds ../worker once for the whole package.
func workerBinary(t *testing.T) string {
	t.Helper()
	workerBuild.Do(func() {
		workerBin, workerCleanup, workerBuildErr = proctest.Build("../worker")
	})
	require.NoError(t, workerBuildErr)
	return workerBin
}

// startWorkerProcess starts a worker process against the test stack
// (Temporal, PostgreSQL, the tenant API fake and the mail sink) and waits
// until it runs; env adds or overrides variables (e.g.
// TEMPORAL_TASK_QUEUE=...). The process is stopped when the test ends.
func startWorkerProcess(t *testing.T, env ...string) *proctest.Process {
	t.Helper()
	return proctest.Start(t, workerBinary(t), proctest.Options{Ready: "officeflow is running", Env: append([]string{
		"TEMPORAL_ADDRESS=" + st.Temporal.Address(), "DATABASE_URL=" + os.Getenv("DATABASE_URL"),
		"PARTNER_API_URL=" + st.FakeURL, "SMTP_HOST=" + st.Sink.Host(), "SMTP_PORT=" + strconv.Itoa(st.Sink.Port()), "SMTP_TLS=none",
		"CREDENTIALS_KEY=" + base64.StdEncoding.EncodeToString(cfg.CredentialsKey), "METRICS_ADDR=",
		"PAYLOAD_KEYS=" + cfg.PayloadKeysEnv(),
		// KSeF: the stack's fake, for the seller the stack's documents name.
		"KSEF_URL=" + st.KSeFFakeURL, "KSEF_TOKEN=" + config.DevKSeFToken, "SELLER_NAME=" + store.DefaultSeller.Name,
		"SELLER_ADDRESS=" + store.DefaultSeller.Address, "SELLER_POSTAL_CODE=" + store.DefaultSeller.PostalCode,
		"SELLER_CITY=" + store.DefaultSeller.City, "SELLER_NIP=" + store.DefaultSeller.NIP,
		"SELLER_BANK_ACCOUNT=" + store.DefaultSeller.BankAccount, "KSEF_OFFLINE_AFTER=10s",
	}, env...)})
}

// identityPrefix starts the Temporal identity of the process's worker.
func identityPrefix(p *proctest.Process) string { return fmt.Sprintf("%d@", p.Pid()) }

func distinctMessageIDs(to string) int {
	seen := map[string]bool{}
	for _, m := range st.Sink.Messages() {
		if len(m.To) == 1 && m.To[0] == to {
			seen[m.MessageID] = true
		}
	}
	return len(seen)
}

// activitiesBy counts the order's activity attempts started by a worker
// whose identity begins with prefix.
func activitiesBy(t *testing.T, orderID, prefix string) int {
	it := st.Client.GetWorkflowHistory(context.Background(), workflows.WorkflowID(orderID), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		e, err := it.Next()
		require.NoError(t, err)
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil && strings.HasPrefix(a.Identity, prefix) {
			n++
		}
		if a := e.GetWorkflowTaskStartedEventAttributes(); a != nil && strings.HasPrefix(a.Identity, prefix) {
			n++
		}
	}
	return n
}
