// Package money keeps amounts as integer grosze (1/100 PLN) so that no float
// ever touches an invoice.
package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Grosze is an amount in hundredths of the currency unit.
type Grosze int64

// VATRate is the Polish standard rate, in percent.
const VATRate = 23

// VAT is the tax on a net amount at VATRate, rounded half up to the grosz.
func VAT(net Grosze) Grosze {
	return Grosze((int64(net)*VATRate + 50) / 100)
}

// String renders "1234.50"; a negative amount keeps its sign.
func (g Grosze) String() string {
	sign := ""
	v := int64(g)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// ErrFormat is returned for anything that is not a plain decimal amount.
var ErrFormat = errors.New(`amount must be a decimal such as "123.00"`)

// Parse reads "123", "123.4" or "123.45"; no sign, no exponent, no more than
// two decimals, so that "123.001" is refused rather than rounded.
func Parse(s string) (Grosze, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(whole) > 15 || (hasFrac && (frac == "" || len(frac) > 2)) {
		return 0, ErrFormat
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, ErrFormat
		}
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, ErrFormat
	}
	var f int64
	if hasFrac {
		if len(frac) == 1 {
			frac += "0"
		}
		f, _ = strconv.ParseInt(frac, 10, 64)
	}
	return Grosze(w*100 + f), nil
}

// Local renders the amount as a reader of lang expects: Polish writes
// "1 234,50", English "1,234.50".
func (g Grosze) Local(lang string) string {
	s := g.String()
	sign := ""
	if s[0] == '-' {
		sign, s = "-", s[1:]
	}
	whole, frac, _ := strings.Cut(s, ".")
	group, point := ",", "."
	if lang != "en" {
		group, point = "\u00a0", ","
	}
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(group)
		}
		b.WriteRune(r)
	}
	return sign + b.String() + point + frac
}

// MarshalText writes the amount as String does, so that in JSON (workflow
// payloads, recorded histories) an amount stays the string "332.10".
func (g Grosze) MarshalText() ([]byte, error) { return []byte(g.String()), nil }

// UnmarshalText reads what MarshalText wrote, a leading '-' included.
func (g *Grosze) UnmarshalText(b []byte) error {
	s, neg := strings.CutPrefix(string(b), "-")
	v, err := Parse(s)
	if err != nil {
		return err
	}
	if neg {
		v = -v
	}
	*g = v
	return nil
}
