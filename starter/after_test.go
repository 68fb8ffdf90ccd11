package main

import (
	"testing"

	"github.com/officeflow/officeflow/internal/intake"
	"github.com/stretchr/testify/require"
)

func TestPostPurchaseCommandsSendTheirRequests(t *testing.T) {
	f := startFake(t)
	for _, args := range [][]string{
		{"licences", "-request-id", "r1", "-add", "3", "shop-1"},
		{"licences", "shop-1", "-request-id", "r2", "-add", "-2"},
		{"user", "-name", "jan", "-display-name", "Jan Nowak", "-licence", "shop-1"},
		{"domain", "-domain", "acme.pl", "-default", "shop-1"},
		{"end", "-reason", "moving away", "shop-1"},
	} {
		r := cli(t, "", args...)
		require.Equal(t, 0, r.code, "%v: %s", args, r.stderr)
		require.Contains(t, r.stdout, `"status": "accepted"`)
	}
	require.Equal(t, []string{
		`/v1/orders/shop-1/licences {"request_id":"r1","add_seats":3}`,
		`/v1/orders/shop-1/licences {"request_id":"r2","add_seats":-2}`,
		`/v1/orders/shop-1/users {"user_name":"jan","display_name":"Jan Nowak","assign_licence":true}`,
		`/v1/orders/shop-1/domains {"domain":"acme.pl","make_default":true}`,
		`/v1/orders/shop-1/subscription/cancel {"reason":"moving away"}`,
	}, f.posted)
}

func TestPayChargeSendsItsProformasGross(t *testing.T) {
	f := startFake(t)
	r := cli(t, "", "pay", "-charge", "shop-1:licences:r1", "shop-1")
	require.Equal(t, 0, r.code, r.stderr)
	require.Equal(t, []intake.Notification{{OrderID: "shop-1", PaymentID: "cli-shop-1:licences:r1", Status: "completed",
		Amount: "81.00", Currency: "PLN", ChargeID: "shop-1:licences:r1"}}, f.notified)
	requireOneLine(t, cli(t, "", "pay", "-charge", "shop-1:licences:none", "shop-1"), 1)
}

func TestPostPurchaseUsageErrors(t *testing.T) {
	startFake(t)
	for _, args := range [][]string{{"licences", "-add", "1"}, {"user", "a", "b"}, {"domain", "-nope", "shop-1"}} {
		requireOneLine(t, cli(t, "", args...), 2)
	}
}
