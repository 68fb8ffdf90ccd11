package stack

import (
	"fmt"
	"net/http"

	"github.com/officeflow/officeflow/internal/config"
	"github.com/officeflow/officeflow/internal/panel"
	"github.com/officeflow/officeflow/internal/secret"
	"go.uber.org/zap"
)

// withPanel serves the customer billing panel under /panel/ beside the
// intake API. The panel asks the intake (its Actions) for what it changes,
// so a form starts the same workflow under the same id as the shop's call.
// It offers no pay button until a payment gateway is wired in as its Payer.
func (st *Stack) withPanel(cfg config.Config, log *zap.Logger, api http.Handler) (http.Handler, error) {
	box, err := secret.NewBox(cfg.CredentialsKey)
	if err != nil {
		return nil, fmt.Errorf("CREDENTIALS_KEY: %w", err)
	}
	p, err := panel.New(panel.Options{
		Store: st.Store, Actions: st.Intake, Box: box,
		BaseURL: cfg.BillingPanelURL, LinkTTL: cfg.PanelLinkTTL, Log: log.Named("panel"),
	})
	if err != nil {
		return nil, fmt.Errorf("BILLING_PANEL_URL: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/panel/", p)
	mux.Handle("/", api)
	return mux, nil
}
