package activities

import (
	"context"
	"encoding/hex"
	"errors"
	"time"

	"github.com/officeflow/officeflow/internal/fail"
	"github.com/officeflow/officeflow/internal/mail"
	"github.com/officeflow/officeflow/internal/secret"
	"github.com/officeflow/officeflow/internal/store"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// PanelLink is one billing panel sign-in link the customer asked for: the
// order it opens and the nonce its token is derived from. The token itself
// never enters workflow history; the panel stored only its hash.
type PanelLink struct {
	OrderID string
	Nonce   string
}

// SendPanelLink mails a sign-in link to the order's customer, once per link:
// a retry derives the same token from the nonce and finds the email
// recorded. A link that expired meanwhile is not sent.
func (a *Activities) SendPanelLink(ctx context.Context, l PanelLink) error {
	return a.once(ctx, func(ctx context.Context) (*outgoing, error) { return a.panelLinkEmail(ctx, l) })
}

// panelLinkEmail is SendPanelLink's email, nil when none is due.
func (a *Activities) panelLinkEmail(ctx context.Context, l PanelLink) (*outgoing, error) {
	token := a.Box.Token(secret.PurposePanelLink, l.Nonce)
	link, err := a.Store.PanelLinkOf(ctx, secret.Hash(token))
	if err == nil && link.OrderID != l.OrderID {
		err = store.ErrNotFound // a link of another order is none of this one's
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, temporal.NewNonRetryableApplicationError("no such panel link for order "+l.OrderID, fail.InvalidOrder, nil)
	}
	if err != nil {
		return nil, err
	}
	if time.Now().After(link.ExpiresAt) {
		activity.GetLogger(ctx).Info("panel link expired before it was sent", "OrderID", l.OrderID)
		return nil, nil
	}
	// The key names the link by a prefix of its stored hash: keys reach
	// logs, and the nonce, with the key, would make the token.
	key := string(mail.KindPanelLink) + ":" + hex.EncodeToString(link.Hash[:8])
	o, sent, err := a.Store.OrderForEmail(ctx, l.OrderID, key)
	if err != nil || sent {
		return nil, dbError(err)
	}
	d := mail.Data{
		Language: o.Language, OrderID: o.ID, Company: o.Customer.Company, FirstName: o.Customer.FirstName, LastName: o.Customer.LastName,
		PlanName: o.PlanName, Seats: o.Seats, BillingCycle: o.BillingCycle,
		BillingPanelURL: a.loginURL(token), LinkValidUntil: link.ExpiresAt.In(a.loc()).Format("2006-01-02 15:04"),
	}
	return &outgoing{orderID: l.OrderID, key: key, template: mail.KindPanelLink, to: o.Customer.Email, data: d,
		record: func(ctx context.Context, msgID string) (bool, error) {
			return a.Store.RecordEmail(ctx, l.OrderID, key, o.Customer.Email, msgID, false)
		}}, nil
}
