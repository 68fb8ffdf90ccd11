package stack

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/ksef"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
)

// sellerNIP is the NIP documents name as the seller, and so the context
// KSeF authenticates.
func sellerNIP(cfg config.Config) string {
	if cfg.Seller.Name == "" {
		return store.DefaultSeller.NIP
	}
	return cfg.Seller.NIP
}

// newKSeF is what the KSeF activities use (KSEF_*, or -dev's fake), nil
// with KSEF_MODE=off.
func (st *Stack) newKSeF(cfg config.Config) (*activities.KSeF, error) {
	k := cfg.KSeF
	if !k.Enabled() {
		return nil, nil
	}
	nip := sellerNIP(cfg)
	if cfg.Dev && k.URL == "" {
		var err error
		if k, err = st.startKSeFFake(k, nip); err != nil {
			return nil, err
		}
	}
	out := &activities.KSeF{Client: &ksef.Client{BaseURL: k.URL, NIP: nip, Token: k.Token}, QRBase: ksef.QRBase(k.URL)}
	switch {
	case k.OfflineCert != "":
		certPEM, err := os.ReadFile(k.OfflineCert)
		if err != nil {
			return nil, fmt.Errorf("KSEF_OFFLINE_CERT: %w", err)
		}
		keyPEM, err := os.ReadFile(k.OfflineKey)
		if err != nil {
			return nil, fmt.Errorf("KSEF_OFFLINE_KEY: %w", err)
		}
		c, err := ksef.LoadOfflineCertificate(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("KSEF_OFFLINE_CERT: %w", err)
		}
		out.Offline = &c
	case cfg.Dev:
		// -dev signs KOD II with a certificate of its own, which no KSeF
		// knows: the codes are printed as they would be.
		c, _, err := ksef.NewOfflineCertificate(nip)
		if err != nil {
			return nil, err
		}
		out.Offline = &c
	}
	return out, nil
}

// KSeFStarter starts the workflow that issues a document through KSeF,
// once per document: a second start (a retried step) finds it.
func KSeFStarter(c client.Client, cfg config.Config) func(ctx context.Context, id int64, orderID string) error {
	return func(ctx context.Context, id int64, orderID string) error {
		_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
			ID:                       workflows.KSeFWorkflowID(id),
			TaskQueue:                cfg.TaskQueue,
			WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
			TypedSearchAttributes: temporal.NewSearchAttributes(workflows.OrderIDKey.ValueSet(orderID),
				workflows.StageKey.ValueSet(workflows.StageKSeFSending)),
			StaticSummary: fmt.Sprintf("KSeF: document %d of order %s", id, orderID),
		}, workflows.KSeFWorkflowName, workflows.KSeFInput{DocumentID: id, OrderID: orderID,
			OnlineFor: cfg.KSeF.OnlineFor, AlertBefore: cfg.KSeF.AlertBefore})
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return nil
		}
		return err
	}
}
