package stack

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/gateway"
	"github.com/officeflow/officeflow/internal/intake"
	"github.com/officeflow/officeflow/internal/p24"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// publicBase is where Przelewy24 reaches the intake: the billing panel's
// public address without its /panel, since the intake serves both.
func publicBase(cfg config.Config) string {
	return strings.TrimSuffix(strings.TrimRight(cfg.BillingPanelURL, "/"), "/panel")
}

// newGateway is the Przelewy24 account of cfg, nil when none is set.
func newGateway(cfg config.Config, st *store.Store) *gateway.Gateway {
	if !cfg.P24.Enabled() {
		return nil
	}
	p := cfg.P24
	return &gateway.Gateway{
		Client: &p24.Client{BaseURL: p.URL, MerchantID: p.MerchantID, PosID: p.PosID, APIKey: p.APIKey, CRC: p.CRC},
		Store:  st, RefundStatusURL: publicBase(cfg) + "/v1/payments/p24/refund",
	}
}

// intakeP24 is the intake's side of the gateway, nil when none is set.
func intakeP24(cfg config.Config, g *gateway.Gateway) *intake.P24 {
	if g == nil {
		return nil
	}
	return &intake.P24{Gateway: g, PanelURL: cfg.BillingPanelURL, StatusURL: publicBase(cfg) + "/v1/payments/p24/status",
		CheckAfter: cfg.P24.CheckAfter, CheckFor: cfg.P24.CheckFor}
}

// sweepRefunds starts a Refund workflow for each refund of a Przelewy24
// payment that is owed and not sent, every interval until ctx ends. The
// refunds are marked by whatever decides them (the store, on a payment that
// comes late or twice; the saga, undoing a paid order), so one sweep sends
// them all; each payment's workflow id is its own, so a refund already
// being sent is not started twice, and one sent is no longer owed.
func sweepRefunds(ctx context.Context, c client.Client, st *store.Store, taskQueue string, every time.Duration, log *zap.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		refunds, err := st.PendingGatewayRefunds(ctx, 100)
		if err != nil && ctx.Err() == nil {
			log.Warn("refunds not read", zap.Error(err))
		}
		for _, r := range refunds {
			_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: workflows.RefundWorkflowID(r.PaymentID), TaskQueue: taskQueue, StaticSummary: "Refund of payment " + r.PaymentID,
				WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			}, workflows.RefundWorkflowName, r.PaymentID)
			var started *serviceerror.WorkflowExecutionAlreadyStarted
			if err != nil && !errors.As(err, &started) && ctx.Err() == nil {
				log.Warn("refund workflow not started", zap.String("payment_id", r.PaymentID), zap.Error(err))
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
