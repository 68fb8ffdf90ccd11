package store_test

import (
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/store"
	"github.com/stretchr/testify/require"
)

// A yearly term billed monthly ends after its twelfth period, whichever
// period the subscription is in; a monthly or annual term ends with the
// period.
func TestTermEndIsTheEndOfTheTermsLastPeriod(t *testing.T) {
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }
	for _, c := range []struct {
		term, cycle string
		period      int
		end, want   time.Time
	}{
		{"P1M", "monthly", 3, day(2027, 4, 15), day(2027, 4, 15)},
		{"P1Y", "annual", 2, day(2028, 1, 15), day(2028, 1, 15)},
		{"P1Y", "monthly", 1, day(2027, 2, 15), day(2028, 1, 15)},
		{"P1Y", "monthly", 11, day(2027, 12, 15), day(2028, 1, 15)},
		{"P1Y", "monthly", 12, day(2028, 1, 15), day(2028, 1, 15)},
		{"P1Y", "monthly", 13, day(2028, 2, 15), day(2029, 1, 15)},
	} {
		months := 1
		if c.cycle == "annual" {
			months = 12
		}
		sv := store.Service{Term: c.term, BillingCycle: c.cycle, Period: c.period, PeriodEnd: c.end, Months: months}
		require.Equal(t, c.want, sv.TermEnd(), "%s billed %s, period %d", c.term, c.cycle, c.period)
	}
}
