package money

import (
	"fmt"
	"strings"
)

// Polish invoices state the amount due in words ("słownie"): the złoty in
// words, the grosze as a fraction of 100, e.g. "trzysta trzydzieści dwa
// złote 10/100".

var (
	units    = [...]string{"", "jeden", "dwa", "trzy", "cztery", "pięć", "sześć", "siedem", "osiem", "dziewięć"}
	teens    = [...]string{"dziesięć", "jedenaście", "dwanaście", "trzynaście", "czternaście", "piętnaście", "szesnaście", "siedemnaście", "osiemnaście", "dziewiętnaście"}
	tens     = [...]string{"", "", "dwadzieścia", "trzydzieści", "czterdzieści", "pięćdziesiąt", "sześćdziesiąt", "siedemdziesiąt", "osiemdziesiąt", "dziewięćdziesiąt"}
	hundreds = [...]string{"", "sto", "dwieście", "trzysta", "czterysta", "pięćset", "sześćset", "siedemset", "osiemset", "dziewięćset"}
	// Singular, the form after 2-4 (but 12-14), and the form for the rest.
	groups = [...][3]string{
		{"", "", ""},
		{"tysiąc", "tysiące", "tysięcy"},
		{"milion", "miliony", "milionów"},
		{"miliard", "miliardy", "miliardów"},
	}
	zloty = [3]string{"złoty", "złote", "złotych"}
)

// plural picks the form of a noun after n.
func plural(n int64, forms [3]string) string {
	switch {
	case n == 1:
		return forms[0]
	case n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		return forms[1]
	default:
		return forms[2]
	}
}

// below1000 spells 1..999.
func below1000(n int64) []string {
	var w []string
	if h := n / 100; h > 0 {
		w = append(w, hundreds[h])
	}
	switch r := n % 100; {
	case r >= 10 && r < 20:
		w = append(w, teens[r-10])
	default:
		if r/10 > 0 {
			w = append(w, tens[r/10])
		}
		if r%10 > 0 {
			w = append(w, units[r%10])
		}
	}
	return w
}

// Words spells an amount in PLN as a Polish invoice states it.
func (g Grosze) Words() string {
	neg := g < 0
	if neg {
		g = -g
	}
	zl, gr := int64(g)/100, int64(g)%100
	var w []string
	if zl == 0 {
		w = append(w, "zero")
	}
	for i := len(groups) - 1; i >= 0; i-- {
		div := int64(1)
		for range i {
			div *= 1000
		}
		part := zl / div % 1000
		if part == 0 {
			continue
		}
		if i > 0 && part == 1 {
			// "tysiąc", not "jeden tysiąc".
			w = append(w, groups[i][0])
			continue
		}
		w = append(w, below1000(part)...)
		if i > 0 {
			w = append(w, plural(part, groups[i]))
		}
	}
	w = append(w, plural(zl, zloty), fmt.Sprintf("%02d/100", gr))
	if neg {
		w = append([]string{"minus"}, w...)
	}
	return strings.Join(w, " ")
}
