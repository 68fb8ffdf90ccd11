package order

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// DefaultReminders: a day after placement and a day before the deadline.
const DefaultReminders = "24h,-24h"

// ParseReminders reads PAYMENT_REMINDERS: comma-separated offsets, a positive
// one counted from placement, a negative one back from the deadline. An
// empty string means no reminders.
func ParseReminders(s string) ([]time.Duration, error) {
	var out []time.Duration
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		d, err := time.ParseDuration(part)
		if err != nil || d == 0 {
			return nil, fmt.Errorf("%q is not a non-zero duration such as 24h or -24h", part)
		}
		out = append(out, d)
	}
	return out, nil
}

// ReminderTimes turns offsets into the times an order's reminders go out,
// earliest first. A reminder that would fall outside the waiting time, or
// within an hour of another, is dropped: the customer gets no pointless
// or doubled mail when the deadline is short.
func ReminderTimes(placed, deadline time.Time, offsets []time.Duration) []time.Time {
	var at []time.Time
	for _, d := range offsets {
		t := placed.Add(d)
		if d < 0 {
			t = deadline.Add(d)
		}
		if t.After(placed) && t.Before(deadline) {
			at = append(at, t.UTC())
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	out := at[:0]
	for _, t := range at {
		if len(out) == 0 || t.Sub(out[len(out)-1]) >= time.Hour {
			out = append(out, t)
		}
	}
	return out
}
