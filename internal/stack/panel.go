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
// It offers a pay button when Przelewy24 is set (P24_*, or -dev's fake).
func (st *Stack) withPanel(cfg config.Config, log *zap.Logger, api http.Handler) (http.Handler, error) {
	box, err := secret.NewBox(cfg.CredentialsKey)
	if err != nil {
		return nil, fmt.Errorf("CREDENTIALS_KEY: %w", err)
	}
	var payer panel.Payer // an interface holding a nil *Server is not nil
	if st.Intake.P24 != nil {
		payer = st.Intake
	}
	p, err := panel.New(panel.Options{
		Store: st.Store, Actions: st.Intake, Box: box, Payer: payer,
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
