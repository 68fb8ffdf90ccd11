package billing

import "time"

// OfflineDeadline is when an invoice issued in offline24 mode must be in
// KSeF by (art. 106nda ustawy o VAT, tryby-offline.md): by the end of the
// first working day after its issue date, so the instant that day ends, the
// midnight that starts the next one, in loc (Europe/Warsaw: the law's days
// are Polish calendar days). The issue date is issued's day in loc.
//
// A failure of KSeF announced meanwhile moves the deadline (seven working
// days from its end); that is not known at issue, so it is not here.
func OfflineDeadline(issued time.Time, loc *time.Location) time.Time {
	y, m, d := issued.In(loc).Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, loc)
	for {
		// AddDate, not Add(24h): a day is 23 or 25 hours when the clocks move.
		day = day.AddDate(0, 0, 1)
		if working(day) {
			return day.AddDate(0, 0, 1)
		}
	}
}

// working reports whether day is a working day: not a Saturday, a Sunday
// or a Polish public holiday (ustawa o dniach wolnych od pracy).
func working(day time.Time) bool {
	if wd := day.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	return !holiday(day)
}

// holiday reports whether day is a Polish public holiday. Those that fall
// on a Sunday whatever the year (Easter Sunday, Pentecost) are not listed.
func holiday(day time.Time) bool {
	y, m, d := day.Date()
	switch {
	case m == time.January && (d == 1 || d == 6),
		m == time.May && (d == 1 || d == 3),
		m == time.August && d == 15,
		m == time.November && (d == 1 || d == 11),
		m == time.December && (d == 25 || d == 26),
		// Wigilia is a holiday from 2025 on (the act of 6 December 2024).
		m == time.December && d == 24 && y >= 2025:
		return true
	}
	e := easter(y)
	yd := day.YearDay()
	return yd == e.AddDate(0, 0, 1).YearDay() || // Easter Monday
		yd == e.AddDate(0, 0, 60).YearDay() // Corpus Christi
}

// easter is Easter Sunday of year y in the Gregorian calendar, by the
// anonymous algorithm (Meeus, Jones, Butcher).
func easter(y int) time.Time {
	a := y % 19
	b, c := y/100, y%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(y, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}
