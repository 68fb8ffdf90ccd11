package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/officeflow/officeflow/activities"
	"github.com/officeflow/officeflow/internal/fail"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Microsoft's new-commerce rule: seats can be given back (and a
// subscription cancelled) only within 168 hours of the purchase or renewal
// that brought them; after that the reseller pays for them until the term
// ends. The subscription workflow keeps the open windows as durable state
// and timers, so the decision follows workflow time, not a clock somewhere.
const (
	CancelWindow = 168 * time.Hour
	// CancelWindowReminder: this long before a window closes, a customer
	// with unassigned seats is told they can still give them back.
	CancelWindowReminder = 24 * time.Hour

	// UpdateReduceSeats lowers the seats of a subscription, within a window.
	UpdateReduceSeats = "reduce_seats"
	// QueryWindow answers until when seats can be given back (SeatWindow,
	// zero Ends when no window is open).
	QueryWindow = "window"
	// SignalSeatsBought tells the subscription that seats were bought
	// mid-term: they open a window of their own.
	SignalSeatsBought = "seats_bought"

	cancelWindowVersion = "cancel-window"
)

// SeatWindow is one purchase's or renewal's 168 hours.
type SeatWindow struct {
	Ends time.Time
	// Seats that can be given back in it; 0 for a purchase or renewal of
	// the whole subscription, whose every seat can.
	Seats    int `json:",omitempty"`
	Reminded bool
}

// SeatsBought is the signal a paid purchase of more seats sends.
type SeatsBought struct {
	ChargeID string
	Seats    int
}

// windows is a run's seat windows, the reminders' loop and the reduce_seats
// update. Windows are appended in the order they close.
type windows struct {
	on   bool // the run records windows (cancel-window version 1)
	list []SeatWindow
	more workflow.Channel // a window was appended
	// done: request ids reduced in this run, so that a repeat does not
	// take seats from a window twice.
	done []string
}

// openWindows starts a run's windows: those carried from the previous run
// that are still open, and one for the whole subscription, which the run's
// purchase or renewal opened. A renewal paid late opens its window when it
// is paid, not at the period's start that already passed.
func (s *subscription) openWindows(ctx workflow.Context) error {
	w := &s.windows
	w.more = workflow.NewBufferedChannel(ctx, 1)
	w.on = s.in.HasWindows || workflow.GetVersion(ctx, cancelWindowVersion, workflow.DefaultVersion, 1) == 1
	// Registered last: an update that came with the run's first task is
	// validated as the handler is registered, against the windows.
	register := func() error {
		return workflow.SetUpdateHandlerWithOptions(ctx, UpdateReduceSeats, s.reduceSeats,
			workflow.UpdateHandlerOptions{Validator: s.validReduction})
	}
	if !w.on {
		// A run from before the windows: seats are lowered at any time,
		// as they were; its next period has windows.
		return register()
	}
	now := workflow.Now(ctx)
	w.list = stillOpen(s.in.Windows, now)
	// The first run's window runs from the purchase; a renewal's from the
	// period's start, or from its payment when that came later.
	start := s.in.PeriodStart
	if start.IsZero() || s.in.Period > 1 && now.After(start) {
		start = now
	}
	if (s.in.Period-1)%max(s.in.TermPeriods, 1) == 0 {
		// The run begins a term: its purchase or its renewal.
		w.add(SeatWindow{Ends: start.Add(CancelWindow)})
	}
	workflow.Go(ctx, s.remindWindows)
	bought := workflow.GetSignalChannel(ctx, SignalSeatsBought)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var b SeatsBought
			bought.Receive(ctx, &b)
			if b.Seats > 0 {
				w.add(SeatWindow{Ends: workflow.Now(ctx).Add(CancelWindow), Seats: b.Seats})
			}
		}
	})
	if err := workflow.SetQueryHandler(ctx, QueryWindow, func() (SeatWindow, error) { return s.openWindow(workflow.Now(ctx)), nil }); err != nil {
		return err
	}
	return register()
}

// openWindow is the open window that closes last, with the seats the open
// windows take back (0: every seat).
func (s *subscription) openWindow(now time.Time) SeatWindow {
	var out SeatWindow
	all := false
	for _, x := range s.windows.list {
		if !x.Ends.After(now) {
			continue
		}
		all = all || x.Seats == 0
		out.Seats += x.Seats
		if x.Ends.After(out.Ends) {
			out.Ends = x.Ends
		}
	}
	if all {
		out.Seats = 0
	}
	return out
}

func (s *subscription) validReduction(ctx workflow.Context, r activities.Reduction) error {
	w := &s.windows
	switch {
	case s.ended:
		return errors.New("the subscription has ended")
	case r.Change >= 0:
		return errors.New("a reduction lowers seats: change must be negative")
	case !w.on || slices.Contains(w.done, r.ChargeID):
		return nil
	}
	return w.allows(workflow.Now(ctx), -r.Change)
}

func (w *windows) add(x SeatWindow) {
	w.list = append(w.list, x)
	w.more.SendAsync(true)
}

// allows refuses a reduction of n seats no open window covers, naming when
// the window closed or closes.
func (w *windows) allows(now time.Time, n int) error {
	free, last := 0, time.Time{}
	for _, x := range w.list {
		if x.Ends.After(last) {
			last = x.Ends
		}
		if !x.Ends.After(now) {
			continue
		}
		if x.Seats == 0 {
			return nil
		}
		free += x.Seats
	}
	switch {
	case free == 0 && last.IsZero():
		return temporal.NewApplicationError("seats can be given back only within 168 hours of their purchase or renewal; no such window is open", fail.CancelWindow)
	case free == 0:
		return temporal.NewApplicationError(fmt.Sprintf("seats can be given back only within 168 hours of their purchase or renewal; the window closed at %s", last.UTC().Format(time.RFC3339)), fail.CancelWindow)
	case free < n:
		return temporal.NewApplicationError(fmt.Sprintf("only %d seats bought in the last 168 hours can be given back, until %s", free, last.UTC().Format(time.RFC3339)), fail.CancelWindow)
	}
	return nil
}

// reduceSeats opens the reduction (the store checks assigned licences) and
// takes the seats from the windows that close first.
func (s *subscription) reduceSeats(ctx workflow.Context, r activities.Reduction) (AfterResult, error) {
	w := &s.windows
	if slices.Contains(w.done, r.ChargeID) {
		return AfterResult{Stage: s.stage, Seats: r.Change}, nil
	}
	var created bool
	if err := workflow.ExecuteLocalActivity(withDB(ctx, fmt.Sprintf("Reduce seats by %d", -r.Change)), a.OpenReduction, r).Get(ctx, &created); err != nil {
		return AfterResult{}, err
	}
	w.done = append(w.done, r.ChargeID)
	n, now := -r.Change, workflow.Now(ctx)
	for i := range w.list {
		x := &w.list[i]
		if !x.Ends.After(now) {
			continue
		}
		if x.Seats == 0 || !created {
			n = 0
			break
		}
		take := min(n, x.Seats)
		x.Seats -= take
		n -= take
		if x.Seats == 0 {
			// Spent: it closes now, not at 0 meaning every seat.
			x.Ends = now
		}
		if n == 0 {
			break
		}
	}
	return AfterResult{Stage: s.stage, Seats: r.Change, Reason: "within the window until " + s.openWindow(now).Ends.UTC().Format(time.RFC3339)}, nil
}

// remindWindows tells the customer, a day before each window closes, that
// unassigned seats can still be given back; all assigned, nothing is sent.
func (s *subscription) remindWindows(ctx workflow.Context) {
	w := &s.windows
	for i := 0; ; i++ {
		for len(w.list) <= i {
			w.more.Receive(ctx, nil)
		}
		x := w.list[i]
		at := x.Ends.Add(-CancelWindowReminder)
		if x.Reminded || !x.Ends.After(workflow.Now(ctx)) {
			continue
		}
		if err := workflow.Sleep(ctx, max(at.Sub(workflow.Now(ctx)), 0)); err != nil {
			return
		}
		if s.ended {
			return
		}
		if !w.list[i].Ends.After(workflow.Now(ctx)) {
			continue // spent meanwhile
		}
		w.list[i].Reminded = true
		var free int
		if err := workflow.ExecuteLocalActivity(withDB(ctx, "Unassigned seats"), a.FreeSeats, s.in.OrderID).Get(ctx, &free); err != nil {
			workflow.GetLogger(ctx).Warn("unassigned seats not counted", "Error", err)
			continue
		}
		if free == 0 {
			continue
		}
		n := activities.Notice{OrderID: s.in.OrderID, Kind: activities.EmailSeatsWindow,
			Key: fmt.Sprintf("%s:%d:%d", activities.EmailSeatsWindow, s.in.Period, i), Until: x.Ends}
		if err := notify(ctx, n); err != nil {
			workflow.GetLogger(ctx).Warn("window reminder not sent", "Error", err)
		}
	}
}

// stillOpen is the windows of list that have not closed by now: what a
// run keeps of the previous run's, and what it hands to the next.
func stillOpen(list []SeatWindow, now time.Time) []SeatWindow {
	var out []SeatWindow
	for _, x := range list {
		if x.Ends.After(now) {
			out = append(out, x)
		}
	}
	return out
}
