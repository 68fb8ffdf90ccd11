// Package bench measures what officeflow costs on top of Temporal itself: it
// runs the saga through the intake API beside FloorWorkflow, a workflow of
// the same shape whose activities do nothing, on one in-process stack, and
// compares the two against the goals of the performance issue.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/pgtest"
	"github.com/officeflow/officeflow/internal/stack"
	"github.com/officeflow/officeflow/workflows"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Persistence of the embedded Temporal server.
const (
	PersistenceSQLite   = "sqlite"
	PersistencePostgres = "postgres"
)

// historySample is how many orders of each kind have their history counted.
const historySample = 20

// Options say how big a run is. Config is what config.Load(true) gives: the
// embedded Temporal and the intake listen where it says; the order store gets
// a fresh database on DATABASE_URL's server (dropped at the end), and the
// tenant API fake and the mail sink are always used.
type Options struct {
	Config      config.Config
	Logger      *zap.Logger
	Orders      int    // N, for the floor, the saga and the accept rates
	Concurrency int    // orders in flight
	Waiting     int    // orders left at awaiting_payment for the memory figure
	Persistence string // PersistenceSQLite or PersistencePostgres
	// TemporalPostgres is the database of Temporal's own state with
	// PersistencePostgres; Run makes and drops a fresh one when it is "".
	TemporalPostgres string
	// TemporalLog is the file the embedded Temporal server logs to (its
	// warnings and errors, its shutdown's among them), so that none reach
	// the terminal; "" makes a new one in os.TempDir. Run names it in the
	// first line it writes, and leaves it for people to read.
	TemporalLog string
	// SQLiteFile keeps the embedded server's SQLite state in a file, in a
	// temporary directory removed at the end, instead of in memory, so
	// that its growth per waiting order is measured. Only with
	// PersistenceSQLite.
	SQLiteFile bool

	tracer         pgx.QueryTracer
	temporalLogger *zap.Logger
	temporalDB     string // the SQLite file with SQLiteFile
}

// stackOptions is the one place where a run's options become the stack's.
func stackOptions(o Options) stack.Options {
	so := stack.Options{
		Config: o.Config, Logger: o.Logger, EmbedTemporal: true, Worker: true, Intake: true,
		Service: "officeflow-bench", PgxTracer: o.tracer, TemporalLogger: o.temporalLogger,
	}
	if o.Persistence == PersistencePostgres {
		so.TemporalPostgres = o.TemporalPostgres
	} else {
		so.TemporalDB = o.temporalDB
	}
	return so
}

func (o *Options) check() error {
	switch {
	case o.Orders < 1:
		return errors.New("bench: orders must be at least 1")
	case o.Concurrency < 1:
		return errors.New("bench: concurrency must be at least 1")
	case o.Waiting < 1:
		return errors.New("bench: waiting must be at least 1")
	case o.Persistence == "":
		o.Persistence = PersistenceSQLite
	case o.Persistence != PersistenceSQLite && o.Persistence != PersistencePostgres:
		return fmt.Errorf("bench: persistence %q: want sqlite or postgres", o.Persistence)
	}
	if o.SQLiteFile && o.Persistence != PersistenceSQLite {
		return errors.New("bench: a SQLite file is for Temporal on sqlite")
	}
	return nil
}

// Run starts a stack, runs the phases in order (warm-up, floor, saga,
// document cost, accept rates, waiting orders), stops the stack and
// returns the figures. It writes to w the line that names the embedded
// server's log file first, and the table last, once everything has
// stopped.
func Run(ctx context.Context, o Options, w io.Writer) (Result, error) {
	if err := o.check(); err != nil {
		return Result{}, err
	}
	if o.Logger == nil {
		o.Logger = zap.NewNop()
	}
	var logFile *os.File
	var err error
	if o.TemporalLog == "" {
		logFile, err = os.CreateTemp("", "officeflow-bench-temporal-*.log")
	} else {
		logFile, err = os.Create(o.TemporalLog)
	}
	if err != nil {
		return Result{}, fmt.Errorf("bench: the Temporal server's log: %w", err)
	}
	o.TemporalLog = logFile.Name()
	if _, err := fmt.Fprintf(w, "officeflow bench: the embedded Temporal server logs to %s\n", o.TemporalLog); err != nil {
		_ = logFile.Close()
		return Result{}, err
	}
	// Anything the server still logs once the file is closed is dropped,
	// not reported on stderr.
	o.temporalLogger = zap.New(zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.Lock(logFile), zap.DebugLevel),
		zap.ErrorOutput(zapcore.AddSync(io.Discard)))
	res, err := run(ctx, o)
	_ = o.temporalLogger.Sync()
	_ = logFile.Close()
	if err != nil {
		return res, err
	}
	return res, Render(w, res)
}

// run is Run's run, from the stack's start to its stop.
func run(ctx context.Context, o Options) (Result, error) {
	// The worker's garbage collector target (stack.TuneGC), for the whole
	// process: the floor and the saga run with the same.
	gogc := stack.TuneGC()
	if o.SQLiteFile {
		dir, err := os.MkdirTemp("", "officeflow-bench-sqlite-*")
		if err != nil {
			return Result{}, err
		}
		defer os.RemoveAll(dir)
		o.temporalDB = filepath.Join(dir, "temporal.db")
	}
	storeURL, dropStore, err := pgtest.NewDatabase("officeflow_bench")
	if err != nil {
		return Result{}, err
	}
	defer dropStore()
	o.Config.DatabaseURL = storeURL
	// The bench waits on the sink and makes tenants in the fake; it exports
	// nothing, so that runs compare.
	o.Config.SMTP.Host, o.Config.PartnerAPIURL, o.Config.MetricsAddr, o.Config.OTLPEndpoint = "", "", "", ""
	if o.Persistence == PersistencePostgres && o.TemporalPostgres == "" {
		tURL, drop, err := pgtest.NewDatabase("temporal_bench")
		if err != nil {
			return Result{}, err
		}
		defer drop()
		// The server keeps visibility in a second database beside it.
		defer func() {
			if err := dropDatabase(tURL, databaseName(tURL)+"_visibility"); err != nil {
				o.Logger.Warn("bench: dropping the visibility database", zap.Error(err))
			}
		}()
		o.TemporalPostgres = tURL
	}
	queries := &queryCounter{}
	if os.Getenv("BENCH_SQL") != "" {
		queries.bySQL = map[string]int{}
		defer queries.print(os.Stderr, o.Orders+o.Orders+o.Waiting)
	}
	o.tracer = queries

	st, err := stack.Start(ctx, stackOptions(o))
	if err != nil {
		return Result{}, err
	}
	defer st.Close()
	floor, floorActs, err := startFloorWorker(st.Client)
	if err != nil {
		return Result{}, err
	}
	defer floor.Stop()
	mailCtx, stopMail := context.WithCancel(ctx)
	defer stopMail()
	id := make([]byte, 4)
	_, _ = rand.Read(id)
	r := &runner{
		o: o, st: st, floor: floorActs, mail: watchMail(mailCtx, st.Sink), id: hex.EncodeToString(id),
		deadline: time.Now().Add(o.Config.PaymentDeadline),
	}
	r.shop = r.client("http://" + st.HTTPAddr)
	pg, err := newPGStats(storeURL)
	if err != nil {
		return Result{}, err
	}
	res := Result{Persistence: o.Persistence, Orders: o.Orders, Concurrency: o.Concurrency, Waiting: o.Waiting, GOGC: gogc}
	if err := r.warmUp(ctx); err != nil {
		return res, err
	}
	warmedUp := time.Now()
	if err := r.floorPhase(ctx, &res); err != nil {
		return res, err
	}
	if err := r.sagaPhase(ctx, &res, pg, queries, warmedUp); err != nil {
		return res, err
	}
	if err := r.documentCost(ctx, &res); err != nil {
		return res, err
	}
	if err := r.acceptPhase(ctx, &res); err != nil {
		return res, err
	}
	if err := r.waitingPhase(ctx, &res); err != nil {
		return res, err
	}
	res.fill()
	return res, nil
}

func (r *runner) floorPhase(ctx context.Context, res *Result) error {
	n, c := r.o.Orders, r.o.Concurrency
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("bench-%s-floor%d", r.id, i)
	}
	stop, err := profile(".floor")
	if err != nil {
		return err
	}
	defer stop()
	cpu := cpuSeconds()
	lat, wall, err := timed(ctx, n, c, func(ctx context.Context, i int) error {
		return floorOnce(ctx, r.st.Client, ids[i], r.deadline)
	})
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	// Each order's KSeF workflow is part of its cost: the CPU is read once
	// they have all ended, as the saga's is.
	took, err := r.floorKSeFDone(ctx, ids)
	if err != nil {
		return fmt.Errorf("floor: %w", err)
	}
	res.Floor.measured(lat, wall, cpuSeconds()-cpu)
	res.KSeF.FloorP50MS, res.KSeF.FloorP95MS = percentileMS(took, 0.50), percentileMS(took, 0.95)
	res.Floor.HistoryEventsAvg, res.Floor.HistoryEventsMax, err = historyEvents(ctx, r.st.Client, ids[:min(n, historySample)])
	if err != nil {
		return err
	}
	ksefIDs := make([]string, min(n, historySample))
	for i := range ksefIDs {
		ksefIDs[i] = floorKSeFID(ids[i])
	}
	res.KSeF.FloorHistoryEventsAvg, _, err = historyEvents(ctx, r.st.Client, ksefIDs)
	if err == nil && os.Getenv("BENCH_STEPS") != "" {
		err = stepGaps(ctx, r.st.Client, ids, os.Stderr, "floor")
	}
	return err
}

// floorKSeFDone waits for the floor orders' KSeF workflows and returns how
// long each took from its start to the end of its send step.
func (r *runner) floorKSeFDone(ctx context.Context, orders []string) ([]time.Duration, error) {
	took := make([]time.Duration, len(orders))
	err := each(ctx, len(orders), r.o.Concurrency, func(ctx context.Context, i int) error {
		id := floorKSeFID(orders[i])
		if err := r.st.Client.GetWorkflow(ctx, id, "").Get(ctx, nil); err != nil {
			return fmt.Errorf("%s: %w", id, err)
		}
		var err error
		took[i], err = r.floor.ksefTook(orders[i])
		return err
	})
	return took, err
}

func (r *runner) sagaPhase(ctx context.Context, res *Result, pg pgStats, queries *queryCounter, lastUse time.Time) error {
	n, c := r.o.Orders, r.o.Concurrency
	xacts, err := pg.xacts(ctx, lastUse)
	if err != nil {
		return err
	}
	q, begins, cpu := queries.n.Load(), queries.begins.Load(), cpuSeconds()
	kq, kb, kx := queries.ksef.n.Load(), queries.ksef.begins.Load(), queries.ksef.xacts.Load()
	// BENCH_CPUPROFILE=FILE profiles the saga phase, to see where its CPU
	// goes beyond the floor's (FILE.floor; go tool pprof -diff_base).
	stop, err := profile("")
	if err != nil {
		return err
	}
	defer stop()
	paid := make([]time.Time, n)
	lat, wall, err := timed(ctx, n, c, func(ctx context.Context, i int) error {
		return r.sagaOnce(ctx, r.request("s", i), &paid[i])
	})
	if err != nil {
		return fmt.Errorf("saga: %w", err)
	}
	// Every order reached installer_ready, which the saga sets after the
	// credentials email went out.
	toCredentials := make([]time.Duration, n)
	for i := range toCredentials {
		req := r.request("s", i)
		at, ok := r.mail.credentialsAt(req.Customer.Email)
		if !ok {
			return fmt.Errorf("saga: order %s: no credentials email in the sink", req.OrderID)
		}
		toCredentials[i] = at.Sub(paid[i])
	}
	res.Credentials.P50MS, res.Credentials.P99MS = percentileMS(toCredentials, 0.50), percentileMS(toCredentials, 0.99)
	// Each paid order's invoice goes through a KSeF workflow of its own,
	// which the order does not wait for: the CPU and the store's counts
	// are read once they have all ended, so that they hold each order's
	// whole cost.
	ksefIDs, err := r.awaitKSeF(ctx, n)
	if err != nil {
		return fmt.Errorf("saga: %w", err)
	}
	res.Saga.measured(lat, wall, cpuSeconds()-cpu)
	res.Saga.PlacementsRetried = r.retried.Load()
	res.DB.Queries, res.DB.Begins = queries.n.Load()-q, queries.begins.Load()-begins
	res.KSeF.Documents = len(ksefIDs)
	res.KSeF.Queries, res.KSeF.Begins = queries.ksef.n.Load()-kq, queries.ksef.begins.Load()-kb
	res.KSeF.Transactions = queries.ksef.xacts.Load() - kx
	after, err := pg.xacts(ctx, time.Now())
	if err != nil {
		return err
	}
	res.DB.Transactions = after - xacts
	// Read after the counts, on a connection of its own, so that they hold
	// none of it.
	accepted, err := acceptedAt(ctx, r.o.Config.DatabaseURL)
	if err != nil {
		return err
	}
	issued, fromPaid := make([]time.Duration, n), make([]time.Duration, n)
	for i := range issued {
		id := r.request("s", i).OrderID
		a, ok := accepted[id]
		if !ok {
			return fmt.Errorf("saga: order %s: no invoice accepted by KSeF", id)
		}
		issued[i], fromPaid[i] = a.accepted.Sub(a.issued), a.accepted.Sub(paid[i])
	}
	res.KSeF.P50MS, res.KSeF.P95MS = percentileMS(issued, 0.50), percentileMS(issued, 0.95)
	res.KSeF.PaidP50MS, res.KSeF.PaidP95MS = percentileMS(fromPaid, 0.50), percentileMS(fromPaid, 0.95)
	ids := make([]string, min(n, historySample))
	for i := range ids {
		ids[i] = workflows.WorkflowID(r.request("s", i).OrderID)
	}
	res.Saga.HistoryEventsAvg, res.Saga.HistoryEventsMax, err = historyEvents(ctx, r.st.Client, ids)
	if err != nil {
		return err
	}
	if os.Getenv("BENCH_STEPS") != "" {
		all := make([]string, n)
		for i := range all {
			all[i] = workflows.WorkflowID(r.request("s", i).OrderID)
		}
		if err := stepGaps(ctx, r.st.Client, all, os.Stderr, "saga"); err != nil {
			return err
		}
	}
	res.KSeF.HistoryEventsAvg, _, err = historyEvents(ctx, r.st.Client, ksefIDs[:min(n, historySample)])
	return err
}

// ksefTimes are when an invoice was issued (its ksef_documents row made,
// in the transaction that issues it) and accepted by KSeF.
type ksefTimes struct{ issued, accepted time.Time }

// acceptedAt is when each order's VAT invoice was issued and accepted by
// KSeF, by order id.
func acceptedAt(ctx context.Context, storeURL string) (map[string]ksefTimes, error) {
	conn, err := pgx.Connect(ctx, storeURL)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, `SELECT i.order_id, k.created_at, k.accepted_at FROM ksef_documents k JOIN invoices i ON i.id = k.invoice_id
		WHERE k.status = 'accepted' AND i.order_id IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("ksef_documents: %w", err)
	}
	out := map[string]ksefTimes{}
	for rows.Next() {
		var id string
		var t ksefTimes
		if err := rows.Scan(&id, &t.issued, &t.accepted); err != nil {
			return nil, fmt.Errorf("ksef_documents: %w", err)
		}
		out[id] = t
	}
	return out, rows.Err()
}

// acceptPhase compares what it takes to accept an order: POST /v1/orders
// (the intake's code and the stack's store and client, on a server of its
// own) against intake.Place called directly, the Update-with-Start the
// intake makes. Both place their orders on a task queue of their own whose
// worker runs ParkedOrderWorkflow: the order is recorded as the saga records
// it (the place update, RecordOrder), and then the workflow waits,
// untouched; otherwise each side is slowed by what its workflows then do on
// the same CPUs, which says nothing about the intake.
func (r *runner) acceptPhase(ctx context.Context, res *Result) error {
	n, c := r.o.Orders, r.o.Concurrency
	cfg := r.o.Config
	w := worker.New(r.st.Client, parkedQueue, stack.WorkerOptions())
	w.RegisterWorkflowWithOptions(workflows.ParkedOrderWorkflow, workflow.RegisterOptions{Name: workflows.OrderWorkflowName})
	w.RegisterActivity(&activities.Activities{Store: r.st.Store})
	if err := w.Start(); err != nil {
		return fmt.Errorf("parked worker: %w", err)
	}
	defer w.Stop()
	shop, stop, err := r.intakeOn(parkedQueue)
	if err != nil {
		return err
	}
	defer stop()
	_, wall, err := timed(ctx, n, c, func(ctx context.Context, i int) error {
		req := r.request("a", i)
		if err := again(ctx, &r.intakeRetried, func() error { _, err := shop.Place(ctx, req); return err }); err != nil {
			return fmt.Errorf("place %s: %w", req.OrderID, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("intake accept: %w", err)
	}
	res.Accept.IntakePerSecond = float64(n) / wall.Seconds()
	// The direct side places the same orders the same way (start options,
	// search attributes, memo, summary, the place update), so that the
	// ratio is what the intake itself adds: HTTP, decoding and validation,
	// the key check, and its read of the database for a repeat.
	_, wall, err = timed(ctx, n, c, func(ctx context.Context, i int) error {
		req := r.request("d", i)
		req.Shop = intake.ShopID(cfg.IntakeKeys[0])
		now := time.Now().UTC().Truncate(time.Microsecond)
		var ans workflows.PlaceAnswer
		err := again(ctx, &r.directRetried, func() (err error) {
			ans, err = intake.Place(ctx, r.st.Client, parkedQueue, cfg.PaymentReminders, order.Placement{
				Request: req, Shop: req.Shop, Hash: req.Hash(), PlacedAt: now, Deadline: now.Add(cfg.PaymentDeadline).Truncate(time.Second),
			})
			return err
		})
		if err == nil && ans.Outcome != order.OutcomePlaced {
			err = errors.New(ans.Outcome)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("direct start: %w", err)
	}
	res.Accept.DirectPerSecond = float64(n) / wall.Seconds()
	res.Accept.IntakeRetried, res.Accept.DirectRetried = r.intakeRetried.Load(), r.directRetried.Load()
	return nil
}

// waitingPhase is the memory an order costs while it waits for payment:
// a worker of its own, in a child process (see child.go), before and after
// the waiting orders reach awaiting_payment. They are placed through an
// intake of their own that starts them on that worker's task queue.
func (r *runner) waitingPhase(ctx context.Context, res *Result) error {
	n, c := r.o.Waiting, r.o.Concurrency
	w, err := r.startChild(ctx)
	if err != nil {
		return fmt.Errorf("waiting orders: %w", err)
	}
	defer w.stop()
	shop, stop, err := r.intakeOn(waitingQueue)
	if err != nil {
		return err
	}
	defer stop()

	before, err := w.memory()
	if err != nil {
		return err
	}
	storeBefore, temporalBefore, err := r.storageBytes(ctx)
	if err != nil {
		return err
	}
	if err := each(ctx, n, c, func(ctx context.Context, i int) error {
		ctx, cancel := context.WithTimeout(ctx, orderTimeout)
		defer cancel()
		return r.place(ctx, shop, r.request("w", i))
	}); err != nil {
		return fmt.Errorf("waiting orders: %w", err)
	}
	if err := r.awaitingPayment(ctx, n); err != nil {
		return fmt.Errorf("waiting orders: %w", err)
	}
	after, err := w.memory()
	if err != nil {
		return err
	}
	storeAfter, temporalAfter, err := r.storageBytes(ctx)
	if err != nil {
		return err
	}
	res.Storage.TemporalStore, res.Storage.TemporalMeasured = r.temporalStorage(), temporalBefore >= 0
	res.Storage.StoreBytesDelta = storeAfter - storeBefore
	if res.Storage.TemporalMeasured {
		res.Storage.TemporalBytesDelta = temporalAfter - temporalBefore
	}
	res.Memory.IdleHeapBytes, res.Memory.IdleRSSBytes = before.heap, before.rss
	res.Memory.HeapDeltaBytes = after.heap - before.heap
	res.Memory.RSSDeltaBytes = after.rss - before.rss
	return nil
}

// Where Temporal's state is kept, as Storage.TemporalStore says it.
const (
	storagePostgres     = "postgres"
	storageSQLiteFile   = "sqlite file"
	storageSQLiteMemory = "sqlite in memory"
)

func (r *runner) temporalStorage() string {
	switch {
	case r.o.Persistence == PersistencePostgres:
		return storagePostgres
	case r.o.temporalDB != "":
		return storageSQLiteFile
	default:
		return storageSQLiteMemory
	}
}

// storageBytes is the size of the order store's database and of Temporal's
// store: pg_database_size of its database and its visibility database, or
// the SQLite file and its WAL; -1 for SQLite in memory.
func (r *runner) storageBytes(ctx context.Context) (store, temporal int64, err error) {
	storeURL := r.o.Config.DatabaseURL
	if store, err = databaseSize(ctx, storeURL, databaseName(storeURL)); err != nil {
		return 0, 0, err
	}
	switch r.temporalStorage() {
	case storagePostgres:
		name := databaseName(r.o.TemporalPostgres)
		temporal, err = databaseSize(ctx, r.o.TemporalPostgres, name, name+"_visibility")
	case storageSQLiteFile:
		for _, f := range []string{r.o.temporalDB, r.o.temporalDB + "-wal"} {
			fi, err := os.Stat(f)
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			if err != nil {
				return 0, 0, err
			}
			temporal += fi.Size()
		}
	default:
		temporal = -1
	}
	return store, temporal, err
}

// databaseSize is the sum of pg_database_size of the databases on the
// server of serverURL.
func databaseSize(ctx context.Context, serverURL string, names ...string) (int64, error) {
	p, err := newPGStats(serverURL)
	if err != nil {
		return 0, err
	}
	conn, err := pgx.Connect(ctx, p.admin)
	if err != nil {
		return 0, fmt.Errorf("pg_database_size: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int64
	if err := conn.QueryRow(ctx, `SELECT sum(pg_database_size(d))::bigint FROM unnest($1::text[]) d`, names).Scan(&n); err != nil {
		return 0, fmt.Errorf("pg_database_size of %v: %w", names, err)
	}
	return n, nil
}

// profile starts a CPU profile into $BENCH_CPUPROFILE+suffix when that is
// set; stop ends it.
func profile(suffix string) (stop func(), err error) {
	path := os.Getenv("BENCH_CPUPROFILE")
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path + suffix)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
