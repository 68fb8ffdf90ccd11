// Package intake is the HTTP API web shops and payment gateways call, and a
// small Go client for it. The server checks every request before anything
// happens: bad input is a 4xx naming the field, and no workflow starts for it.
package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/officeflow/officeflow/workflows"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.uber.org/zap"
)

// Server serves the intake API.
type Server struct {
	Store         *store.Store
	Temporal      client.Client
	TaskQueue     string
	Keys          []string
	WebhookSecret []byte
	Deadline      time.Duration
	Reminders     []time.Duration // offsets of payment reminders, see order.ReminderTimes
	Log           *zap.Logger
	// Ready reports whether the parts the API needs answer; nil is always ready.
	Ready func(ctx context.Context) error
	// DomainSchedule is how customers' own domains are checked; zero is
	// workflows.DefaultDomainSchedule.
	DomainSchedule workflows.DomainSchedule
	// P24 is the Przelewy24 account; nil offers no pay button and takes no
	// gateway notifications.
	P24 *P24
}

const maxBody = 64 << 10

// Handler routes the API.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /v1/orders", s.shop(s.placeOrder))
	mux.Handle("GET /v1/orders/{order_id}", s.shop(s.getOrder))
	mux.Handle("POST /v1/orders/{order_id}/cancel", s.shop(s.cancelOrder))
	mux.Handle("GET /v1/orders/{order_id}/documents", s.shop(s.listDocuments))
	mux.Handle("GET /v1/documents/{file}", s.shop(s.documentFile)) // {id}.pdf, {id}.xml
	mux.Handle("GET /v1/documents/{id}/upo.xml", s.shop(s.documentUPO))
	mux.Handle("POST /v1/orders/{order_id}/licences", s.shop(s.changeLicences))
	mux.Handle("POST /v1/orders/{order_id}/users", s.shop(s.addUser))
	mux.Handle("DELETE /v1/orders/{order_id}/users/{user_name}", s.shop(s.removeUser))
	mux.Handle("POST /v1/orders/{order_id}/domains", s.shop(s.addDomain))
	mux.Handle("GET /v1/orders/{order_id}/domains/{domain}", s.shop(s.getDomain))
	mux.Handle("POST /v1/orders/{order_id}/subscription/cancel", s.shop(s.cancelSubscription))
	mux.HandleFunc("POST /v1/payments/notifications", s.paymentNotification)
	mux.HandleFunc("POST /v1/payments/p24/status", s.p24Status)
	mux.HandleFunc("POST /v1/payments/p24/refund", s.p24Refund)
	mux.HandleFunc("GET /healthz", Healthz)
	mux.HandleFunc("GET /readyz", Readyz(func(ctx context.Context) error {
		if s.Ready == nil {
			return nil
		}
		return s.Ready(ctx)
	}))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "", "no such endpoint: "+r.Method+" "+r.URL.Path)
	})
	return s.recoverer(mux)
}

// shop lets a request through only with one of the shops' bearer keys,
// compared in constant time, and remembers which shop it is: a shop sees and
// steers only its own orders.
func (s *Server) shop(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		valid := false
		for _, k := range s.Keys {
			// Every key is compared, so the time taken does not tell which matched.
			valid = secret.Equal(key, k) || valid
		}
		if !ok || key == "" || !valid {
			w.Header().Set("WWW-Authenticate", `Bearer realm="officeflow"`)
			writeError(w, http.StatusUnauthorized, "unauthorized", "Authorization", "a valid shop key is required: Authorization: Bearer <key>")
			return
		}
		next(w, r.WithContext(context.WithValue(r.Context(), shopKey{}, ShopID(key))))
	})
}

type shopKey struct{}

// ShopID is the fingerprint of a shop's key kept with its orders; the key
// itself is never stored.
func ShopID(key string) string {
	h := sha256.Sum256([]byte("officeflow-shop\x00" + key))
	return hex.EncodeToString(h[:8])
}

func shopOf(r *http.Request) string {
	id, _ := r.Context().Value(shopKey{}).(string)
	return id
}

func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Log.Error("intake handler panicked", zap.Any("panic", v), zap.String("path", r.URL.Path))
				writeError(w, http.StatusInternalServerError, "internal", "", "internal error")
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Placed is the answer to POST /v1/orders, the same on every repeat.
type Placed struct {
	OrderID         string    `json:"order_id"`
	Status          string    `json:"status"`
	WorkflowID      string    `json:"workflow_id"`
	PlacedAt        time.Time `json:"placed_at"`
	PaymentDeadline time.Time `json:"payment_deadline"`
}

func (s *Server) placeOrder(w http.ResponseWriter, r *http.Request) {
	var req order.Request
	if fe := decodeStrict(w, r, &req); fe != nil {
		writeFieldError(w, fe)
		return
	}
	req.Normalize()
	req.Shop = shopOf(r)
	if fe := req.Validate(); fe != nil {
		writeFieldError(w, fe)
		return
	}
	if fe := req.CheckAcceptedBy(time.Now()); fe != nil {
		writeFieldError(w, fe)
		return
	}
	ctx := r.Context()
	// An order recorded before is answered from the database, read only:
	// its workflow may have closed long ago, and a repeat changes nothing.
	p, err := s.Store.Placement(ctx, req)
	switch {
	case err == nil:
		w.Header().Set("Idempotent-Replayed", "true")
		writeJSON(w, http.StatusAccepted, placedView(req.OrderID, p.PlacedAt, p.Deadline))
		return
	case errors.Is(err, store.ErrConflict):
		s.conflict(w, req.OrderID)
		return
	case !errors.Is(err, store.ErrNotFound):
		s.unavailable(w, "read order", err)
		return
	}
	// Nothing recorded: the workflow records it, and answers.
	placedAt := time.Now().UTC().Truncate(time.Microsecond) // what PostgreSQL keeps
	ans, err := Place(ctx, s.Temporal, s.TaskQueue, s.Reminders, order.Placement{
		Request: req, Shop: req.Shop, Hash: req.Hash(),
		PlacedAt: placedAt, Deadline: placedAt.Add(s.Deadline).Truncate(time.Second),
	})
	switch {
	case isType(err, fail.OrderConflict):
		s.conflict(w, req.OrderID)
		return
	case err != nil:
		// Nothing was written by the intake; the workflow, if it started,
		// records the order and the shop's retry finds it.
		s.unavailable(w, "place order", err)
		return
	case ans.Outcome == order.OutcomeDomainTaken:
		writeError(w, http.StatusConflict, "domain_taken", "domain_prefix", "domain "+req.DomainPrefix+".onmicrosoft.com is held by another order")
		return
	}
	if !ans.Created {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	writeJSON(w, http.StatusAccepted, placedView(req.OrderID, ans.PlacedAt, ans.Deadline))
}

func (s *Server) conflict(w http.ResponseWriter, orderID string) {
	writeError(w, http.StatusConflict, "order_id_conflict", "order_id", "order "+orderID+" was placed before with different content")
}

func placedView(orderID string, placedAt, deadline time.Time) Placed {
	return Placed{
		OrderID: orderID, Status: string(order.Placed), WorkflowID: workflows.WorkflowID(orderID),
		PlacedAt: placedAt.UTC(), PaymentDeadline: deadline.UTC(),
	}
}

// placeTimeout bounds the wait for the workflow's answer, within the HTTP
// server's WriteTimeout (60 s) and this package's Client (60 s): past it
// the shop gets 503 and retries; a placement the workflow recorded
// meanwhile is then found in the database. The answer needs the new run's
// first workflow task, which waits behind every task already queued: a
// second or less normally, over 20 s for a few of 1000 orders placed at
// once on two cores (TestLoad1000OrdersThroughIntake).
const placeTimeout = 45 * time.Second

// Place starts an order's workflow with Update-with-Start: the start
// carries the OrderInput and the place update carries p, which the
// workflow records first thing (order, customer, domain reservation) before
// it answers: placed (Created false for a repeat) or domain_taken; an id
// placed before with another request is an error of type
// fail.OrderConflict. The intake places every order with it, and the bench
// too.
//
// Conflict policy USE_EXISTING: a repeat while the run is open is one more
// place update to it, answered from its state. Reuse policy ALLOW_DUPLICATE:
// an id whose run ended without an order (domain taken) may be placed again
// by a new run. A closed run that did record its order is never restarted by
// the intake, which reads the database first; should a repeat race past that
// read while the earlier run closes, the new run finds the order recorded
// and moved on, answers from it and ends without touching it.
func Place(ctx context.Context, c client.Client, taskQueue string, reminders []time.Duration, p order.Placement) (workflows.PlaceAnswer, error) {
	ctx, cancel := context.WithTimeout(ctx, placeTimeout)
	defer cancel()
	opts, in := StartOptions(p, taskQueue, reminders)
	h, err := c.UpdateWithStartWorkflow(ctx, client.UpdateWithStartWorkflowOptions{
		StartWorkflowOperation: c.NewWithStartWorkflowOperation(opts, workflows.OrderWorkflowName, in),
		UpdateOptions: client.UpdateWorkflowOptions{
			WorkflowID: opts.ID, UpdateName: workflows.UpdatePlace,
			WaitForStage: client.WorkflowUpdateStageCompleted,
			Args:         []any{p},
		},
	})
	var ans workflows.PlaceAnswer
	if err == nil {
		err = h.Get(ctx, &ans)
	}
	return ans, err
}

// StartOptions is how an order's saga starts: its input, and the start
// options with the id, search attributes, memo and summary.
func StartOptions(p order.Placement, taskQueue string, reminders []time.Duration) (client.StartWorkflowOptions, workflows.OrderInput) {
	req := p.Request
	in := workflows.OrderInput{
		OrderID: req.OrderID, Plan: req.Plan, Seats: req.Seats, DomainPrefix: req.DomainPrefix, PaymentDeadline: p.Deadline.UTC(),
		Reminders: order.ReminderTimes(p.PlacedAt, p.Deadline, reminders),
	}
	// Memo and summary name the customer's company for operators; like all
	// payloads they pass the data converter, so with PAYLOAD_KEYS they are
	// ciphertext in history and the Web UI shows them through the codec.
	return client.StartWorkflowOptions{
		ID:                       workflows.WorkflowID(req.OrderID),
		TaskQueue:                taskQueue,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		TypedSearchAttributes:    workflows.StartAttributes(in),
		Memo:                     map[string]any{"order_id": req.OrderID, "plan": req.Plan, "company": req.Customer.Company},
		StaticSummary:            "Order " + req.OrderID + ": " + req.Plan + " x" + strconv.Itoa(req.Seats) + " for " + req.Customer.Company,
	}, in
}

// isType tells whether err is (or wraps) an application error of type t.
func isType(err error, t string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == t
}

func (s *Server) unavailable(w http.ResponseWriter, what string, err error) {
	s.Log.Error("intake: "+what, zap.Error(err))
	w.Header().Set("Retry-After", "5")
	writeError(w, http.StatusServiceUnavailable, "unavailable", "", "the order service is temporarily unavailable; retry the same request")
}

// OrderView is the answer to GET /v1/orders/{id}.
type OrderView struct {
	OrderID      string `json:"order_id"`
	Status       string `json:"status"`
	Reason       string `json:"reason,omitempty"`
	Plan         string `json:"plan"`
	Seats        int    `json:"seats"`
	BillingCycle string `json:"billing_cycle"`
	// Term is the subscription's term at Microsoft: P1M or P1Y.
	Term            string       `json:"term"`
	Domain          string       `json:"domain"`
	TenantID        string       `json:"tenant_id,omitempty"`
	InstallerURL    string       `json:"installer_url,omitempty"`
	PlacedAt        time.Time    `json:"placed_at"`
	UpdatedAt       time.Time    `json:"updated_at"`
	PaymentDeadline time.Time    `json:"payment_deadline"`
	Invoice         *InvoiceView `json:"invoice,omitempty"`
	// Subscription is what the order became once provisioned: its state
	// (active, renewal_due, suspended, terminated), period and seats.
	Subscription *SubscriptionView `json:"subscription,omitempty"`
}

// InvoiceView is an invoice with money as decimal strings.
type InvoiceView struct {
	Number   string `json:"number"`
	Status   string `json:"status"`
	Net      string `json:"net"`
	VAT      string `json:"vat"`
	Gross    string `json:"gross"`
	Currency string `json:"currency"`
	DueDate  string `json:"due_date,omitempty"`
}

func (s *Server) getOrder(w http.ResponseWriter, r *http.Request) {
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	v := OrderView{
		OrderID: o.ID, Status: string(o.Status), Reason: o.Reason, Plan: o.Plan, Seats: o.Seats, BillingCycle: o.BillingCycle, Term: o.Term,
		Domain: o.DomainPrefix + ".onmicrosoft.com", TenantID: o.TenantID, InstallerURL: o.InstallerURL,
		PlacedAt: o.PlacedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC(), PaymentDeadline: o.PaymentDeadline.UTC(),
	}
	if inv := o.Invoice; inv != nil {
		v.Invoice = &InvoiceView{Number: inv.Number, Status: inv.Status, Net: inv.Net.String(), VAT: inv.VAT.String(), Gross: inv.Gross.String(), Currency: inv.Currency}
		if inv.DueDate != nil {
			v.Invoice.DueDate = inv.DueDate.Format(time.DateOnly)
		}
	}
	if o.Status == order.InstallerReady {
		sv, err := s.Store.GetService(r.Context(), o.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.unavailable(w, "read subscription", err)
			return
		}
		if err == nil {
			v.Subscription = &SubscriptionView{Status: sv.Status, Period: sv.Period, PeriodStart: sv.PeriodStart.Format(time.DateOnly),
				PeriodEnd: sv.PeriodEnd.AddDate(0, 0, -1).Format(time.DateOnly), Seats: sv.Seats, CancelAtPeriodEnd: sv.CancelAtPeriodEnd,
				TermEnd: sv.TermEnd().AddDate(0, 0, -1).Format(time.DateOnly)}
		}
	}
	writeJSON(w, http.StatusOK, v)
}

func (s *Server) lookup(w http.ResponseWriter, r *http.Request) (store.Order, bool) {
	o, err := s.Store.GetOrder(r.Context(), r.PathValue("order_id"))
	if err == nil && o.Shop != shopOf(r) {
		err = store.ErrNotFound // another shop's order does not exist for this one
	}
	if errors.Is(err, store.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "order_id", "no order "+r.PathValue("order_id"))
		return o, false
	}
	if err != nil {
		s.unavailable(w, "read order", err)
		return o, false
	}
	return o, true
}

type cancelBody struct {
	Reason string `json:"reason"`
}

func (s *Server) cancelOrder(w http.ResponseWriter, r *http.Request) {
	var body cancelBody
	if r.ContentLength != 0 {
		if fe := decodeStrict(w, r, &body); fe != nil {
			writeFieldError(w, fe)
			return
		}
	}
	if len(body.Reason) > 500 {
		writeError(w, http.StatusBadRequest, "invalid", "reason", "reason must be at most 500 characters")
		return
	}
	if body.Reason == "" {
		body.Reason = "cancelled by the shop"
	}
	o, ok := s.lookup(w, r)
	if !ok {
		return
	}
	switch {
	case o.Status == order.Cancelled || o.Status == order.Compensating:
		writeJSON(w, http.StatusAccepted, map[string]string{"order_id": o.ID, "status": string(o.Status)})
		return
	case !o.Status.Cancellable():
		writeError(w, http.StatusConflict, "not_cancellable", "order_id", "order is "+string(o.Status)+" and can no longer be cancelled")
		return
	}
	h, err := s.Temporal.UpdateWorkflow(r.Context(), client.UpdateWorkflowOptions{
		WorkflowID: workflows.WorkflowID(o.ID), UpdateName: workflows.UpdateCancel,
		UpdateID:     "cancel-" + o.ID, // a repeated cancel is the same update
		WaitForStage: client.WorkflowUpdateStageCompleted,
		Args:         []any{workflows.CancelRequest{Reason: body.Reason, Actor: "shop"}},
	})
	if err == nil {
		err = h.Get(r.Context(), nil)
	}
	if err != nil {
		if notCancellable(err) {
			writeError(w, http.StatusConflict, "not_cancellable", "order_id", "order can no longer be cancelled")
			return
		}
		s.unavailable(w, "cancel", err)
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"order_id": o.ID, "status": string(order.Compensating)})
}

// notCancellable tells whether the cancel update was refused because the
// order is paid or past cancelling (the workflow's validator says so by the
// error's type), as opposed to Temporal being unreachable.
func notCancellable(err error) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == fail.NotCancellable
}

// Healthz answers while the process serves at all: a liveness probe.
func Healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Readyz answers 200 when ready says so within two seconds, 503 with the
// reason otherwise: a readiness probe takes the process out of rotation
// while PostgreSQL or Temporal is away.
func Readyz(ready func(ctx context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			writeError(w, http.StatusServiceUnavailable, "not_ready", "", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}
}
