package bench

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
)

// stepGaps, with BENCH_STEPS set, says where the time from the payment
// signal to the workflow's end goes: for each pair of consecutive events
// (the second's activity named), the gap between their times, p50 and p99
// over the histories of ids. A task's scheduled→started gap is its wait
// in the task queue; started→completed is the worker's work.
func stepGaps(ctx context.Context, c client.Client, ids []string, w io.Writer, title string) error {
	gaps := map[string][]time.Duration{}
	var order []string
	var whole []time.Duration
	for _, id := range ids {
		events, err := history(ctx, c, id)
		if err != nil {
			return err
		}
		from := -1
		for i, e := range events {
			if e.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED {
				from = i
				break
			}
		}
		if from < 0 {
			continue
		}
		scheduled := map[int64]string{}
		for i := from + 1; i < len(events); i++ {
			prev, e := events[i-1], events[i]
			name := e.GetEventType().String()
			if a := e.GetActivityTaskScheduledEventAttributes(); a != nil {
				scheduled[e.GetEventId()] = a.GetActivityType().GetName()
				name += " " + a.GetActivityType().GetName()
			}
			if a := e.GetActivityTaskStartedEventAttributes(); a != nil {
				name += " " + scheduled[a.GetScheduledEventId()]
			}
			if a := e.GetActivityTaskCompletedEventAttributes(); a != nil {
				name += " " + scheduled[a.GetScheduledEventId()]
			}
			key := fmt.Sprintf("%2d %s → %s", i-from, short(prev.GetEventType()), strings.TrimPrefix(name, "EVENT_TYPE_"))
			if _, ok := gaps[key]; !ok {
				order = append(order, key)
			}
			gaps[key] = append(gaps[key], e.GetEventTime().AsTime().Sub(prev.GetEventTime().AsTime()))
		}
		whole = append(whole, events[len(events)-1].GetEventTime().AsTime().Sub(events[from].GetEventTime().AsTime()))
	}
	sort.Strings(order)
	fmt.Fprintf(w, "%s: from the payment signal to the end, %d histories (ms: p50 p99 n)\n", title, len(whole))
	for _, k := range order {
		fmt.Fprintf(w, "%8.1f %8.1f %5d  %s\n", percentileMS(gaps[k], 0.5), percentileMS(gaps[k], 0.99), len(gaps[k]), k)
	}
	fmt.Fprintf(w, "%8.1f %8.1f %5d  whole\n", percentileMS(whole, 0.5), percentileMS(whole, 0.99), len(whole))
	return nil
}

func short(t enumspb.EventType) string {
	return strings.TrimPrefix(t.String(), "EVENT_TYPE_")
}
