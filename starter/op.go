package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/workflows"
	"go.temporal.io/sdk/client"
)

// opCmd sends an operator's action to an order's saga as a Workflow Update;
// the saga's validator refuses what makes no sense in the order's state. It
// talks to Temporal directly, not to the shops' intake
// API: steering a saga is the operators' business, authorised by access to
// the cluster (the same as the Web UI).
func opCmd(ctx context.Context, flags *flag.FlagSet, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("op: which action? mark-paid, extend-deadline, retry-provisioning, cancel, retry, retry-compensation or resolve")
	}
	action, args := args[0], args[1:]
	actor := flags.String("actor", envOr("USER", ""), "who decides, for the order's log (default $USER)")
	reason := flags.String("reason", "", "why; required for resolve")
	reference := flags.String("reference", "", "mark-paid: the bank's reference of the transfer")
	workflowID := flags.String("workflow", "", "retry, resolve: the workflow to answer when it is not the order's saga (licences-..., user-..., domain-..., subscription-...)")
	until := flags.String("until", "", "extend-deadline: the new deadline, RFC 3339 (2026-12-24T12:00:00Z) or a duration from now (48h)")
	pos, err := parse(flags, args, 1)
	if err != nil {
		return helpOr(err, stdout)
	}
	d := workflows.Decision{Actor: *actor, Reason: *reason}
	var update string
	var arg any = d
	switch action {
	case "retry":
		// A step that failed for good runs again (see workflows/attention.go).
		update = workflows.UpdateRetry
	case "retry-compensation":
		update = workflows.UpdateRetryCompensation
	case "resolve":
		update = workflows.UpdateResolve
	case "retry-provisioning":
		update = workflows.UpdateRetryProvisioning
	case "cancel":
		update, arg = workflows.UpdateCancel, workflows.CancelRequest{Actor: *actor, Reason: *reason}
	case "mark-paid":
		update, arg = workflows.UpdateMarkPaid, workflows.ManualPayment{Actor: *actor, Reason: *reason, Reference: *reference}
	case "extend-deadline":
		t, err := parseUntil(*until)
		if err != nil {
			return usagef("op extend-deadline: -until: %v", err)
		}
		update, arg = workflows.UpdateExtendDeadline, workflows.Extension{Actor: *actor, Reason: *reason, Until: t}
	default:
		return usagef("op: unknown action %q", action)
	}
	tc, err := config.LoadTemporal()
	if err != nil {
		return err
	}
	opts := client.Options{HostPort: envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"), Namespace: envOr("TEMPORAL_NAMESPACE", "default")}
	opts.Logger = quietLogger{}
	opts.ConnectionOptions.TLS = tc.TLS
	if tc.APIKey != "" {
		opts.Credentials = client.NewAPIKeyStaticCredentials(tc.APIKey)
	}
	c, err := client.DialContext(ctx, opts)
	if err != nil {
		return fmt.Errorf("temporal at %s: %w", opts.HostPort, err)
	}
	defer c.Close()
	id := workflows.WorkflowID(pos[0])
	if *workflowID != "" {
		id = *workflowID
	}
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: id, UpdateName: update,
		Args:         []any{arg},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w", action, pos[0], err)
	}
	var sv workflows.StatusView
	if err := h.Get(ctx, &sv); err != nil {
		return fmt.Errorf("%s %s: %w", action, pos[0], err)
	}
	return printJSON(stdout, map[string]any{"order_id": pos[0], "accepted": action, "status": sv.Status})
}

// quietLogger keeps the SDK's connection chatter off a one-shot command's
// output; failures come back as errors.
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(msg string, kv ...any) {
	fmt.Fprintln(os.Stderr, append([]any{"temporal:", msg}, kv...)...)
}

func parseUntil(s string) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return time.Now().Add(d).UTC().Truncate(time.Second), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor a positive duration", s)
	}
	return t, nil
}
