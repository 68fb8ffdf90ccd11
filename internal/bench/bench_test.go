package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/stack"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest"
)

// tableRows are the figures the table must show, in order.
var tableRows = []string{
	"throughput (orders/s)",
	"latency p50 (ms)",
	"latency p95 (ms)",
	"latency p99 (ms)",
	"placements answered 503, retried",
	"pay→credentials p50 (ms)",
	"pay→credentials p99 (ms)",
	"CPU (ms/order)",
	"DB transactions/order",
	"DB BEGIN...COMMIT/order",
	"DB queries/order",
	"history events/order (avg)",
	"history events/order (max)",
	"KSeF: issued to accepted p50 (ms)",
	"KSeF: issued to accepted p95 (ms)",
	"KSeF: DB transactions/document",
	"KSeF: DB queries/document",
	"KSeF: history events/document (avg)",
	"worker heap idle (MB)",
	"heap per 1,000 waiting (MB)",
	"RSS per 1,000 waiting (MB)",
	"order store per waiting order (KB)",
	"Temporal store per waiting order (KB)",
	"accept rate (orders/s)",
	"accept: placements retried",
	"PDF invoice (ms/doc)",
	"PDF correction (ms/doc)",
	"FA(3) XML (ms/doc)",
	"FA(3) XML correction (ms/doc)",
}

// TestMain lets the test binary serve as the bench's worker process, as
// the CLI's binary does.
func TestMain(m *testing.M) {
	if IsWorkerChild() {
		os.Exit(WorkerChild())
	}
	os.Exit(m.Run())
}

// TestRun runs a small benchmark end to end and checks the shape of what it
// reports, never how fast anything was: a loaded CI machine must not fail it.
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a whole stack")
	}
	t.Setenv("HTTP_ADDR", "127.0.0.1:0")
	t.Setenv("TEMPORAL_ADDRESS", "127.0.0.1:0")
	cfg, err := config.Load(true)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	// The bench's own log and its table go to one place, as they do on a
	// terminal, so that the test sees what follows the table.
	var out syncBuffer
	logger := zaptest.NewLogger(t, zaptest.Level(zap.WarnLevel)).WithOptions(zap.WrapCore(func(c zapcore.Core) zapcore.Core {
		return zapcore.NewTee(c, zapcore.NewCore(zapcore.NewConsoleEncoder(zap.NewDevelopmentEncoderConfig()), zapcore.AddSync(&out), zap.WarnLevel))
	}))
	temporalLog := filepath.Join(t.TempDir(), "temporal.log")
	res, err := Run(ctx, Options{
		Config: cfg, Logger: logger,
		Orders: 20, Concurrency: 5, Waiting: 20, Persistence: PersistenceSQLite, SQLiteFile: true, TemporalLog: temporalLog,
	}, &out)
	require.NoError(t, err, out.String())
	t.Log("\n" + out.String())
	requireQuietEnd(t, &out, temporalLog)

	cells := tableCells(t, out.String())
	require.Len(t, rows(res), len(tableRows))
	for _, name := range tableRows {
		c, ok := cells[name]
		require.True(t, ok, "row %q is missing", name)
		require.Len(t, c, 5, "row %q: floor, saga, ratio, goal, met", name)
		for _, v := range c[:3] {
			if v != "-" && v != "n/a" {
				_, err := strconv.ParseFloat(v, 64)
				require.NoError(t, err, "row %q: %q is not a number", name, v)
			}
		}
		require.NotEqual(t, "-", c[1], "row %q has no saga figure", name)
		require.Contains(t, []string{"yes", "NO", "-"}, c[4], "row %q", name)
		require.Equal(t, c[3] == "-", c[4] == "-", "row %q: a goal and its verdict go together", name)
	}
	require.Equal(t, f(res.Saga.OrdersPerSecond, 1), cells["throughput (orders/s)"][1])
	require.Equal(t, f(res.Ratios.Accept, 2), cells["accept rate (orders/s)"][2])

	// The process ran at the worker's garbage collector target, and the
	// table's first line says which.
	if os.Getenv("GOGC") == "" {
		require.Equal(t, stack.GCPercent, res.GOGC)
	}
	require.Contains(t, out.String(), "Temporal on sqlite, GOGC "+strconv.Itoa(res.GOGC)+"\n")

	// Every figure was measured, and every ratio computed from them.
	require.Equal(t, 20, res.Orders)
	for name, v := range map[string]float64{
		"floor rate": res.Floor.OrdersPerSecond, "saga rate": res.Saga.OrdersPerSecond,
		"floor p99": res.Floor.P99MS, "saga p99": res.Saga.P99MS,
		"throughput ratio": res.Ratios.Throughput, "p50 ratio": res.Ratios.P50, "p95 ratio": res.Ratios.P95,
		"p99 ratio": res.Ratios.P99, "cpu ratio": res.Ratios.CPU, "accept ratio": res.Ratios.Accept,
		"transactions/order": res.DB.TransactionsPerOrder, "queries/order": res.DB.QueriesPerOrder, "begins/order": res.DB.BeginsPerOrder,
		"floor history": res.Floor.HistoryEventsAvg, "saga history": res.Saga.HistoryEventsAvg,
		"intake rate": res.Accept.IntakePerSecond, "direct rate": res.Accept.DirectPerSecond,
		"KSeF p50": res.KSeF.P50MS, "KSeF p95": res.KSeF.P95MS, "floor KSeF p50": res.KSeF.FloorP50MS, "KSeF paid p50": res.KSeF.PaidP50MS,
		"KSeF transactions/document": res.KSeF.TransactionsPerDocument, "KSeF queries/document": res.KSeF.QueriesPerDocument,
		"KSeF history": res.KSeF.HistoryEventsAvg, "floor KSeF history": res.KSeF.FloorHistoryEventsAvg,
		"pay→credentials p50": res.Credentials.P50MS, "pay→credentials p99": res.Credentials.P99MS,
		"PDF invoice": res.Documents.PDFInvoiceMS, "PDF correction": res.Documents.PDFCorrectionMS,
		"FA(3) invoice": res.Documents.FA3InvoiceMS, "FA(3) correction": res.Documents.FA3CorrectionMS,
	} {
		require.Positive(t, v, name)
	}
	require.InDelta(t, res.Saga.OrdersPerSecond/res.Floor.OrdersPerSecond, res.Ratios.Throughput, 1e-9)
	require.InDelta(t, res.DB.TransactionsPerOrder/orderActivities, res.DB.TransactionsPerActivity, 1e-9)
	// Every paid order's invoice went through KSeF, and its workflow's
	// share of the store's counts is within them.
	require.Equal(t, 20, res.KSeF.Documents)
	require.LessOrEqual(t, res.KSeF.Transactions, res.DB.Transactions)
	require.LessOrEqual(t, res.KSeF.Queries, res.DB.Queries)
	require.LessOrEqual(t, res.KSeF.Begins, res.DB.Begins)
	require.Positive(t, res.Memory.IdleHeapBytes, "the worker process answered with its memory")
	require.Positive(t, res.Memory.IdleRSSBytes)
	require.LessOrEqual(t, res.Credentials.P50MS, res.Credentials.P99MS)
	require.Equal(t, docRenders, res.Documents.Renders)
	// The SQLite file was measured; sizes can only grow.
	require.Equal(t, storageSQLiteFile, res.Storage.TemporalStore)
	require.True(t, res.Storage.TemporalMeasured)
	require.GreaterOrEqual(t, res.Storage.StoreBytesDelta, int64(0))
	require.GreaterOrEqual(t, res.Storage.TemporalBytesDelta, int64(0))
	require.Equal(t, f(res.Storage.TemporalKBPerWaiting, 1), cells["Temporal store per waiting order (KB)"][1])

	raw, err := json.Marshal(res)
	require.NoError(t, err)
	var back Result
	require.NoError(t, json.Unmarshal(raw, &back))
	require.Equal(t, res, back)
}

// requireQuietEnd checks that the run named the embedded server's log file
// first, that none of the server's log reached the bench's logger, and that
// the table is the last thing written, even a moment after Run returned.
func requireQuietEnd(t *testing.T, out *syncBuffer, temporalLog string) {
	t.Helper()
	time.Sleep(2 * time.Second)
	all := out.String()
	first, _, _ := strings.Cut(all, "\n")
	require.Equal(t, "officeflow bench: the embedded Temporal server logs to "+temporalLog, first)
	_, err := os.Stat(temporalLog)
	require.NoError(t, err)
	logLine := regexp.MustCompile(`^\d{4}-\d\d-\d\dT`)
	lines := strings.Split(all, "\n")
	header := slices.IndexFunc(lines, func(l string) bool { return strings.HasPrefix(l, "figure ") })
	require.Positive(t, header, "no table in\n%s", all)
	for _, l := range lines {
		require.NotContains(t, l, "\ttemporal\t", "the server logs to its file, not to the bench's logger")
	}
	for _, l := range lines[header:] {
		require.False(t, logLine.MatchString(l), "a log line after the table: %s", l)
	}
	require.True(t, strings.HasSuffix(all, "a correction of it to zero.\n"), "the table's note is the last thing written:\n%s", all)
}

// syncBuffer is a bytes.Buffer that loggers on many goroutines may share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestRenderGoalsAndNA: the pay→credentials goal is judged on PostgreSQL
// only, and Temporal's storage is n/a where it is kept in memory.
func TestRenderGoalsAndNA(t *testing.T) {
	for _, tc := range []struct {
		persistence, goal, met string
		storage                string
	}{
		{PersistenceSQLite, "-", "-", "n/a"},
		{PersistencePostgres, "p99 < 1000 ms", "yes", "2.0"},
	} {
		r := Result{Persistence: tc.persistence, Waiting: 10, Credentials: Credentials{P50MS: 300, P99MS: 900}}
		r.Storage.TemporalMeasured = tc.persistence == PersistencePostgres
		r.Storage.TemporalBytesDelta = 20_000
		r.fill()
		var out bytes.Buffer
		require.NoError(t, Render(&out, r))
		cells := tableCells(t, out.String())
		require.Equal(t, []string{"-", "900", "-", tc.goal, tc.met}, cells["pay→credentials p99 (ms)"], tc.persistence)
		require.Equal(t, tc.storage, cells["Temporal store per waiting order (KB)"][1], tc.persistence)
	}
}

// tableCells maps each row's figure to its other cells; columns are apart by
// two spaces or more, while a cell has single spaces at most.
func tableCells(t *testing.T, table string) map[string][]string {
	sep := regexp.MustCompile(`\s{2,}`)
	out := map[string][]string{}
	header := false
	for _, line := range strings.Split(table, "\n") {
		c := sep.Split(strings.TrimSpace(line), -1)
		if len(c) < 2 {
			continue
		}
		if c[0] == "figure" {
			require.Equal(t, []string{"figure", "floor", "saga", "ratio", "goal", "met"}, c)
			header = true
			continue
		}
		out[c[0]] = c[1:]
	}
	require.True(t, header, "no header line in\n%s", table)
	return out
}

func TestOptionsCheck(t *testing.T) {
	for _, o := range []Options{
		{Orders: 0, Concurrency: 1, Waiting: 1},
		{Orders: 1, Concurrency: 0, Waiting: 1},
		{Orders: 1, Concurrency: 1, Waiting: 0},
		{Orders: 1, Concurrency: 1, Waiting: 1, Persistence: "mysql"},
		{Orders: 1, Concurrency: 1, Waiting: 1, Persistence: PersistencePostgres, SQLiteFile: true},
	} {
		require.Error(t, o.check(), "%+v", o)
	}
	o := Options{Orders: 1, Concurrency: 1, Waiting: 1}
	require.NoError(t, o.check())
	require.Equal(t, PersistenceSQLite, o.Persistence)
	o.Persistence = PersistencePostgres
	require.NoError(t, o.check())
	require.Equal(t, "", stackOptions(Options{Persistence: PersistenceSQLite, TemporalPostgres: "postgres://x"}).TemporalPostgres)
	require.Equal(t, "postgres://x", stackOptions(Options{Persistence: PersistencePostgres, TemporalPostgres: "postgres://x"}).TemporalPostgres)
}
