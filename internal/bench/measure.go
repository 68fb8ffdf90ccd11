package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/url"
	"os"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
)

// queryCounter counts the queries the store sends, BEGIN and COMMIT included
// as each is a round trip, and the BEGINs alone: pg_stat_database counts
// every statement outside BEGIN as a transaction too, so the two together
// tell the store's write transactions from its single reads.
type queryCounter struct {
	n, begins atomic.Int64
	// ksef is what the activities of KSeF workflows sent, of the above.
	ksef  ksefQueries
	mu    sync.Mutex
	bySQL map[string]int // with BENCH_SQL set: statement (first line) -> count
}

// ksefQueries are the KSeF workflows' queries, BEGINs, and transactions as
// pg_stat_database counts them: a BEGIN, or a statement sent outside one.
type ksefQueries struct{ n, begins, xacts atomic.Int64 }

func (q *queryCounter) TraceQueryStart(ctx context.Context, conn *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	q.n.Add(1)
	if activity.IsActivity(ctx) && activity.GetInfo(ctx).WorkflowType.Name == workflows.KSeFWorkflowName {
		q.ksef.n.Add(1)
		switch {
		case isBegin(d.SQL):
			q.ksef.begins.Add(1)
			q.ksef.xacts.Add(1)
		case conn.PgConn().TxStatus() == 'I':
			q.ksef.xacts.Add(1)
		}
	}
	if q.bySQL != nil {
		// Keyed by who sent it and whether it began a transaction as
		// pg_stat_database counts them (a BEGIN, or a statement outside one).
		line, _, _ := strings.Cut(strings.TrimSpace(d.SQL), "\n")
		who := "outside an activity"
		if activity.IsActivity(ctx) {
			who = activity.GetInfo(ctx).ActivityType.Name
		}
		x := " "
		if isBegin(d.SQL) || conn.PgConn().TxStatus() == 'I' {
			x = "x"
		}
		q.mu.Lock()
		q.bySQL[x+" "+who+": "+line]++
		q.mu.Unlock()
	}
	if isBegin(d.SQL) {
		q.begins.Add(1)
	}
	return ctx
}

func isBegin(sql string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(sql)), "begin")
}

func (q *queryCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// pgStats reads the order store's transaction counters from the server's
// "postgres" database, so that reading them adds none.
type pgStats struct {
	admin string // URL of the "postgres" database on the store's server
	name  string // the store's database
}

func newPGStats(storeURL string) (pgStats, error) {
	u, err := url.Parse(storeURL)
	if err != nil {
		return pgStats{}, err
	}
	u.Path = "/postgres"
	return pgStats{admin: u.String(), name: databaseName(storeURL)}, nil
}

// databaseName is the database a postgres:// URL names.
func databaseName(dbURL string) string {
	u, err := url.Parse(dbURL)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(u.Path, "/")
}

// statsDelay is how late PostgreSQL 15+ may publish a backend's counters: a
// busy backend publishes at most once a second, and what it held back when
// it went idle 10 s later. Closing the connections would publish at once,
// but the new ones would prepare every statement again, and each prepare is
// a transaction of its own that the product does not pay in steady state.
const statsDelay = 11 * time.Second

// xacts is xact_commit + xact_rollback of the store's database, read once
// every backend has published what it did up to lastUse.
func (p pgStats) xacts(ctx context.Context, lastUse time.Time) (int64, error) {
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(time.Until(lastUse.Add(statsDelay))):
	}
	conn, err := pgx.Connect(ctx, p.admin)
	if err != nil {
		return 0, fmt.Errorf("pg_stat_database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int64
	err = conn.QueryRow(ctx, `SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = $1`, p.name).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("pg_stat_database: %w", err)
	}
	return n, nil
}

// dropDatabase drops name on the server of serverURL, as pgtest's drop does.
func dropDatabase(serverURL, name string) error {
	u, err := url.Parse(serverURL)
	if err != nil {
		return err
	}
	u.Path = "/postgres"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// cpuSeconds is the process's user + system CPU time so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// memory is the live heap after a full collection and the resident set.
type memory struct{ heap, rss int64 }

func memNow() memory {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{heap: int64(ms.HeapAlloc), rss: vmRSS()}
}

// vmRSS reads VmRSS from /proc/self/status; 0 where there is none.
func vmRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// historyEvents is the average and largest history length of the workflows.
func historyEvents(ctx context.Context, c client.Client, ids []string) (float64, int, error) {
	if len(ids) == 0 {
		return 0, 0, nil
	}
	total, most := 0, 0
	for _, id := range ids {
		events, err := history(ctx, c, id)
		if err != nil {
			return 0, 0, err
		}
		n := len(events)
		total += n
		most = max(most, n)
	}
	return float64(total) / float64(len(ids)), most, nil
}

// history is the whole history of the workflow id's latest run.
func history(ctx context.Context, c client.Client, id string) ([]*historypb.HistoryEvent, error) {
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return nil, fmt.Errorf("history of %s: %w", id, err)
		}
		events = append(events, e)
	}
	return events, nil
}

// percentileMS is the nearest-rank percentile p (0..1) in milliseconds.
func percentileMS(d []time.Duration, p float64) float64 {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return float64(s[max(i, 0)]) / float64(time.Millisecond)
}

// ratio is a/b, or 0 when b is 0, so that JSON never meets NaN or Inf.
func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsInf(a, 0) {
		return 0
	}
	return a / b
}

// print lists the statements by how often they ran per order (BENCH_SQL),
// with the activity that sent each and an x where it began a transaction,
// to show where the database round trips go.
func (q *queryCounter) print(w io.Writer, orders int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	type kv struct {
		sql string
		n   int
	}
	var all []kv
	for k, v := range q.bySQL {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].n > all[j].n })
	fmt.Fprintf(w, "statements per order (%d orders through the store):\n", orders)
	for _, e := range all {
		fmt.Fprintf(w, "%6.2f  %.100s\n", float64(e.n)/float64(orders), e.sql)
	}
}
