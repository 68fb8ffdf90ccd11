package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/officeflow/officeflow/internal/intake"
)

// afterUsage documents the commands for a provisioned order.
const afterUsage = `
commands for a provisioned order (its subscription):
  licences -request-id ID -add N ORDER_ID
                               more seats (N > 0, billed prorated to the period's end)
                               or fewer (N < 0, as far as no assigned licence is lost)
  user -name NAME -display-name TEXT [-licence] ORDER_ID
                               make a user in the tenant (NAME: mailbox or full address),
                               with the plan's licence if a seat is free
  domain -domain NAME [-default] ORDER_ID
                               add the customer's own domain; the DNS TXT record to
                               publish is emailed, and the domain checked until seen
  end [-reason TEXT] ORDER_ID  end the subscription when its paid period ends
  pay -charge CHARGE_ID ORDER_ID
                               pay a later purchase (licences, a renewal) instead of the order
`

// afterCmd runs the commands for a provisioned order; ok is false for a
// command that is not one of them.
func afterCmd(ctx context.Context, cmd string, flags *flag.FlagSet, args []string, stdout io.Writer) (ok bool, err error) {
	var call func(c *intake.Client, orderID string) (any, error)
	switch cmd {
	case "licences":
		id := flags.String("request-id", "", "the request's `id`: the same id again is the same request")
		add := flags.Int("add", 0, "seats to add; negative lowers")
		call = func(c *intake.Client, orderID string) (any, error) {
			return c.Licences(ctx, orderID, intake.LicencesRequest{RequestID: *id, AddSeats: *add})
		}
	case "user":
		name := flags.String("name", "", "the user's mailbox `name` or full address")
		display := flags.String("display-name", "", "the user's display `name`")
		licence := flags.Bool("licence", false, "assign the plan's licence")
		call = func(c *intake.Client, orderID string) (any, error) {
			return c.AddUser(ctx, orderID, intake.UserRequest{UserName: *name, DisplayName: *display, AssignLicence: *licence})
		}
	case "domain":
		domain := flags.String("domain", "", "the customer's own `domain`, e.g. acme.pl")
		def := flags.Bool("default", false, "make it the tenant's default domain once verified")
		call = func(c *intake.Client, orderID string) (any, error) {
			return c.AddDomain(ctx, orderID, intake.DomainRequest{Domain: *domain, MakeDefault: *def})
		}
	case "end":
		reason := flags.String("reason", "", "why, for the order's log")
		call = func(c *intake.Client, orderID string) (any, error) {
			return c.CancelSubscription(ctx, orderID, *reason)
		}
	default:
		return false, nil
	}
	pos, err := parse(flags, args, 1)
	if err != nil {
		return true, helpOr(err, stdout)
	}
	c, _, err := clientFromEnv()
	if err != nil {
		return true, err
	}
	v, err := call(c, pos[0])
	if err != nil {
		return true, err
	}
	return true, printJSON(stdout, v)
}

// chargeAmount is the gross of a charge's pro-forma, from the documents.
func chargeAmount(ctx context.Context, c *intake.Client, orderID, chargeID string) (gross, currency string, err error) {
	docs, err := c.Documents(ctx, orderID)
	if err != nil {
		return "", "", err
	}
	for _, d := range docs {
		if d.ChargeID == chargeID && d.Kind == "proforma" {
			return d.Gross, d.Currency, nil
		}
	}
	return "", "", fmt.Errorf("charge %s of order %s has no pro-forma yet", chargeID, orderID)
}
