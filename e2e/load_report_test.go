package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/officeflow/officeflow/workflows"
	"go.temporal.io/api/enums/v1"
	"go.uber.org/zap/zapcore"
)

// waitTerminal polls orders.status until no order of the run is still on
// its way (installer_ready, cancelled and refunded end an order) or ctx
// ends, and returns how many are in each status.
func (l *loadRun) waitTerminal(ctx context.Context) map[string]int {
	var last map[string]int
	for {
		by, err := l.statusCounts(ctx)
		if err == nil {
			last = by
			open := 0
			for s, n := range by {
				if s != "installer_ready" && s != "cancelled" && s != "refunded" {
					open += n
				}
			}
			if open == 0 {
				return by
			}
		}
		select {
		case <-ctx.Done():
			// One more look, past the deadline, for the figures.
			if by, err := l.statusCounts(context.Background()); err == nil {
				last = by
			}
			l.t.Logf("deadline reached with orders in %v", last)
			return last
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (l *loadRun) statusCounts(ctx context.Context) (map[string]int, error) {
	rows, err := st.Store.Pool.Query(ctx, `SELECT status, count(*) FROM orders WHERE order_id LIKE $1 GROUP BY status`, l.idPrefix+"%")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	by := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		by[s] = n
	}
	return by, rows.Err()
}

func (l *loadRun) counts() map[string]map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]map[int]int{}
	for k, by := range l.status {
		out[k] = map[int]int{}
		for s, n := range by {
			out[k][s] = n
		}
	}
	return out
}

func (l *loadRun) countsOf(kind string) map[int]int {
	by := l.counts()[kind]
	if by == nil {
		by = map[int]int{}
	}
	return by
}

// report logs requests by kind and status, orders by status and the timings.
func (l *loadRun) report(statuses map[string]int, requestsDone, elapsed time.Duration) {
	counts := l.counts()
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-16s %6s  %s\n", "request", "total", "by HTTP status")
	total := 0
	for _, k := range loadKinds {
		by := counts[k]
		var codes []int
		n := 0
		for s, c := range by {
			codes = append(codes, s)
			n += c
		}
		sort.Ints(codes)
		var parts []string
		for _, s := range codes {
			parts = append(parts, fmt.Sprintf("%d: %d", s, by[s]))
		}
		total += n
		fmt.Fprintf(&b, "%-16s %6d  %s\n", k, n, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "%-16s %6d\n", "all requests", total)
	var ss []string
	for s := range statuses {
		ss = append(ss, s)
	}
	sort.Strings(ss)
	for _, s := range ss {
		fmt.Fprintf(&b, "orders %-22s %6d\n", s, statuses[s])
	}
	secs := elapsed.Seconds()
	fmt.Fprintf(&b, "requests done after     %8.1f s (%.1f requests/s)\n", requestsDone.Seconds(), float64(total)/requestsDone.Seconds())
	fmt.Fprintf(&b, "all orders ended after  %8.1f s\n", secs)
	fmt.Fprintf(&b, "orders per second       %8.2f\n", float64(statuses["installer_ready"])/secs)
	l.t.Log(b.String())
}

// loadDeadline is when the test stops waiting: well before go test's own
// timeout, so that it fails with its figures instead of a goroutine dump.
func loadDeadline(t *testing.T) time.Time {
	if d, ok := t.Deadline(); ok {
		return d.Add(-45 * time.Second)
	}
	return time.Now().Add(30 * time.Minute)
}

// diagnose logs, for up to n orders that did not end installer_ready, their
// log in the database and what Temporal says of their workflows.
func (l *loadRun) diagnose(n int) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rows, err := st.Store.Pool.Query(ctx, `SELECT order_id, status, updated_at FROM orders WHERE order_id LIKE $1 AND status <> 'installer_ready'
		ORDER BY updated_at LIMIT $2`, l.idPrefix+"%", n)
	if err != nil {
		l.t.Logf("diagnose: %v", err)
		return
	}
	type stuck struct {
		id, status string
		at         time.Time
	}
	var ss []stuck
	for rows.Next() {
		var s stuck
		if err := rows.Scan(&s.id, &s.status, &s.at); err == nil {
			ss = append(ss, s)
		}
	}
	rows.Close()
	for _, s := range ss {
		var b strings.Builder
		fmt.Fprintf(&b, "order %s: %s since %s\n", s.id, s.status, s.at.Format(time.RFC3339Nano))
		if events, err := st.Store.Events(ctx, s.id); err == nil {
			for _, e := range events {
				fmt.Fprintf(&b, "  event %s %s %s: %s\n", e.At.Format("15:04:05.000"), e.Key, e.Status, e.Reason)
			}
		}
		d, err := st.Client.DescribeWorkflowExecution(ctx, workflows.WorkflowID(s.id), "")
		if err != nil {
			fmt.Fprintf(&b, "  workflow: %v\n", err)
		} else {
			info := d.GetWorkflowExecutionInfo()
			fmt.Fprintf(&b, "  workflow %s, %d history events\n", info.GetStatus(), info.GetHistoryLength())
			if wt := d.GetPendingWorkflowTask(); wt != nil {
				fmt.Fprintf(&b, "  pending workflow task %s, attempt %d, scheduled %s\n", wt.GetState(), wt.GetAttempt(), wt.GetScheduledTime().AsTime().Format("15:04:05.000"))
			}
			for _, pa := range d.GetPendingActivities() {
				fmt.Fprintf(&b, "  pending activity %s %s attempt %d, last failure %v\n", pa.GetActivityType().GetName(), pa.GetState(), pa.GetAttempt(), pa.GetLastFailure().GetMessage())
			}
		}
		it := st.Client.GetWorkflowHistory(ctx, workflows.WorkflowID(s.id), "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var last []string
		for it.HasNext() {
			e, err := it.Next()
			if err != nil {
				last = append(last, "history: "+err.Error())
				break
			}
			line := fmt.Sprintf("%d %s %s", e.GetEventId(), e.GetEventTime().AsTime().Format("15:04:05.000"), e.GetEventType())
			if f := e.GetWorkflowTaskFailedEventAttributes(); f != nil {
				line += " " + f.GetCause().String() + ": " + f.GetFailure().GetMessage()
			}
			if f := e.GetWorkflowTaskTimedOutEventAttributes(); f != nil {
				line += " " + f.GetTimeoutType().String()
			}
			if f := e.GetMarkerRecordedEventAttributes(); f != nil && f.GetFailure() != nil {
				line += " failure: " + f.GetFailure().GetMessage()
			}
			last = append(last, line)
		}
		if len(last) > 15 {
			last = last[len(last)-15:]
		}
		for _, line := range last {
			fmt.Fprintf(&b, "  history %s\n", line)
		}
		l.t.Log(b.String())
	}
}

// logSummary logs the warnings and errors the stack logged since entry
// from of the observed log, each message once with its count, and the
// fields of the first of each error the Temporal SDK logged (a workflow
// panic's value and stack).
func (l *loadRun) logSummary(from int) {
	seen := map[string]int{}
	var order []string
	all := logs.All()
	if from > len(all) {
		from = len(all)
	}
	for _, e := range all[from:] {
		if e.Level < zapcore.WarnLevel {
			continue
		}
		msg := e.Level.String() + " " + e.LoggerName + ": " + e.Message
		fields := e.ContextMap()
		for _, k := range []string{"error", "Error"} {
			if err, ok := fields[k]; ok {
				msg += ": " + fmt.Sprint(err)
			}
		}
		if len(msg) > 300 {
			msg = msg[:300]
		}
		if seen[msg] == 0 {
			order = append(order, msg)
			if e.Level >= zapcore.ErrorLevel && e.LoggerName == "sdk" {
				// The first of each kind in full: a panic's value and stack.
				l.t.Logf("first %q: %v", e.Message, fields)
			}
		}
		seen[msg]++
	}
	if len(order) == 0 {
		l.t.Log("no warnings or errors in the stack's log")
		return
	}
	var b strings.Builder
	for i, m := range order {
		if i == 30 {
			fmt.Fprintf(&b, "... and %d other messages\n", len(order)-30)
			break
		}
		fmt.Fprintf(&b, "%5dx %s\n", seen[m], m)
	}
	l.t.Logf("warnings and errors in the stack's log:\n%s", b.String())
}
