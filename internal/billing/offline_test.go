package billing_test

import (
	"testing"
	"time"

	"github.com/officeflow/officeflow/internal/billing"
	"github.com/stretchr/testify/require"
)

func TestOfflineDeadline(t *testing.T) {
	waw, err := time.LoadLocation("Europe/Warsaw")
	require.NoError(t, err)
	at := func(y int, m time.Month, d, h, min int) time.Time { return time.Date(y, m, d, h, min, 0, 0, waw) }
	for _, c := range []struct {
		name   string
		issued time.Time
		// due is the last day to send on; the deadline is its end.
		due time.Time
	}{
		{"tryby-offline.md's example: Wednesday, Thursday", at(2025, 7, 8, 10, 0), at(2025, 7, 9, 0, 0)},
		{"late on a Monday", at(2026, 1, 12, 23, 59), at(2026, 1, 13, 0, 0)},
		{"Friday: Monday", at(2026, 1, 9, 9, 0), at(2026, 1, 12, 0, 0)},
		{"Saturday: Monday", at(2026, 1, 10, 9, 0), at(2026, 1, 12, 0, 0)},
		{"Sunday: Monday", at(2026, 1, 11, 9, 0), at(2026, 1, 12, 0, 0)},
		{"before Epiphany", at(2026, 1, 5, 9, 0), at(2026, 1, 7, 0, 0)},
		{"New Year's Eve", at(2026, 12, 31, 9, 0), at(2027, 1, 4, 0, 0)}, // 1 Jan Fri, then the weekend
		{"Thursday before Easter 2026", at(2026, 4, 2, 9, 0), at(2026, 4, 3, 0, 0)},
		{"Friday before Easter Monday 2026", at(2026, 4, 3, 9, 0), at(2026, 4, 7, 0, 0)},
		{"Friday before Easter Monday 2025", at(2025, 4, 18, 9, 0), at(2025, 4, 22, 0, 0)},
		{"Friday before Easter Monday 2027", at(2027, 3, 26, 9, 0), at(2027, 3, 30, 0, 0)},
		{"Friday before Easter Monday 2024", at(2024, 3, 29, 9, 0), at(2024, 4, 2, 0, 0)},
		{"before 1 May 2026 (a Friday)", at(2026, 4, 30, 9, 0), at(2026, 5, 4, 0, 0)},
		{"before 3 May 2027 (a Monday)", at(2027, 4, 30, 9, 0), at(2027, 5, 4, 0, 0)},
		{"before Corpus Christi 2026 (4 June)", at(2026, 6, 3, 9, 0), at(2026, 6, 5, 0, 0)},
		{"before Corpus Christi 2025 (19 June)", at(2025, 6, 18, 9, 0), at(2025, 6, 20, 0, 0)},
		{"before 15 August 2025 (a Friday)", at(2025, 8, 14, 9, 0), at(2025, 8, 18, 0, 0)},
		{"before All Saints' 2027 (a Monday)", at(2027, 10, 29, 9, 0), at(2027, 11, 2, 0, 0)},
		{"before Independence Day 2026", at(2026, 11, 10, 9, 0), at(2026, 11, 12, 0, 0)},
		{"23 December 2026: Wigilia, Christmas, the weekend", at(2026, 12, 23, 9, 0), at(2026, 12, 28, 0, 0)},
		{"23 December 2025: Wigilia and Christmas", at(2025, 12, 23, 9, 0), at(2025, 12, 29, 0, 0)}, // 27-28 the weekend
		{"23 December 2024: Wigilia was a working day then", at(2024, 12, 23, 9, 0), at(2024, 12, 24, 0, 0)},
		{"Friday before the clocks go forward", at(2026, 3, 27, 9, 0), at(2026, 3, 30, 0, 0)},
		{"Friday before the clocks go back", at(2026, 10, 23, 9, 0), at(2026, 10, 26, 0, 0)},
		// The issue date is the day in Warsaw: 23:30 UTC on Thursday is Friday there.
		{"issued as UTC", time.Date(2026, 1, 8, 23, 30, 0, 0, time.UTC), at(2026, 1, 12, 0, 0)},
	} {
		got := billing.OfflineDeadline(c.issued, waw)
		want := c.due.AddDate(0, 0, 1)
		require.True(t, want.Equal(got), "%s: issued %s, want %s, got %s", c.name, c.issued, want, got)
		require.Equal(t, waw, got.Location(), c.name)
		require.Zero(t, got.Hour()*60+got.Minute(), "%s: midnight in Warsaw, got %s", c.name, got)
	}
}
