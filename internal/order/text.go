package order

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The customer's text ends up on invoices, in emails, in the tenant and in
// logs. It may be in any script (Polish, German, Greek, Bulgarian Cyrillic,
// Hebrew, Arabic...) and hold emoji: the PDF prints a character its font has
// no glyph for as a visible substitute (internal/document). What it may not
// hold is a character that is not text but an instruction to whatever shows
// it: controls (ESC, DEL, C1), line and paragraph separators, the
// bidirectional overrides, embeddings and isolates that make "exe.pdf" of
// "fdp.exe", zero-width and other format characters that hide text (Unicode
// tags smuggle whole invisible ASCII strings), private-use code points and
// noncharacters.

// unprintable is the first character of s that must not be stored, and
// whether there is one. s is valid UTF-8 (Validate checks that first).
func unprintable(s string) (rune, bool) {
	for _, r := range s {
		switch {
		case r == '\u200c' || r == '\u200d':
			// Zero-width non-joiner and joiner are spelling in Persian and
			// the Indic scripts, and join emoji sequences (👩‍💻).
		// Cc: C0, DEL, C1. Cf: the bidi controls (U+061C, U+200E/F,
		// U+202A-202E, U+2066-2069), U+200B, U+2060, U+FEFF, U+00AD, tags.
		// Zl, Zp: U+2028, U+2029. Co: private use. Then the noncharacters.
		case unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co),
			r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe:
			return r, true
		}
	}
	return 0, false
}

func unprintableErr(field string, r rune) *FieldError {
	return fieldErr(field, "invalid", "%s must not contain control, bidirectional or other invisible formatting characters (found U+%04X)", field, r)
}

// nfc composes a letter and its combining marks into one character where
// Unicode has one ("e\u0301" is "é"), so that the same name typed on two
// systems is the same order and prints with the font's own glyph.
func nfc(s string) string { return norm.NFC.String(s) }

var (
	// dot-atom local part (RFC 5322 3.2.3); no quoted strings, no comments.
	emailLocalRe = regexp.MustCompile("^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
	// a DNS label: letters, digits, hyphens, not first or last; up to 63.
	domainLabelRe = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$`)
	tldRe         = regexp.MustCompile(`^[A-Za-z]{2,63}$`)
)

// validEmail tells whether addr is an address mail can be delivered to on
// the internet: a dot-atom local part of at most 64 characters, a domain of
// at least two labels ending in a TLD of letters, at most 254 in all. IP
// literals (j@[127.0.0.1]), quoted local parts and single-label hosts are
// refused: no shop customer has one, and each is a way to aim our mail at
// an internal host.
func validEmail(addr string) error {
	if len(addr) > 254 {
		return fmt.Errorf("is longer than 254 characters")
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return fmt.Errorf("has no @")
	}
	local, domain := addr[:at], addr[at+1:]
	if len(local) == 0 || len(local) > 64 {
		return fmt.Errorf("must have 1 to 64 characters before the @")
	}
	if !emailLocalRe.MatchString(local) {
		return fmt.Errorf("must have letters, digits, dots or !#$%%&'*+/=?^_`{|}~- before the @, with no quotes, spaces or two dots in a row")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return fmt.Errorf("must have a domain of at least two labels such as acme.pl")
	}
	for _, l := range labels {
		if !domainLabelRe.MatchString(l) {
			return fmt.Errorf("must have a domain of letters, digits and hyphens, each label 1 to 63 characters and not beginning or ending with a hyphen (no IP addresses)")
		}
	}
	if !tldRe.MatchString(labels[len(labels)-1]) {
		return fmt.Errorf("must end in a top-level domain of letters such as .pl")
	}
	return nil
}

// reservedPrefixes are domain prefixes no customer may take: a tenant at
// admin.onmicrosoft.com, microsoft.onmicrosoft.com or support.onmicrosoft.com
// could send mail that passes for Microsoft's or ours, and the names RFC 2142
// reserves for mailboxes (postmaster, abuse...) or that name hosts (www,
// localhost) mislead the same way. Keep it short: every entry is a word some
// customer cannot have. An all-digit prefix ("123") is refused as well, as it
// reads as a number, not a name.
var reservedPrefixes = map[string]bool{
	"admin": true, "administrator": true, "root": true,
	"microsoft": true, "office": true, "office365": true, "outlook": true,
	"www": true, "localhost": true,
	"support": true, "billing": true, "test": true,
	"postmaster": true, "hostmaster": true, "webmaster": true, "abuse": true,
}

// ReservedPrefix tells whether a (lower-case) domain prefix is refused.
func ReservedPrefix(p string) bool {
	return reservedPrefixes[p] || (p != "" && strings.Trim(p, "0123456789") == "")
}
