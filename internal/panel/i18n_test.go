package panel

import (
	"io/fs"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/officeflow/officeflow/internal/order"
	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

var (
	literalKey = regexp.MustCompile(`\b(?:t|tf) "([^"]+)"`)
	patternKey = regexp.MustCompile(`printf "([^"]+)"`)
)

// Every message the templates name exists in both languages, for every
// value a pattern (status.%s, doc.kind.%s...) is filled with, and the two
// catalogues hold the same keys.
func TestCatalogueHasEveryKeyInBothLanguages(t *testing.T) {
	pl, en := slices.Sorted(maps.Keys(catalogue["pl"])), slices.Sorted(maps.Keys(catalogue["en"]))
	require.Equal(t, pl, en, "the same keys in Polish and English")

	values := map[string][]string{
		"status.%s":         statuses(),
		"next.%s":           statuses(),
		"cycle.%s":          {"monthly", "annual"},
		"term.%s":           {order.TermMonth, order.TermYear},
		"doc.kind.%s":       {billing.KindProforma, billing.KindInvoice, billing.KindCorrection},
		"doc.status.%s":     {billing.DocUnpaid, billing.DocPaid, billing.DocVoid},
		"sub.status.%s":     {store.ServiceActive, store.ServiceRenewalDue, store.ServiceSuspended, store.ServiceTerminated},
		"users.status.%s":   {store.UserCreating, store.UserCreated, store.UserFailed},
		"domains.status.%s": {store.DomainPending, store.DomainVerified, store.DomainFailed, store.DomainReady, store.DomainRecordsMissing},
		"msg.%s.body":       {"notfound", "forbidden", "ended", "slowdown", "unavailable"},
		"plan.apps.%s":      {string(order.AppsDesktop), string(order.AppsWeb), string(order.AppsNone)},
		"tenant.start.%s":   {string(order.AppsDesktop), string(order.AppsWeb), string(order.AppsNone)},
	}
	var keys []string
	for k := range values["msg.%s.body"] {
		keys = append(keys, "msg."+values["msg.%s.body"][k]+".title")
	}
	keys = append(keys, "due.order", "due.licences", "due.renewal", "order.title", "link.title", "link.sent.title", "login.refused.title")
	err := fs.WalkDir(templateFS, "templates", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := templateFS.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range literalKey.FindAllStringSubmatch(string(b), -1) {
			keys = append(keys, m[1])
		}
		for _, m := range patternKey.FindAllStringSubmatch(string(b), -1) {
			vs, ok := values[m[1]]
			require.True(t, ok, "%s: no values known for %q", path, m[1])
			for _, v := range vs {
				keys = append(keys, strings.Replace(m[1], "%s", v, 1))
			}
		}
		return nil
	})
	require.NoError(t, err)
	for _, lang := range languages {
		for _, k := range keys {
			_, ok := catalogue[lang][k]
			require.True(t, ok, "%s has no %q", lang, k)
		}
	}
}

func statuses() []string {
	var out []string
	for _, s := range []order.Status{order.Placed, order.BillingAccess, order.AwaitingPayment, order.ProvisioningTenant,
		order.EmailingCredentials, order.InstallerReady, order.Compensating, order.Cancelled, order.Refunded, order.NeedsAttention} {
		out = append(out, string(s))
	}
	return out
}

// A refusal the intake names by field and code has its own words in both
// languages; any other is said in general words, never in the intake's
// English.
func TestEveryRefusalHasItsWords(t *testing.T) {
	for _, lang := range languages {
		for _, fe := range []*order.FieldError{
			{Field: "add_seats", Code: "invalid"}, {Field: "request_id", Code: "invalid"}, {Field: "user_name", Code: "invalid"},
			{Field: "display_name", Code: "invalid"}, {Field: "order_id", Code: "not_active"}, {Field: "domain", Code: "invalid"},
			{Field: "domain", Code: "domain_taken"}, {Field: "add_seats", Code: "cancel_window"},
		} {
			_, ok := catalogue[lang]["refused."+fe.Field+"."+fe.Code]
			require.True(t, ok, "%s: %s/%s", lang, fe.Field, fe.Code)
		}
		msg, ok := reason(lang, &order.FieldError{Field: "x", Code: "y", Message: "english words"})
		require.True(t, ok)
		require.Equal(t, catalogue[lang]["refused.other"], msg)
		msg, ok = reason(lang, &store.SeatsError{Seats: 5, InUse: 2})
		require.True(t, ok)
		require.Contains(t, msg, "300")
		require.NotContains(t, msg, "%!")
		_, ok = reason(lang, store.ErrNotFound)
		require.False(t, ok, "not a refusal")
	}
}
