package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/workflows"
	"go.temporal.io/sdk/client"
)

// opCmd sends an operator's decision to an order that waits in
// needs_attention. It talks to Temporal directly, not to the shops' intake
// API: steering a saga is the operators' business, authorised by access to
// the cluster (the same as the Web UI).
func opCmd(ctx context.Context, flags *flag.FlagSet, args []string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("op: which action? retry-compensation or resolve")
	}
	action, args := args[0], args[1:]
	update := map[string]string{"retry-compensation": workflows.UpdateRetryCompensation, "resolve": workflows.UpdateResolve}[action]
	if update == "" {
		return usagef("op: unknown action %q; use retry-compensation or resolve", action)
	}
	actor := flags.String("actor", envOr("USER", ""), "who decides, for the order's log (default $USER)")
	reason := flags.String("reason", "", "why; required for resolve")
	pos, err := parse(flags, args, 1)
	if err != nil {
		return helpOr(err, stdout)
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
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(pos[0]), UpdateName: update,
		Args:         []any{workflows.Decision{Actor: *actor, Reason: *reason}},
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
