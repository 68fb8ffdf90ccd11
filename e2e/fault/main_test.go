// Package fault runs 200 orders at a time through the whole product while
// a part of it misbehaves: the worker process is killed, PostgreSQL goes
// away, the mail server refuses and drops connections, the tenant API
// fails, throttles, hangs and loses answers, the payment gateway
// (Przelewy24's fake, 100 orders paid through it) loses and repeats its
// notifications and the answers to refunds, KSeF (the national e-invoicing
// system, its fake) is down while the orders are paid, throttles and loses
// answers. Each test then counts what every side holds (PostgreSQL, the
// mail sink, the tenant API fake, KSeF's fake) and checks that nothing was
// lost and nothing happened twice.
//
// The stack of TestMain (embedded Temporal, PostgreSQL database of its own,
// intake API, tenant API fake, mail sink) runs in the test process with its
// worker on the default task queue; each test's orders go to a task queue
// of their own that only a separately started worker process serves, so
// that the process can be killed or cut off without touching the stack.
// Each test places its orders through an intake API instance of its own
// (the stack's intake with the test's task queue), so the worker, SMTP,
// PostgreSQL, hostile-orders, gateway and KSeF tests run in parallel (up
// to -parallel, GOMAXPROCS by default); the tenant API test injects faults
// into the shared fake and runs alone, before them. Worker processes issue
// every paid order's VAT invoice through the stack's KSeF fake (as the
// seller of -dev), except the KSeF test's, whose faults reach a fake of
// its own.
//
//	go test ./e2e/fault -count=1 -v            # all of them, with the tables
//	go test ./... -run Fault                    # with the rest of the repo
//	FAULT_ORDERS=50 FAULT_SEED=7 go test ./e2e/fault -run Killed -v
//
// FAULT_ORDERS (200) sets the orders per test (the gateway test's are at
// most 100, and at least 5 for it to run), FAULT_SEED the kill moments,
// FAULT_TIMEOUT (10m) how long a test waits for its orders to end.
package fault

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/officeflow/officeflow/internal/proctest"
	"github.com/officeflow/officeflow/internal/stack"
	"go.uber.org/zap"
)

var (
	st  *stack.Stack
	cfg config.Config // what the stack was started with
	// workerBin is ../../worker, built once for the package.
	workerBin string
	// partner is the tenant API fake behind a recorder of every request;
	// worker processes reach the fake through it.
	partner *recorder
	// ksefCalls is the stack's KSeF fake behind a recorder: worker
	// processes issue their VAT invoices through it (see workerEnv).
	ksefCalls *recorder
	// dbURL is the test database, straight (the proxy of the PostgreSQL
	// test forwards to the server of this URL).
	dbURL string
)

const (
	shopKey = "fault-shop-key"
	// otherShopKey is a second web shop's (TestFaultHostileOrders).
	otherShopKey = "fault-other-shop-key"
	secret       = "fault-webhook-secret"
)

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	ctx := context.Background()
	var drop func()
	var err error
	dbURL, drop, err = pgtest.NewDatabase("officeflow_fault")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault: postgres:", err)
		return 1
	}
	defer drop()

	// The worker binary builds while the stack starts; every return below
	// receives from built first, so the deferred cleanup sees its result.
	built := make(chan error, 1)
	var binCleanup func()
	go func() {
		var err error
		workerBin, binCleanup, err = proctest.Build("../../worker")
		built <- err
	}()
	defer func() {
		if binCleanup != nil {
			binCleanup()
		}
	}()
	// The e2e package and this one take turns (see pgtest.Turn).
	release, err := pgtest.Turn(ctx, "e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault: turn:", err)
		<-built
		return 1
	}
	defer release()

	for k, v := range map[string]string{
		"DATABASE_URL": dbURL, "HTTP_ADDR": "127.0.0.1:0", "TEMPORAL_ADDRESS": "127.0.0.1:0",
		"INTAKE_API_KEYS": shopKey + "," + otherShopKey, "PAYMENT_WEBHOOK_SECRET": secret,
		// No deadline and no reminder falls inside a test.
		"PAYMENT_DEADLINE": "168h", "METRICS_ADDR": "",
		// The stack's worker sweeps owed Przelewy24 refunds of every task
		// queue; those of TestFaultGateway are its worker process's to send
		// (and to be killed over), so the stack's sweep waits past the runs.
		"P24_REFUND_SWEEP": "1h",
	} {
		os.Setenv(k, v)
	}
	cfg, err = config.Load(true)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault: config:", err)
		<-built
		return 1
	}
	log := zap.NewNop()
	if os.Getenv("E2E_LOG") != "" {
		log, _ = zap.NewDevelopment()
	}
	st, err = stack.Start(ctx, stack.Options{Config: cfg, Logger: log, EmbedTemporal: true, Worker: true, Intake: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fault: stack:", err)
		<-built
		return 1
	}
	defer st.Close()
	partner = newRecorder(st.Fake)
	srv := httptest.NewServer(partner)
	defer srv.Close()
	partner.url = srv.URL
	// Every VAT invoice goes to KSeF, whose fake validates it against the
	// Ministry's schema as KSeF does (hostile orders' text included).
	setSchema(st.KSeFFake)
	ksefCalls = newRecorder(st.KSeFFake.Handler())
	ksefSrv := httptest.NewServer(ksefCalls)
	defer ksefSrv.Close()
	ksefCalls.url = ksefSrv.URL

	if err := <-built; err != nil {
		fmt.Fprintln(os.Stderr, "fault:", err)
		return 1
	}
	return m.Run()
}
