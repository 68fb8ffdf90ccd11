package panel

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/money"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"go.uber.org/zap"
)

// orderView is the order page.
type orderView struct {
	common
	Path    string // the order page's public path; the forms post below it
	Order   store.Order
	Due     []dueView
	CanPay  bool
	Docs    []store.Invoice
	Service *store.Service // nil until the order is provisioned
	InUse   int            // seats held by users
	Free    int
	Users   []store.User
	// Admin is the tenant's first admin (lower case): listed with the users
	// once it holds a licence, marked, and never offered for removal.
	Admin   string
	Domains []store.Domain
	// CanChange offers the forms for licences, users and domains: the
	// subscription runs.
	CanChange bool
	// Plan is what the order's plan gives each user, shown with the
	// subscription; Installer is where its apps are (the desktop
	// installer, the web apps or Outlook on the web) once the installer
	// step ran.
	Plan      order.Plan
	Installer string
	AdminURL  string
	// RequestID makes the licence form's request one: sent twice, it
	// buys once.
	RequestID string
	// Refused says why the form named RefusedForm was refused; Form holds
	// what was typed into it, shown again.
	Refused     string
	RefusedForm string
	Form        map[string]string
	// AssignLicence ticks the user form's licence box: by default, and
	// as typed when that form was refused.
	AssignLicence bool
	// WindowEnds is until when seats can be given back (Polish time),
	// WindowSeats how many (0: any); "" when none can, or the
	// subscription did not answer.
	WindowEnds  string
	WindowSeats int
}

// dueView is one unpaid pro-forma: what it is for, how much, by when.
type dueView struct {
	Number          string
	What            string // due.order, due.licences or due.renewal
	Net, VAT, Gross money.Grosze
	Rate            string // the VAT rate as the document prints it: "23%" or "np"
	By              string // a date, or the moment the order is cancelled unpaid
	Moment          bool   // By has an hour, in Polish time
}

// view reads what the page shows of an order.
func (p *Panel) view(ctx context.Context, o store.Order) (orderView, error) {
	lang := orderLang(o.Language)
	v := orderView{Order: o, AdminURL: order.AdminURL, Path: p.path + "/orders/" + url.PathEscape(o.ID),
		common: common{Lang: lang, Title: text(lang, "order.title") + " " + o.ID, Base: p.path, SignedIn: true}}
	docs, err := p.o.Store.Documents(ctx, o.ID)
	if err != nil {
		return v, err
	}
	v.Docs, v.Due = docs, due(o, docs)
	v.CanPay = p.o.Payer != nil && len(v.Due) > 0
	sv, err := p.o.Store.GetService(ctx, o.ID)
	if errors.Is(err, store.ErrNotFound) {
		return v, nil
	}
	if err != nil {
		return v, err
	}
	v.Service = &sv
	v.CanChange = sv.Status == store.ServiceActive || sv.Status == store.ServiceRenewalDue
	if v.Users, err = p.o.Store.Users(ctx, o.ID); err != nil {
		return v, err
	}
	if o.Tenant != nil {
		v.Admin = strings.ToLower(o.Tenant.AdminUser)
	}
	for _, u := range v.Users {
		if u.Licensed && u.Status != store.UserFailed && u.Status != store.UserRemoved {
			v.InUse++
		}
	}
	v.Free = max(sv.Seats-v.InUse, 0)
	if v.CanChange {
		// The page shows without it when the subscription is slow to
		// answer: it only helps the customer decide.
		qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		until, seats, err := p.o.Actions.SeatWindow(qctx, o)
		cancel()
		if err != nil {
			p.o.Log.Warn("panel: the cancellation window not known", zap.String("order_id", o.ID), zap.Error(err))
		} else if !until.IsZero() {
			v.WindowEnds, v.WindowSeats = until.In(warsaw()).Format("2006-01-02 15:04"), seats
		}
	}
	if v.Domains, err = p.o.Store.Domains(ctx, o.ID); err != nil {
		return v, err
	}
	v.Plan, _ = order.PlanByCode(o.Plan)
	if o.InstallerURL != "" && v.Plan.Apps.Valid() {
		// The plan's facts, not the address kept when the step ran: an
		// Exchange Online order finished before Outlook on the web was its
		// address still gets it.
		v.Installer = v.Plan.InstallerURL()
	}
	return v, nil
}

// due lists the unpaid pro-formas. The order's own is due by the moment
// the order is cancelled unpaid; a later purchase's by its due date.
func due(o store.Order, docs []store.Invoice) []dueView {
	var out []dueView
	for _, d := range docs {
		if d.Kind != billing.KindProforma || d.Status != billing.DocUnpaid {
			continue
		}
		v := dueView{Number: d.Number, What: "due.order", Net: d.Net, VAT: d.VAT, Gross: d.Gross,
			Rate: billing.VATLabel(d.VATCode)}
		switch {
		case d.ChargeID == "":
			v.By, v.Moment = o.PaymentDeadline.In(warsaw()).Format("2006-01-02 15:04"), true
		case strings.Contains(d.ChargeID, ":renewal:"):
			v.What = "due.renewal"
		default:
			v.What = "due.licences"
		}
		if v.By == "" && d.DueDate != nil {
			v.By = d.DueDate.Format("2006-01-02")
		}
		out = append(out, v)
	}
	return out
}

func (p *Panel) orderPage(w http.ResponseWriter, r *http.Request, o store.Order) {
	p.page(w, r, o, http.StatusOK, nil)
}

// page renders the order page; refused, when set, shows why a form was
// refused, with 422.
func (p *Panel) page(w http.ResponseWriter, r *http.Request, o store.Order, status int, refused *orderView) {
	v, err := p.view(r.Context(), o)
	if err != nil {
		p.unavailable(w, r, "read order page", err)
		return
	}
	v.AssignLicence = true
	if refused != nil {
		v.Refused, v.RefusedForm, v.Form = refused.Refused, refused.RefusedForm, refused.Form
		v.AssignLicence = v.RefusedForm != "users" || v.Form["assign_licence"] != ""
	}
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	v.RequestID = "p" + hex.EncodeToString(b)
	v.CSRF = p.csrf(browserID(r))
	p.render(w, status, v.Lang, "order", v)
}

// documentPDF serves one of the order's documents.
func (p *Panel) documentPDF(w http.ResponseWriter, r *http.Request, o store.Order) {
	name, isPDF := strings.CutSuffix(r.PathValue("file"), ".pdf")
	id, err := strconv.ParseInt(name, 10, 64)
	if !isPDF || err != nil || id < 1 {
		p.message(w, r, http.StatusNotFound, "notfound")
		return
	}
	of, pdf, err := p.o.Store.DocumentPDF(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || err == nil && of.OrderID != o.ID {
		p.message(w, r, http.StatusNotFound, "notfound") // another order's document does not exist here
		return
	}
	if err != nil {
		p.unavailable(w, r, "read document", err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="`+strings.ReplaceAll(of.Number, "/", "_")+`.pdf"`)
	w.Header().Set("Content-Length", strconv.Itoa(len(pdf)))
	_, _ = w.Write(pdf)
}

// pay sends the customer to the payment gateway for what is due.
func (p *Panel) pay(w http.ResponseWriter, r *http.Request, o store.Order) {
	if p.o.Payer == nil {
		p.message(w, r, http.StatusNotFound, "notfound")
		return
	}
	docs, err := p.o.Store.Documents(r.Context(), o.ID)
	if err != nil {
		p.unavailable(w, r, "read documents", err)
		return
	}
	if len(due(o, docs)) == 0 {
		http.Redirect(w, r, p.orderURL(o.ID), http.StatusSeeOther) // paid meanwhile: the page says so
		return
	}
	to, err := p.o.Payer.Pay(r.Context(), o.ID, orderLang(o.Language))
	if err != nil {
		p.unavailable(w, r, "start payment", err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// removeUser removes one of the order's users.
func (p *Panel) removeUser(w http.ResponseWriter, r *http.Request, o store.Order) {
	_, err := p.o.Actions.RemoveUser(r.Context(), o, r.PostFormValue("user_name"))
	if errors.Is(err, store.ErrNotFound) {
		p.message(w, r, http.StatusNotFound, "notfound")
		return
	}
	p.answer(w, r, o, "users", nil, err)
}

// cancelSubscription ends the subscription when its paid period ends.
func (p *Panel) cancelSubscription(w http.ResponseWriter, r *http.Request, o store.Order) {
	err := p.o.Actions.CancelAtPeriodEnd(r.Context(), o, "customer", "requested by the customer in the billing panel")
	p.answer(w, r, o, "subscription", nil, err)
}

func (p *Panel) licences(w http.ResponseWriter, r *http.Request, o store.Order) {
	in := inputs(r, "add_seats")
	n, err := strconv.Atoi(in["add_seats"])
	if err == nil {
		_, err = p.o.Actions.AddSeats(r.Context(), o, r.PostFormValue("request_id"), n)
	} else {
		err = &order.FieldError{Field: "add_seats", Code: "invalid"}
	}
	p.answer(w, r, o, "licences", in, err)
}

func (p *Panel) users(w http.ResponseWriter, r *http.Request, o store.Order) {
	in := inputs(r, "user_name", "display_name", "assign_licence")
	_, err := p.o.Actions.AddUser(r.Context(), o, in["user_name"], in["display_name"], in["assign_licence"] != "")
	p.answer(w, r, o, "users", in, err)
}

func (p *Panel) domains(w http.ResponseWriter, r *http.Request, o store.Order) {
	in := inputs(r, "domain", "make_default")
	_, err := p.o.Actions.AddDomain(r.Context(), o, in["domain"], in["make_default"] != "")
	p.answer(w, r, o, "domains", in, err)
}

// inputs are a form's fields as typed.
func inputs(r *http.Request, names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n] = strings.TrimSpace(r.PostFormValue(n))
	}
	return out
}

// answer sends the customer back to the order page, where the request
// shows; a refusal is the page again with the reason and what was typed.
func (p *Panel) answer(w http.ResponseWriter, r *http.Request, o store.Order, form string, in map[string]string, err error) {
	if err == nil {
		http.Redirect(w, r, p.orderURL(o.ID), http.StatusSeeOther)
		return
	}
	why, ok := reason(orderLang(o.Language), err)
	if !ok {
		p.unavailable(w, r, form, err)
		return
	}
	p.page(w, r, o, http.StatusUnprocessableEntity, &orderView{Refused: why, RefusedForm: form, Form: in})
}
