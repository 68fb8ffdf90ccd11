package dnscheck

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

const spf = "v=spf1 include:spf.protection.outlook.com -all"

func TestMXNeedsTheHostNotThePreference(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	host := "acme-pl.mail.protection.outlook.com"
	ok, err := c.HasMX(ctx, "acme.pl", host)
	require.NoError(t, err)
	require.False(t, ok, "NXDOMAIN")

	s.SetTXT("acme.pl", record)
	ok, err = c.HasMX(ctx, "acme.pl", host)
	require.NoError(t, err)
	require.False(t, ok, "the name exists without MX")

	s.SetMX("acme.pl", "mx.old-provider.pl", 10)
	ok, err = c.HasMX(ctx, "acme.pl", host)
	require.NoError(t, err)
	require.False(t, ok, "another host")

	s.SetMX("ACME.pl", "ACME-PL.mail.protection.outlook.com.", 10)
	ok, err = c.HasMX(ctx, "acme.pl.", host)
	require.NoError(t, err)
	require.True(t, ok, "case, trailing dot and preference do not matter")
	require.True(t, has(t, c, "acme.pl", record), "the TXT records stay beside the MX")
}

func TestCNAMEComparesTheTarget(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	ok, err := c.HasCNAME(ctx, "autodiscover.acme.pl", "autodiscover.outlook.com")
	require.NoError(t, err)
	require.False(t, ok, "NXDOMAIN")

	s.SetCNAME("autodiscover.acme.pl", "autodiscover.elsewhere.pl")
	ok, err = c.HasCNAME(ctx, "autodiscover.acme.pl", "autodiscover.outlook.com")
	require.NoError(t, err)
	require.False(t, ok, "another target")

	s.SetCNAME("autodiscover.acme.pl", "Autodiscover.Outlook.com.")
	ok, err = c.HasCNAME(ctx, "autodiscover.acme.pl", "autodiscover.outlook.com")
	require.NoError(t, err)
	require.True(t, ok)
}

func TestSPFComparesWithoutCase(t *testing.T) {
	s, c := setup(t)
	ctx := context.Background()
	s.SetTXT("acme.pl", record, "v=spf1 include:other.pl -all")
	ok, err := c.HasTXTFold(ctx, "acme.pl", spf)
	require.NoError(t, err)
	require.False(t, ok, "another policy")

	s.SetTXT("acme.pl", record, "V=SPF1 include:SPF.protection.outlook.com -all ")
	ok, err = c.HasTXTFold(ctx, "acme.pl.", spf)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestRecordLookupsThatFailAreErrors(t *testing.T) {
	_, c := setup(t)
	c.Server = "127.0.0.1:1" // nothing listens
	c.Timeout = 300_000_000
	ctx := context.Background()
	_, err := c.HasMX(ctx, "acme.pl", "x")
	require.Error(t, err)
	_, err = c.HasCNAME(ctx, "autodiscover.acme.pl", "x")
	require.Error(t, err)
	_, err = c.HasTXTFold(ctx, "acme.pl", spf)
	require.Error(t, err)
	_, err = c.HasMX(ctx, " ", "x")
	require.Error(t, err)
}
