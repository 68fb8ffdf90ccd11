package intake

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/gateway"
	"github.com/officeflow/officeflow/internal/p24"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.uber.org/zap"
)

// P24 is the intake's side of Przelewy24: the panel's pay button, and the
// gateway's notifications of payments and refunds.
type P24 struct {
	*gateway.Gateway
	// PanelURL is BILLING_PANEL_URL: the payer comes back to the order's page.
	PanelURL string
	// StatusURL is this intake's POST /v1/payments/p24/status, as the
	// gateway reaches it.
	StatusURL string
	// CheckAfter and CheckFor are the schedule of the workflow that asks
	// the gateway about a transaction whose notification did not come.
	CheckAfter, CheckFor time.Duration
}

// Pay registers a Przelewy24 transaction for what the order has due (its
// own pro-forma, else the oldest unpaid one of a later purchase), starts
// the workflow that asks the gateway about it should its notification be
// lost, and returns the payer's page. Each press registers a transaction
// of its own: a customer who pays two of them is refunded the second.
func (s *Server) Pay(ctx context.Context, orderID, lang string) (string, error) {
	g := s.P24
	if g == nil {
		return "", errors.New("no payment gateway configured")
	}
	o, err := s.Store.GetOrder(ctx, orderID)
	if err != nil {
		return "", err
	}
	docs, err := s.Store.Documents(ctx, orderID)
	if err != nil {
		return "", err
	}
	var due *store.Invoice
	for i, d := range docs {
		if d.Kind == billing.KindProforma && d.Status == billing.DocUnpaid && (due == nil || due.ChargeID != "" && d.ChargeID == "") {
			due = &docs[i]
		}
	}
	if due == nil {
		return "", errors.New("nothing due")
	}
	workflowID := workflows.WorkflowID(orderID)
	if due.ChargeID != "" {
		c, err := s.Store.GetCharge(ctx, due.ChargeID)
		if err != nil {
			return "", err
		}
		workflowID = c.WorkflowID
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:])
	t := store.P24Transaction{SessionID: orderID + "." + hex.EncodeToString(nonce[:]), OrderID: orderID, ChargeID: due.ChargeID,
		Amount: due.Gross, Currency: due.Currency}
	t.Token, err = g.Client.Register(ctx, p24.Transaction{
		SessionID: t.SessionID, Amount: int64(t.Amount), Currency: t.Currency, Description: due.Number,
		Email: o.Customer.Email, Country: o.Customer.Country, Language: lang,
		URLReturn: strings.TrimRight(g.PanelURL, "/") + "/orders/" + url.PathEscape(orderID), URLStatus: g.StatusURL,
	})
	if err != nil {
		return "", fmt.Errorf("register with Przelewy24: %w", err)
	}
	if err := s.Store.AddP24Transaction(ctx, t); err != nil {
		return "", err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if _, err := s.Temporal.ExecuteWorkflow(sctx, client.StartWorkflowOptions{
		ID: workflows.PaymentCheckWorkflowID(t.SessionID), TaskQueue: s.TaskQueue, StaticSummary: "Przelewy24 payment of " + due.Number,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
	}, workflows.PaymentCheckWorkflowName, workflows.PaymentCheckInput{
		SessionID: t.SessionID, WorkflowID: workflowID, After: g.CheckAfter, For: g.CheckFor,
	}); err != nil {
		// The notification still records the payment; only a lost one
		// would wait for a person.
		s.Log.Error("payment check not started", zap.String("order_id", orderID), zap.String("session_id", t.SessionID), zap.Error(err))
	}
	return g.Client.PayURL(t.Token), nil
}

// p24Status takes Przelewy24's notification of a payment: its sign and
// merchant are checked, the payment is verified with the gateway and only
// then recorded, as any payment is (settled). A repeat records nothing
// twice. Przelewy24 sends it again until it is answered 200.
func (s *Server) p24Status(w http.ResponseWriter, r *http.Request) {
	n, g, ok := readP24(s, w, r, p24.ParseNotification)
	if !ok {
		return
	}
	if n.MerchantID != g.Client.MerchantID || n.PosID != cmp.Or(g.Client.PosID, g.Client.MerchantID) {
		writeError(w, http.StatusBadRequest, "invalid", "merchantId", "not this merchant's notification")
		return
	}
	ctx := r.Context()
	tk, err := g.Take(ctx, n.SessionID, n.OrderID, n.Amount, n.Currency)
	var refused *p24.Refused
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "sessionId", "no transaction "+n.SessionID)
		return
	case errors.Is(err, gateway.ErrNotOurs), errors.Is(err, store.ErrP24Mismatch):
		s.Log.Warn("Przelewy24 notification does not match its transaction", zap.String("session_id", n.SessionID), zap.Error(err))
		writeError(w, http.StatusUnprocessableEntity, "amount_mismatch", "amount", err.Error())
		return
	case errors.As(err, &refused):
		// Not verified: the money is not ours yet. The gateway notifies
		// again, and the payment check asks it.
		s.Log.Warn("Przelewy24 refused to verify a payment", zap.String("session_id", n.SessionID), zap.Error(err))
		writeError(w, http.StatusBadGateway, "not_verified", "", "Przelewy24 did not verify the payment")
		return
	case err != nil && tk.Payment.PaymentID == "": // not recorded: the gateway or the database
		s.unavailable(w, "verify payment", err)
		return
	}
	due, workflowID, ok := s.target(w, ctx, tk.Payment.OrderID, tk.Payment.ChargeID)
	if !ok {
		return
	}
	s.settled(w, ctx, tk.Payment, due, workflowID, tk.Recorded, err)
}

// p24Refund closes a refund on Przelewy24's notification of it.
func (s *Server) p24Refund(w http.ResponseWriter, r *http.Request) {
	n, g, ok := readP24(s, w, r, p24.ParseRefundNotification)
	if !ok {
		return
	}
	if n.MerchantID != g.Client.MerchantID {
		writeError(w, http.StatusBadRequest, "invalid", "merchantId", "not this merchant's notification")
		return
	}
	moved, err := g.Refunded(r.Context(), n)
	if err != nil {
		s.unavailable(w, "close refund", err)
		return
	}
	// The refund's workflow waits for this; a finished one is not told.
	pid := store.P24PaymentID(n.OrderID)
	err = s.Temporal.SignalWorkflow(r.Context(), workflows.RefundWorkflowID(pid), "", workflows.SignalRefundClosed, nil)
	var notFound *serviceerror.NotFound
	if err != nil && !errors.As(err, &notFound) {
		s.unavailable(w, "signal refund", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"payment_id": store.P24PaymentID(n.OrderID), "duplicate": !moved})
}

// readP24 reads a Przelewy24 notification with parse, which checks its sign
// under the account's CRC before anything in it counts: a bad sign is 401,
// a body that is not one 400. ok false means it answered.
func readP24[N any](s *Server, w http.ResponseWriter, r *http.Request, parse func([]byte, string) (N, error)) (n N, g *P24, ok bool) {
	if g = s.P24; g == nil {
		writeError(w, http.StatusNotFound, "not_found", "", "no Przelewy24 account configured")
		return n, nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		writeError(w, http.StatusRequestEntityTooLarge, "too_large", "", "body too large")
		return n, nil, false
	}
	n, err = parse(body, g.Client.CRC)
	switch {
	case errors.Is(err, p24.ErrBadSign):
		writeError(w, http.StatusUnauthorized, "bad_signature", "sign", "missing or wrong sign")
		return n, nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "invalid", "", err.Error())
		return n, nil, false
	}
	return n, g, true
}
