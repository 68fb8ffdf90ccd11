package fault

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

// diagnose tells where an order that did not end stands: its log in
// PostgreSQL, its workflow's pending work and the end of its history.
func (r *run) diagnose(id string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var b strings.Builder
	fmt.Fprintf(&b, "order %s:\n", id)
	if evs, err := st.Store.Events(ctx, id); err == nil {
		var keys []string
		for _, e := range evs {
			keys = append(keys, e.Key)
		}
		fmt.Fprintf(&b, "  log: %s\n", strings.Join(keys, ", "))
	}
	d, err := st.Client.DescribeWorkflowExecution(ctx, workflows.WorkflowID(id), "")
	if err != nil {
		fmt.Fprintf(&b, "  describe: %v\n", err)
		return b.String()
	}
	fmt.Fprintf(&b, "  workflow: %s, history length %d\n", d.GetWorkflowExecutionInfo().GetStatus(), d.GetWorkflowExecutionInfo().GetHistoryLength())
	if wt := d.GetPendingWorkflowTask(); wt != nil {
		fmt.Fprintf(&b, "  pending workflow task: %s attempt %d scheduled %s\n", wt.GetState(), wt.GetAttempt(), wt.GetScheduledTime().AsTime().Format(time.TimeOnly))
	}
	for _, a := range d.GetPendingActivities() {
		fmt.Fprintf(&b, "  pending activity %s: %s attempt %d, last worker %s, last failure: %s\n", a.GetActivityType().GetName(), a.GetState(),
			a.GetAttempt(), a.GetLastWorkerIdentity(), a.GetLastFailure().GetMessage())
	}
	it := st.Client.GetWorkflowHistory(ctx, workflows.WorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			fmt.Fprintf(&b, "  history: %v\n", err)
			break
		}
		events = append(events, e)
	}
	from := max(0, len(events)-15)
	for _, e := range events[from:] {
		line := fmt.Sprintf("  #%d %s %s", e.GetEventId(), e.GetEventTime().AsTime().Format("15:04:05.000"), e.GetEventType())
		if f := failureOf(e); f != "" {
			line += ": " + f
		}
		if m := e.GetMarkerRecordedEventAttributes(); m != nil {
			line += " " + m.GetMarkerName()
			if m.GetFailure() != nil {
				line += ": " + m.GetFailure().GetMessage()
			}
		}
		if s := e.GetWorkflowExecutionSignaledEventAttributes(); s != nil {
			line += " " + s.GetSignalName()
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}

func failureOf(e *historypb.HistoryEvent) string {
	switch {
	case e.GetActivityTaskFailedEventAttributes() != nil:
		return e.GetActivityTaskFailedEventAttributes().GetFailure().GetMessage()
	case e.GetActivityTaskTimedOutEventAttributes() != nil:
		return e.GetActivityTaskTimedOutEventAttributes().GetFailure().GetMessage()
	case e.GetWorkflowTaskFailedEventAttributes() != nil:
		a := e.GetWorkflowTaskFailedEventAttributes()
		return a.GetCause().String() + " " + a.GetFailure().GetMessage()
	case e.GetWorkflowTaskTimedOutEventAttributes() != nil:
		return e.GetWorkflowTaskTimedOutEventAttributes().GetTimeoutType().String()
	}
	return ""
}
